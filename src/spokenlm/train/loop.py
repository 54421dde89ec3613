"""The one training loop: steps, accumulation, precision, clipping, schedules, logging, checkpoints, resume, DDP/FSDP.

    summary = Loop(task, out_dir).fit()

Every family is a :class:`~spokenlm.train.task.Task` (the LM, the codec and mixed tokenizers,
HuBERT pre-training, the phone tokenizer, the vocoders); this module is the only place that
calls ``backward``.

Exact resume: a checkpoint holds every module and optimizer, every rank's RNG, the task's
generators and the step, and the data of step ``s`` depends only on ``s`` and those states, so a
run killed at any point (SIGKILL included) and restarted reproduces the uninterrupted run's losses.

Distribution: under ``torchrun`` each rank takes its share of every step's global batch
(``optim.batch_size`` items split into ``world × grad_accum`` micro-batches), so for the same
global batch the losses equal a single process's up to the order of float additions.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from spokenlm.atomic import atomic_write_json
from spokenlm.config import save_config, to_dict
from spokenlm.errors import ConfigError, SpokenLMError
from spokenlm.perf import configure_cpu_allocator, configure_cpu_threads, peak_flops, resolve_device, uses_bf16
from spokenlm.train import distributed
from spokenlm.train.checkpoints import MAIN, latest_checkpoint, load_checkpoint, save_checkpoint
from spokenlm.train.config import OptimConfig
from spokenlm.train.metrics import MetricsLog
from spokenlm.train.schedule import learning_rate
from spokenlm.train.task import LoopContext, Phase, Task

CHECKPOINTS = "checkpoints"


def make_optimizer(module: nn.Module, optim: OptimConfig) -> torch.optim.AdamW:
    """AdamW over ``module``'s parameters; with ``decay_matrices_only``, norms, biases and scalars are not decayed."""
    params = list(module.parameters())
    if optim.decay_matrices_only:
        groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": optim.weight_decay},
                  {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    else:
        groups = [{"params": params, "weight_decay": optim.weight_decay}]
    return torch.optim.AdamW(groups, lr=optim.lr, betas=(optim.beta1, optim.beta2), eps=optim.eps)


def _scalar(value: torch.Tensor | float) -> float:
    if isinstance(value, torch.Tensor):
        value = value.detach()
        value = value.full_tensor() if hasattr(value, "full_tensor") else value
        return float(value)
    return float(value)


class Loop:
    """Runs a task to ``config.optim.max_steps``: call :meth:`fit`. Resumes from ``out_dir/checkpoints/latest`` when present."""

    def __init__(self, task: Task, out_dir: str | Path) -> None:
        c = task.config
        self.task = task
        self.out_dir = Path(out_dir)
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise SpokenLMError(f"{self.out_dir}: cannot create the run folder ({err.strerror or err})") from err
        self.device = resolve_device(c.device)
        if self.device.type == "cpu":
            configure_cpu_allocator()
            if c.threads > 0:
                torch.set_num_threads(c.threads)
            else:
                configure_cpu_threads()
        self.dist = distributed.setup(c.distributed, self.device.type)
        o, world = c.optim, self.dist.world_size
        if o.batch_size % (world * o.grad_accum):
            raise ConfigError(f"optim.batch_size={o.batch_size} is not divisible by world_size×grad_accum={world * o.grad_accum}")
        self.micro = o.batch_size // (world * o.grad_accum)
        task.ctx = LoopContext(self.device, c.precision, self.dist, self.out_dir, self.micro)
        task.load(task.ctx)
        torch.manual_seed(c.seed)
        task.build(task.ctx)
        self.phases: list[Phase] = task.phases()
        if sorted(p.name for p in self.phases) != sorted(task.modules) or MAIN not in task.modules:
            raise ConfigError(f"task {type(task).__name__}: phases {[p.name for p in self.phases]} must name its modules {sorted(task.modules)}, '{MAIN}' among them")
        self.wrapped = {name: distributed.wrap(module.to(self.device), self.dist, task.shard_units(name)) for name, module in task.modules.items()}
        task.train_modules = {name: torch.compile(m) if c.compile and name == MAIN else m for name, m in self.wrapped.items()}
        self.optimizers = {p.name: make_optimizer(self.wrapped[p.name], p.optim) for p in self.phases}
        self.step = 0
        self.items_seen: float = 0
        seed = task.training_seed(self.dist.rank)
        if seed is not None:
            torch.manual_seed(seed)
        self._resume()
        if self.dist.is_main:
            save_config(c, self.out_dir)
            item = task.item_name
            columns = (*task.metric_names, *(p.name for p in self.phases if p.name != MAIN), "lr", "grad_norm", f"{item}_per_s", f"{item}_seen", "mfu")
            self.log = MetricsLog(self.out_dir, self.step, c.tensorboard, c.wandb, to_dict(c), columns)

    # ------------------------------------------------------------ checkpoints
    def _resume(self) -> None:
        latest = latest_checkpoint(self.out_dir / CHECKPOINTS)
        if latest is None:
            return
        modules, optimizers, rng, trainer = load_checkpoint(latest)
        for name, module in self.wrapped.items():
            distributed.load_full_state(module, self.optimizers[name], self.task.import_state(name, modules[name]), optimizers[name])
        distributed.restore_rng(rng, self.dist)
        for name, generator in self.task.generators.items():
            generator.set_state(rng[f"generator.{name}"])
        self.step, self.items_seen = int(trainer["step"]), trainer["items_seen"]

    def _full_states(self) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, dict[str, Any]]]:
        modules, optimizers = {}, {}
        for name, module in self.wrapped.items():
            modules[name], optimizers[name] = distributed.full_state(module, self.optimizers[name])
        return modules, optimizers

    def _save(self) -> None:
        modules, optimizers = self._full_states()
        rng = distributed.gather_rng(self.dist)
        if not self.dist.is_main:
            return
        rng.update({f"generator.{name}": g.get_state() for name, g in self.task.generators.items()})
        exported = {name: self.task.export_state(name, state) for name, state in modules.items()}
        save_checkpoint(self.out_dir / CHECKPOINTS, self.step, exported, optimizers, rng, {"items_seen": self.items_seen},
                        self.task.checkpoint_config(), self.task.config.keep_checkpoints)

    # ------------------------------------------------------------------ steps
    def _positions(self, accum: int) -> list[int]:
        """Indices into the step's global batch of micro-batch ``accum`` of this rank."""
        start = accum * self.dist.world_size * self.micro + self.dist.rank * self.micro
        return list(range(start, start + self.micro))

    def _no_sync(self, last: bool) -> contextlib.ExitStack:
        """Skip DDP's gradient all-reduce on every micro-batch but the last."""
        stack = contextlib.ExitStack()
        if not last and self.dist.mode == "ddp":
            for module in self.wrapped.values():
                stack.enter_context(module.no_sync())
        return stack

    def _train_step(self) -> dict[str, Any]:
        """One optimizer step of every active phase; returns this rank's loss, metrics and grad norm tensors."""
        step, accum = self.step, self.task.config.optim.grad_accum
        self.task.draw(step)
        batches = [self.task.batch(step, self._positions(a)) for a in range(accum)]
        scratch = [{} for _ in range(accum)]
        record: dict[str, Any] = {}
        for phase in self.phases:
            if step < phase.start_step:
                continue
            optimizer = self.optimizers[phase.name]
            lr = learning_rate(step, phase.optim)
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.zero_grad(set_to_none=True)
            total = torch.zeros((), device=self.device)
            for a, batch in enumerate(batches):
                if accum > 1:
                    scratch[a] = {}
                with self._no_sync(a == accum - 1):
                    loss, metrics = self.task.loss(phase.name, batch, scratch[a])
                    (loss / accum).backward()
                total += loss.detach() / accum
                for key, value in metrics.items():
                    record[key] = record.get(key, 0.0) + _scalar(value) / accum
            clip = phase.optim.grad_clip if phase.optim.grad_clip > 0 else float("inf")
            grad_norm = torch.nn.utils.clip_grad_norm_(self.wrapped[phase.name].parameters(), clip)
            optimizer.step()
            record["loss" if phase.name == MAIN else phase.name] = total
            if phase.name == MAIN:
                record["lr"], record["grad_norm"] = lr, grad_norm
        return record

    def _reduce(self, record: dict[str, Any]) -> dict[str, float]:
        """Losses and metrics averaged over ranks (one collective)."""
        keys = [k for k in record if k not in ("lr", "grad_norm")]
        values = torch.tensor([_scalar(record[k]) for k in keys], dtype=torch.float64, device=self.device)
        values = distributed.mean_across(values, self.dist)
        reduced = dict(zip(keys, values.tolist()))
        reduced["lr"], reduced["grad_norm"] = record["lr"], _scalar(record["grad_norm"])
        return reduced

    @torch.no_grad()
    def evaluate(self) -> float | None:
        """The task's validation loss, averaged over ranks (``None`` without validation data)."""
        for module in self.wrapped.values():
            module.eval()
        loss = self.task.evaluate()
        for module in self.wrapped.values():
            module.train()
        if loss is None:
            return None
        return float(distributed.mean_across(torch.tensor(loss, dtype=torch.float64, device=self.device), self.dist))

    # -------------------------------------------------------------------- run
    def fit(self) -> dict[str, Any]:
        """Train to ``optim.max_steps`` (from the latest checkpoint); returns the summary (also ``out_dir/summary.json``)."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        c, o, task = self.task.config, self.task.config.optim, self.task
        item = task.item_name
        per_step = task.items_per_step()
        flops = task.flops_per_item()
        peak = peak_flops(self.device, torch.bfloat16 if uses_bf16(c.precision, self.device) else torch.float32) * self.dist.world_size
        progress = Progress(TextColumn(f"[bold]{type(task).__name__}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                            TimeRemainingColumn(), disable=not self.dist.is_main)
        val_loss = None
        with progress:
            bar = progress.add_task("train", total=o.max_steps, completed=self.step, info="")
            window_start, window_steps = time.perf_counter(), 0
            for module in self.wrapped.values():
                module.train()
            while self.step < o.max_steps:
                record = self._train_step()
                self.step += 1
                self.items_seen += per_step
                window_steps += 1
                if self.step % c.log_every == 0 or self.step == o.max_steps:
                    speed = window_steps * per_step / (time.perf_counter() - window_start)
                    logged = {"step": self.step, "split": "train", **self._reduce(record), f"{item}_per_s": speed, f"{item}_seen": self.items_seen}
                    if flops and peak:
                        logged["mfu"] = speed * flops / peak
                    if self.dist.is_main:
                        self.log.log(logged)
                    progress.update(bar, info=f"loss {logged['loss']:.3f} · {speed:,.1f} {item}/s")
                    window_start, window_steps = time.perf_counter(), 0
                if c.eval_every and (self.step % c.eval_every == 0 or self.step == o.max_steps):
                    val_loss = self.evaluate()
                    if val_loss is not None and self.dist.is_main:
                        self.log.log({"step": self.step, "split": "val", "loss": val_loss, f"{item}_seen": self.items_seen})
                if c.save_every and (self.step % c.save_every == 0 or self.step == o.max_steps):
                    self._save()
                progress.update(bar, completed=self.step)
        if val_loss is None:
            val_loss = self.evaluate()
        return self._finish(val_loss)

    def _finish(self, val_loss: float | None) -> dict[str, Any]:
        states, _ = self._full_states()
        summary: dict[str, Any] = {}
        if self.dist.is_main:
            for module in self.task.modules.values():
                module.eval()
            summary = {"steps": self.step, f"{self.task.item_name}_seen": self.items_seen, "val_loss": val_loss,
                       **self.task.finish(states, val_loss, self.step)}
            atomic_write_json(self.out_dir / "summary.json", summary)
            self.log.close()
        distributed.teardown(self.dist)
        return summary
