"""The one trainer of every unit-LM recipe: packed shards → AdamW steps, resumable and distributed.

Exact resume: the data of step ``s`` is a pure function of ``s`` (see
:mod:`spokenlm.data.packing`), and a checkpoint holds the model, the optimizer, every
rank's RNG and the step, so a run killed at any point and restarted from its last
checkpoint reproduces the uninterrupted run's losses.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from spokenlm.atomic import atomic_write_json
from spokenlm.config import save_config, to_dict
from spokenlm.data.packing import PackedCorpus, corpus_documents, split_documents
from spokenlm.data.shards import open_token_corpus
from spokenlm.errors import ConfigError
from spokenlm.models.masks import document_mask
from spokenlm.models.unit_lm import MODEL_TYPE, UnitLM
from spokenlm.perf import autocast, configure_cpu_allocator, configure_cpu_threads, peak_flops, uses_bf16
from spokenlm.train import distributed
from spokenlm.train.config import TrainConfig
from spokenlm.train.metrics import MetricsLog
from spokenlm.train.schedule import learning_rate
from spokenlm.train.state import latest_checkpoint, load_checkpoint, save_checkpoint


@dataclass
class Batches:
    """The train and validation windows of a run."""

    train: PackedCorpus
    val: PackedCorpus | None


def build_data(config: TrainConfig, model: UnitLM) -> Batches:
    """Open the token corpora and pack them with the model's vocabulary."""
    data = config.data
    if not data.train:
        raise ConfigError("data.train is required: a token corpus folder (spokenlm tokenize output)")
    readers = open_token_corpus(data.train)
    documents = corpus_documents(readers)
    val_readers, val_docs = readers, []
    if data.val:
        val_readers = open_token_corpus(data.val)
        val_docs = corpus_documents(val_readers)
    else:
        documents, val_docs = split_documents(documents, data.val_fraction, config.seed)
    pack = dict(vocab=model.vocab, seq_len=data.seq_len, stream=data.stream)
    train = PackedCorpus(readers, documents, seed=config.seed, **pack)
    val = PackedCorpus(val_readers, val_docs, shuffle=False, **pack) if val_docs else None
    return Batches(train, val)


def build_model(config: TrainConfig) -> UnitLM:
    """Cold init from ``config.model`` (seeded) or TWIST warm start from ``config.init.text_lm``."""
    if config.model.num_streams != 1:
        raise ConfigError("the trainer trains one-stream models (model.num_streams=1); pick a stream with data.stream")
    torch.manual_seed(config.seed)
    if config.init.text_lm:
        model = UnitLM.from_text_lm(config.init.text_lm, config.model.n_units, keep_text=config.init.keep_text, seed=config.seed)
        if config.data.seq_len > model.config.max_seq_len:
            raise ConfigError(f"data.seq_len={config.data.seq_len} exceeds the text LM's {model.config.max_seq_len} positions")
        config.model = model.config
        return model
    return UnitLM(config.model)


def resolve_device(config: TrainConfig) -> torch.device:
    if config.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(config.device)


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    """AdamW; weight decay on matrices only (not on norms, biases)."""
    o = config.optim
    decay = [p for p in model.parameters() if p.dim() >= 2]
    plain = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": o.weight_decay}, {"params": plain, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=o.lr, betas=(o.beta1, o.beta2), eps=o.eps)


def lm_loss(model: nn.Module, ids: torch.Tensor, segments: torch.Tensor, document_attention: bool) -> torch.Tensor:
    """Mean next-token cross-entropy (nats) of windows ``[B, T+1]``."""
    inputs, targets = ids[:, :-1], ids[:, 1:]
    positions = mask = None
    if document_attention:
        mask, positions = document_mask(segments[:, :-1])
    logits = model(inputs, positions=positions, mask=mask)
    return F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten())


