"""What a family brings to the training loop: a :class:`Task` (model, batches, losses, metrics, the finished artifact).

The loop (:mod:`spokenlm.train.loop`) owns everything else: steps, gradient accumulation,
precision, clipping, schedules, optimizers, logging, checkpoints, resume and distribution.

One optimizer step of a task runs its *phases* in order, one per optimizer: a GAN declares
``discriminator`` first (from ``start_step`` on) and then ``model``; every other task has the
single phase ``model``. For each phase the loop zeroes its gradients, runs every micro-batch
through :meth:`Task.loss`, clips and steps. A ``scratch`` dict per micro-batch carries what one
phase computed to the next (a generator's output, reused by the generator phase after the
discriminator phase has stepped); it lives through all phases of a step when ``grad_accum == 1``
and is fresh for every phase otherwise, so a task must be able to recompute what it finds missing.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from spokenlm.perf import autocast
from spokenlm.train.checkpoints import MAIN
from spokenlm.train.config import LoopConfig, OptimConfig
from spokenlm.train.distributed import DistInfo

Metrics = dict[str, torch.Tensor | float]


@dataclass
class Phase:
    """One optimizer of a task: it updates ``modules[name]`` with ``optim`` from step ``start_step`` on."""

    name: str
    optim: OptimConfig
    start_step: int = 0


@dataclass
class LoopContext:
    """What the loop tells a task: where it runs and how.

    Attributes:
        device: where modules and batches live.
        precision: the requested ``auto`` / ``fp32`` / ``bf16`` (see :meth:`autocast`).
        dist: this process's rank and the world size.
        out_dir: the run folder.
        micro_batch: items per micro-batch on this rank (``batch_size / (world × grad_accum)``).
    """

    device: torch.device
    precision: str
    dist: DistInfo
    out_dir: Path
    micro_batch: int

    def autocast(self) -> contextlib.AbstractContextManager:
        """bf16 autocast where ``precision`` asks for it on this device, else a no-op; wrap the networks' forward in it."""
        return autocast(self.precision, self.device)


class Task(ABC):
    """A family's training recipe on the loop. Subclasses set :attr:`config`, load data in :meth:`load` and build :attr:`modules` in :meth:`build`.

    Attributes:
        config: the task's :class:`LoopConfig` subclass.
        modules: trainable modules by name; ``"model"`` is the main one (its phase's loss is logged as ``loss``).
        train_modules: the same modules as the loop runs them (DDP-wrapped, compiled); call these in :meth:`loss`.
        generators: torch generators whose state a checkpoint keeps (random crops …).
        item_name: what :meth:`items_per_step` counts, for ``<item>_per_s`` and ``<item>_seen`` in the metrics.
        metric_names: the task's metrics, as CSV columns.
        artifact: what :meth:`finish` saved (a tokenizer, a vocoder …); ``None`` on ranks other than the main one.
    """

    config: LoopConfig
    item_name: str = "items"
    metric_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.artifact: Any = None
        self.modules: dict[str, nn.Module] = {}
        self.train_modules: dict[str, nn.Module] = {}
        self.generators: dict[str, torch.Generator] = {}
        self.ctx: LoopContext | None = None

    # ---------------------------------------------------------------- building
    def load(self, ctx: LoopContext) -> None:
        """Load the training data (before the loop seeds torch, so what loading draws never changes the initialisation)."""

    @abstractmethod
    def build(self, ctx: LoopContext) -> None:
        """Build :attr:`modules` on ``ctx.device``, right after the loop has seeded torch with ``config.seed``."""

    def phases(self) -> list[Phase]:
        """The optimizers, in the order they step (default: one, ``model``, with ``config.optim``)."""
        return [Phase(MAIN, self.config.optim)]

    def training_seed(self, rank: int) -> int | None:
        """Seed torch's global generator after building the modules (``None``: continue the init stream).

        Rank 0 continues by default, so a single-process run draws exactly as before; other ranks get streams of their own.
        """
        return None if rank == 0 else self.config.seed + 1000 * rank

    def shard_units(self, name: str) -> list[nn.Module]:
        """Submodules of ``modules[name]`` FSDP shards on their own (transformer blocks); the root is always sharded."""
        return []

    # ------------------------------------------------------------------ a step
    def items_per_step(self) -> float:
        """Items (tokens, crops …) one optimizer step consumes over all ranks."""
        return float(self.config.optim.batch_size)

    def flops_per_item(self) -> float | None:
        """Model FLOPs per item, for the MFU column (``None``: not logged)."""
        return None

    def draw(self, step: int) -> None:
        """Draw the randomness of ``step`` once, before its micro-batches (the same on every rank)."""

    @abstractmethod
    def batch(self, step: int, positions: list[int]) -> Any:
        """The items ``positions`` (indices into the step's global batch, ``0 … batch_size - 1``) of ``step``, on ``ctx.device``."""

    @abstractmethod
    def loss(self, phase: str, batch: Any, scratch: dict[str, Any]) -> tuple[torch.Tensor, Metrics]:
        """(scalar loss to minimise for ``phase``, metrics to log) of one micro-batch."""

    def evaluate(self) -> float | None:
        """Validation loss over this rank's share (the loop averages over ranks), or ``None`` without validation data."""
        return None

    # ------------------------------------------------------------ checkpoints
    def checkpoint_config(self) -> dict[str, Any] | None:
        """``config.json`` of the model in each checkpoint (so a checkpoint loads like the finished artifact)."""
        return None

    def export_state(self, name: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The state of ``modules[name]`` as written to a checkpoint (drop tied weights …)."""
        return state

    def import_state(self, name: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Inverse of :meth:`export_state`, when resuming."""
        return state

    @abstractmethod
    def finish(self, states: dict[str, dict[str, torch.Tensor]], val_loss: float | None, steps: int) -> dict[str, Any]:
        """Save the trained artifact from the full module ``states`` and keep it in :attr:`artifact` (main rank only); return the run's summary."""
