"""The unit-LM task (``spokenlm train``): packed token shards → next-token cross-entropy.

The data of step ``s`` is a pure function of ``s`` (see :mod:`spokenlm.data.packing`), so
batches are the same for any number of ranks and resume is exact. Cold init from
``model`` (seeded), or TWIST warm start from the text LM in ``init.text_lm``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from spokenlm.config import to_dict
from spokenlm.data.packing import PackedCorpus, corpus_documents, split_documents
from spokenlm.data.shards import open_token_corpus
from spokenlm.errors import ConfigError
from spokenlm.models.config import UnitLMConfig
from spokenlm.models.masks import document_mask
from spokenlm.models.unit_lm import MODEL_TYPE, UnitLM
from spokenlm.train.checkpoints import MAIN
from spokenlm.train.config import LoopConfig
from spokenlm.train.loop import Loop
from spokenlm.train.metrics import MetricsLog
from spokenlm.train.task import LoopContext, Metrics, Task


@dataclass
class DataConfig:
    """Where the tokens come from and how they are packed.

    Attributes:
        train: token corpus folder (``spokenlm tokenize`` output: shards of Tokens).
        val: separate validation corpus; when empty, ``val_fraction`` of the train documents is held out.
        seq_len: tokens per training window (T).
        stream: which stream of multi-stream tokens to model.
        document_attention: attend only within each packed document (else documents are only separated by EOS).
        val_windows: number of validation windows per evaluation (0: all).
    """

    train: str = ""
    val: str = ""
    val_fraction: float = 0.05
    seq_len: int = 256
    stream: int = 0
    document_attention: bool = False
    val_windows: int = 64


@dataclass
class InitConfig:
    """Cold init (``text_lm`` empty) or TWIST warm start from a HF text-LM directory."""

    text_lm: str = ""
    keep_text: bool = False


@dataclass
class LMTrainConfig(LoopConfig):
    """A unit-LM run: model, data, init, the loop's settings, and the run folder ``out_dir``
    (config.yaml, metrics.jsonl/csv, checkpoints/, model/, summary.json)."""

    model: UnitLMConfig = field(default_factory=UnitLMConfig)
    data: DataConfig = field(default_factory=DataConfig)
    init: InitConfig = field(default_factory=InitConfig)
    out_dir: str = "runs/unit-lm"
    eval_every: int = 200


def lm_loss(model: nn.Module, ids: torch.Tensor, segments: torch.Tensor, document_attention: bool) -> torch.Tensor:
    """Mean next-token cross-entropy (nats) of windows ``[B, T+1]``."""
    inputs, targets = ids[:, :-1], ids[:, 1:]
    positions = mask = None
    if document_attention:
        mask, positions = document_mask(segments[:, :-1])
    logits = model(inputs, positions=positions, mask=mask)
    return F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten())


class LMTask(Task):
    """Next-token prediction on packed windows; one item is a token."""

    item_name = "tokens"

    def __init__(self, config: LMTrainConfig) -> None:
        super().__init__()
        self.config = config

    def build(self, ctx: LoopContext) -> None:
        c = self.config
        if c.model.num_streams != 1:
            raise ConfigError("the LM task trains one-stream models (model.num_streams=1); pick a stream with data.stream")
        if c.init.text_lm:
            model = UnitLM.from_text_lm(c.init.text_lm, c.model.n_units, keep_text=c.init.keep_text, seed=c.seed)
            if c.data.seq_len > model.config.max_seq_len:
                raise ConfigError(f"data.seq_len={c.data.seq_len} exceeds the text LM's {model.config.max_seq_len} positions")
            c.model = model.config
        else:
            model = UnitLM(c.model)
        self.modules = {MAIN: model.to(ctx.device)}
        self.train_data, self.val_data = self._data(model)

    def _data(self, model: UnitLM) -> tuple[PackedCorpus, PackedCorpus | None]:
        data = self.config.data
        if not data.train:
            raise ConfigError("data.train is required: a token corpus folder (spokenlm tokenize output)")
        readers = open_token_corpus(data.train)
        documents = corpus_documents(readers)
        val_readers, val_docs = readers, []
        if data.val:
            val_readers = open_token_corpus(data.val)
            val_docs = corpus_documents(val_readers)
        else:
            documents, val_docs = split_documents(documents, data.val_fraction, self.config.seed)
        pack = dict(vocab=model.vocab, seq_len=data.seq_len, stream=data.stream)
        train = PackedCorpus(readers, documents, seed=self.config.seed, **pack)
        val = PackedCorpus(val_readers, val_docs, shuffle=False, **pack) if val_docs else None
        return train, val

    def training_seed(self, rank: int) -> int:
        return self.config.seed + 1000 * (rank + 1)

    def shard_units(self, name: str) -> list[nn.Module]:
        return list(self.modules[MAIN].blocks)

    def items_per_step(self) -> int:
        return self.config.optim.batch_size * self.config.data.seq_len

    def flops_per_item(self) -> float:
        return self.modules[MAIN].flops_per_token(self.config.data.seq_len)

    def batch(self, step: int, positions: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        ids, segments = self.train_data.batch([step * self.config.optim.batch_size + p for p in positions])
        return ids.to(self.ctx.device), segments.to(self.ctx.device)

    def loss(self, phase: str, batch: tuple[torch.Tensor, torch.Tensor], scratch: dict[str, Any]) -> tuple[torch.Tensor, Metrics]:
        ids, segments = batch
        with self.ctx.autocast():
            return lm_loss(self.train_modules[MAIN], ids, segments, self.config.data.document_attention), {}

    def evaluate(self) -> float | None:
        """Mean validation loss (nats/token) over ``data.val_windows`` windows, split across ranks."""
        val = self.val_data
        if val is None:
            return None
        limit = val.windows_per_epoch if self.config.data.val_windows <= 0 else min(self.config.data.val_windows, val.windows_per_epoch)
        dist, micro = self.ctx.dist, self.ctx.micro_batch
        mine = list(range(dist.rank, limit - limit % dist.world_size or dist.world_size, dist.world_size))
        total = torch.zeros((), device=self.ctx.device)
        for start in range(0, len(mine), micro):
            ids, segments = val.batch(mine[start : start + micro])
            with self.ctx.autocast():
                loss = lm_loss(self.train_modules[MAIN], ids.to(self.ctx.device), segments.to(self.ctx.device), self.config.data.document_attention)
            total += loss * len(ids)
        return float(total / max(len(mine), 1))

    def checkpoint_config(self) -> dict[str, Any]:
        return {"model_type": MODEL_TYPE, **to_dict(self.config.model)}

    def export_state(self, name: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Tied heads are their embeddings: stored once."""
        if not self.config.model.tie_embeddings:
            return state
        return {k: v for k, v in state.items() if not k.startswith("heads.")}

    def import_state(self, name: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if not self.config.model.tie_embeddings:
            return state
        return {**state, **{f"heads.{k}.weight": state[f"embeddings.{k}.weight"] for k in range(self.config.model.num_streams)}}

    def finish(self, states: dict[str, dict[str, torch.Tensor]], val_loss: float | None, steps: int) -> dict[str, Any]:
        final = UnitLM(self.config.model)
        final.load_weights(states[MAIN], str(self.ctx.out_dir))
        final.save_pretrained(Path(self.config.out_dir) / "model")
        return {"unigram_entropy": self.train_data.unigram_entropy(), "parameters": self.modules[MAIN].num_parameters()}


def train(config: LMTrainConfig) -> dict:
    """Run (or resume) the LM training described by ``config``; returns its summary."""
    return Loop(LMTask(config), config.out_dir).fit()


def read_metrics(out_dir: str | Path) -> list[dict]:
    """The metrics records of a run folder."""
    return MetricsLog.read(Path(out_dir) / "metrics.jsonl")
