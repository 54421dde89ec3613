"""The settings every training task shares: the optimizer and its schedule, and how the loop runs.

Every task config (:mod:`spokenlm.train.tasks`) extends :class:`LoopConfig`, so the same keys
mean the same thing in every recipe: ``optim.lr``, ``optim.max_steps``, ``optim.batch_size``,
``device``, ``precision``, ``save_every`` …
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass
class OptimConfig:
    """AdamW and its learning-rate schedule (step ``s`` counts optimizer steps from 0).

    Attributes:
        lr: peak learning rate.
        schedule: ``cosine`` (linear warmup over ``warmup_steps``, then cosine decay to
            ``min_lr_ratio · lr`` at ``max_steps``), ``cosine-to-floor`` (the same, reaching the
            floor at the last step; see :mod:`spokenlm.train.schedule`), ``constant`` (after the
            warmup) or ``exponential`` (after the warmup, ``lr · lr_decay^s``, HiFi-GAN's).
        warmup_steps: steps of linear warmup from ``lr / warmup_steps`` to ``lr``.
        min_lr_ratio: floor of the cosine schedule, as a share of ``lr``.
        lr_decay: per-step factor of the exponential schedule.
        max_steps: optimizer steps in total.
        batch_size: the global batch per optimizer step (windows or crops), split over
            ``world_size × grad_accum`` micro-batches.
        grad_accum: micro-batches accumulated per step.
        weight_decay: decoupled (AdamW) weight decay.
        decay_matrices_only: decay only parameters with ≥ 2 dimensions (not norms, biases, scalars).
        beta1 / beta2 / eps: AdamW's moment decays and epsilon.
        grad_clip: clip the gradient norm to this (0 = no clipping; the norm is logged either way).
    """

    lr: float = 3e-4
    schedule: Literal["cosine", "cosine-to-floor", "constant", "exponential"] = "cosine"
    warmup_steps: int = 100
    min_lr_ratio: float = 0.1
    lr_decay: float = 1.0
    max_steps: int = 1000
    batch_size: int = 32
    grad_accum: int = 1
    weight_decay: float = 0.1
    decay_matrices_only: bool = True
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    grad_clip: float = 1.0


@dataclass
class LoopConfig:
    """How :class:`~spokenlm.train.loop.Loop` runs a task.

    Attributes:
        optim: the optimizer of the task's model (a GAN's discriminator uses the same settings).
        seed: seeds model initialisation, then the data order and every random draw of training.
        device: ``auto`` (CUDA when available), ``cpu``, ``cuda``, ``cuda:1`` …
        precision: ``auto`` = bf16 autocast on GPUs that support it and on CPUs with AMX or
            AVX-512 BF16, fp32 otherwise; ``fp32``; ``bf16``. Weights and optimizer state stay fp32,
            and each task keeps its losses in fp32.
        compile: run the model through ``torch.compile``.
        distributed: ``auto`` = DDP when launched by torchrun with WORLD_SIZE > 1; ``none``, ``ddp``, ``fsdp``.
        threads: torch CPU threads (0: as many as there are free cores, checked again at every log line).
        log_every / eval_every / save_every: in optimizer steps (0 disables eval / save).
        keep_checkpoints: how many recent checkpoints to keep.
        tensorboard / wandb: also log there (optional packages).
    """

    optim: OptimConfig = field(default_factory=OptimConfig)
    seed: int = 0
    device: str = "auto"
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    compile: bool = False
    distributed: Literal["auto", "none", "ddp", "fsdp"] = "auto"
    threads: int = 0
    log_every: int = 10
    eval_every: int = 0
    save_every: int = 200
    keep_checkpoints: int = 2
    tensorboard: bool = False
    wandb: bool = False


def betas_to_optim(value: Any) -> dict[str, Any]:
    """The old ``betas: [b1, b2]`` key → ``optim.beta1`` / ``optim.beta2``."""
    b1, b2 = value
    return {"optim.beta1": b1, "optim.beta2": b2}


# Keys of the tokenizer and vocoder trainers before they shared LoopConfig.
LOOP_RENAMES = {
    "steps": "optim.max_steps",
    "batch_size": "optim.batch_size",
    "learning_rate": "optim.lr",
    "lr_decay": "optim.lr_decay",
    "betas": betas_to_optim,
    "checkpoint_every": "save_every",
}