class Trainer:
    """Runs ``config``: call :meth:`fit`. Resumes from ``out_dir/checkpoints/latest`` when present."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.device = resolve_device(config)
        if self.device.type == "cpu":
            configure_cpu_allocator()
            configure_cpu_threads()
        self.dist = distributed.setup(config.distributed, self.device.type)
        self.out_dir = Path(config.out_dir)
        self.model = build_model(config).to(self.device)
        self.data = build_data(config, self.model)
        o, world = config.optim, self.dist.world_size
        if o.batch_size % (world * o.grad_accum):
            raise ConfigError(f"optim.batch_size={o.batch_size} is not divisible by world_size×grad_accum={world * o.grad_accum}")
        self.micro = o.batch_size // (world * o.grad_accum)
        self.wrapped = distributed.wrap(self.model, self.dist)
        self.optimizer = make_optimizer(self.wrapped, config)
        self.forward = torch.compile(self.wrapped) if config.compile else self.wrapped
        self.step = 0
        self.tokens_seen = 0
        self.checkpoints = self.out_dir / "checkpoints"
        torch.manual_seed(config.seed + 1000 * (self.dist.rank + 1))
        self._resume()
        if self.dist.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            save_config(config, self.out_dir)
            self.log = MetricsLog(self.out_dir, self.step, config.tensorboard, config.wandb, to_dict(config))

    def _resume(self) -> None:
        latest = latest_checkpoint(self.checkpoints)
        if latest is None:
            return
        model_state, optimizer_state, rng, trainer = load_checkpoint(latest)
        if self.config.model.tie_embeddings:
            model_state = {**model_state, **{f"heads.{k}.weight": model_state[f"embeddings.{k}.weight"] for k in range(self.config.model.num_streams)}}
        distributed.load_full_state(self.wrapped, self.optimizer, model_state, optimizer_state)
        distributed.restore_rng(rng, self.dist)
        self.step, self.tokens_seen = trainer["step"], trainer["tokens_seen"]

    def _save(self) -> None:
        model_state, optimizer_state = distributed.full_state(self.wrapped, self.optimizer)
        rng = distributed.gather_rng(self.dist)
        if not self.dist.is_main:
            return
        if self.config.model.tie_embeddings:
            model_state = {k: v for k, v in model_state.items() if not k.startswith("heads.")}
        model_config = {"model_type": MODEL_TYPE, **to_dict(self.config.model)}
        save_checkpoint(self.checkpoints, self.step, model_config, model_state, optimizer_state, rng,
                        {"tokens_seen": self.tokens_seen}, self.config.keep_checkpoints)

    def _micro_indices(self, step: int, accum: int) -> list[int]:
        o, world = self.config.optim, self.dist.world_size
        start = step * o.batch_size + accum * world * self.micro + self.dist.rank * self.micro
        return list(range(start, start + self.micro))

    def _train_step(self) -> tuple[float, float]:
        """One optimizer step over the global batch; returns (mean loss over ranks, grad norm)."""
        o = self.config.optim
        lr = learning_rate(self.step, o)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        total = torch.zeros((), device=self.device)
        for accum in range(o.grad_accum):
            ids, segments = self.data.train.batch(self._micro_indices(self.step, accum))
            sync = accum == o.grad_accum - 1 or self.dist.mode != "ddp"
            with (contextlib.nullcontext() if sync else self.wrapped.no_sync()), autocast(self.config.precision, self.device):
                loss = lm_loss(self.forward, ids.to(self.device), segments.to(self.device), self.config.data.document_attention)
                (loss / o.grad_accum).backward()
            total += loss.detach() / o.grad_accum
        grad_norm = torch.nn.utils.clip_grad_norm_(self.wrapped.parameters(), o.grad_clip if o.grad_clip > 0 else float("inf"))
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(distributed.mean_across(total, self.dist)), float(grad_norm.full_tensor() if hasattr(grad_norm, "full_tensor") else grad_norm)

    @torch.no_grad()
    def evaluate(self) -> float | None:
        """Mean validation loss (nats/token) over ``data.val_windows`` windows, split across ranks."""
        val = self.data.val
        if val is None:
            return None
        limit = val.windows_per_epoch if self.config.data.val_windows <= 0 else min(self.config.data.val_windows, val.windows_per_epoch)
        world = self.dist.world_size
        mine = list(range(self.dist.rank, limit - limit % world or world, world))
        self.wrapped.eval()
        total = torch.zeros((), device=self.device)
        for start in range(0, len(mine), self.micro):
            ids, segments = val.batch(mine[start : start + self.micro])
            with autocast(self.config.precision, self.device):
                loss = lm_loss(self.forward, ids.to(self.device), segments.to(self.device), self.config.data.document_attention)
            total += loss * len(ids)
        self.wrapped.train()
        return float(distributed.mean_across(total / max(len(mine), 1), self.dist))

    def fit(self) -> dict:
        """Train to ``optim.max_steps``; returns a summary (also written to ``out_dir/summary.json``)."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        c, o = self.config, self.config.optim
        tokens_per_step = o.batch_size * c.data.seq_len
        flops_per_token = self.model.flops_per_token(c.data.seq_len)
        peak = peak_flops(self.device, torch.bfloat16 if uses_bf16(c.precision, self.device) else torch.float32) * self.dist.world_size
        progress = Progress(TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                            TimeRemainingColumn(), disable=not self.dist.is_main)
        val_loss = None
        with progress:
            task = progress.add_task("train", total=o.max_steps, completed=self.step, info="")
            window_start, window_steps = time.perf_counter(), 0
            while self.step < o.max_steps:
                loss, grad_norm = self._train_step()
                self.step += 1
                self.tokens_seen += tokens_per_step
                window_steps += 1
                if self.step % c.log_every == 0 or self.step == o.max_steps:
                    elapsed = time.perf_counter() - window_start
                    speed = window_steps * tokens_per_step / elapsed
                    record = {"step": self.step, "split": "train", "loss": loss, "lr": learning_rate(self.step - 1, o),
                              "grad_norm": grad_norm, "tokens_per_s": speed, "tokens_seen": self.tokens_seen,
                              "mfu": speed * flops_per_token / peak if peak else None}
                    if self.dist.is_main:
                        self.log.log(record)
                    progress.update(task, info=f"loss {loss:.3f} · {speed:,.0f} tok/s")
                    window_start, window_steps = time.perf_counter(), 0
                if c.eval_every and (self.step % c.eval_every == 0 or self.step == o.max_steps):
                    val_loss = self.evaluate()
                    if val_loss is not None and self.dist.is_main:
                        self.log.log({"step": self.step, "split": "val", "loss": val_loss, "tokens_seen": self.tokens_seen})
                if c.save_every and (self.step % c.save_every == 0 or self.step == o.max_steps):
                    self._save()
                progress.update(task, completed=self.step)
        if val_loss is None:
            val_loss = self.evaluate()
        return self._finish(val_loss)

    def _finish(self, val_loss: float | None) -> dict:
        model_state, _ = distributed.full_state(self.wrapped, self.optimizer)
        summary = {}
        if self.dist.is_main:
            final = UnitLM(self.config.model)
            final.load_weights(model_state, str(self.out_dir))
            final.save_pretrained(self.out_dir / "model")
            summary = {"steps": self.step, "tokens_seen": self.tokens_seen, "val_loss": val_loss,
                       "unigram_entropy": self.data.train.unigram_entropy(), "parameters": self.model.num_parameters()}
            atomic_write_json(self.out_dir / "summary.json", summary)
            self.log.close()
        distributed.teardown(self.dist)
        return summary


def train(config: TrainConfig) -> dict:
    """Run (or resume) the training described by ``config``; see :class:`Trainer`."""
    return Trainer(config).fit()


def read_metrics(out_dir: str | Path) -> list[dict]:
    """The metrics records of a run folder."""
    return MetricsLog.read(Path(out_dir) / "metrics.jsonl")

