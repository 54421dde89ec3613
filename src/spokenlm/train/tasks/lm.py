"""The unit-LM task (``spokenlm train``): packed token shards → next-token cross-entropy, one stream or many.

One stream (``data.num_streams: 0``) is GSLM/TWIST. K streams (the first K of the shards, e.g. a
codec's codebooks) are modelled jointly: each in its own vocabulary, with the delays of
``data.delays`` (MusicGen/Moshi delay pattern) and the head of ``model.head`` (``linear`` or
``depth``); the loss is the per-stream cross-entropy weighted by ``model.loss_weights``, padding
left out. With ``data.text.corpus`` (word-aligned lhotse corpus of the tokens) it is a speech+text LM
(SpiRit-LM, Slamming's interleaving): one stream of units and text in a joint vocabulary, documents in the
sequence formats of ``data.text.formats`` (:mod:`spokenlm.train.tasks.speech_text`). The data of step ``s``
is a pure function of ``s`` (see :mod:`spokenlm.data.packing`), so batches are the same for any number
of ranks and resume is exact. Cold init from ``model`` (seeded), or TWIST warm start from the text LM in
``init.text_lm``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from spokenlm.config import to_dict
from spokenlm.data.interleaved import FormattedCorpus
from spokenlm.data.packing import FlatCorpus, MultiStreamCorpus, PackedCorpus, corpus_documents, split_documents
from spokenlm.data.shards import ShardReader, open_token_corpus
from spokenlm.data.vocab import Vocabulary
from spokenlm.errors import ConfigError
from spokenlm.layouts.layout import StreamLayout
from spokenlm.models.config import TokenWeight, UnitLMConfig
from spokenlm.models.masks import document_mask
from spokenlm.models.unit_lm import MODEL_TYPE, UnitLM
from spokenlm.train import distributed
from spokenlm.train.checkpoints import MAIN
from spokenlm.train.config import LoopConfig
from spokenlm.train.loop import Loop
from spokenlm.train.metrics import MetricsLog
from spokenlm.train.task import LoopContext, Metrics, Task
from spokenlm.train.tasks.speech_text import SkipCounts, TextDataConfig, corpus_words, formatted_documents, text_tokenizer


@dataclass
class DataConfig:
    """Where the tokens come from and how they are packed.

    Attributes:
        train: token corpus folder (``spokenlm tokenize`` output: shards of Tokens).
        val: separate validation corpus; when empty, ``val_fraction`` of the train documents is held out.
        seq_len: tokens (frames) per training window (T).
        stream: which stream of multi-stream tokens to model alone (``num_streams: 0``).
        num_streams: model the first K streams of the tokens jointly (0: the one stream ``stream``).
        delays: frames each of the K streams is delayed by (empty: none), e.g. ``[0, 1, 1, 1]``.
        flatten: serialise the K streams in time into one stream (``model.layout: flat``; Llama-Mimi, SpeechGPT).
        document_attention: attend only within each packed document (else documents are only separated by EOS).
        val_windows: number of validation windows per evaluation (0: all).
        text: the text side of a speech+text LM (:class:`TextDataConfig`; ``text.corpus`` empty: a speech LM).
    """

    train: str = ""
    val: str = ""
    val_fraction: float = 0.05
    seq_len: int = 256
    stream: int = 0
    num_streams: int = 0
    delays: list[int] = field(default_factory=list)
    flatten: bool = False
    document_attention: bool = False
    val_windows: int = 64
    text: TextDataConfig = field(default_factory=TextDataConfig)


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


def lm_loss(model: nn.Module, ids: torch.Tensor, segments: torch.Tensor, document_attention: bool,
            token_weights: list[TokenWeight]) -> tuple[torch.Tensor, torch.Tensor]:
    """Next-token cross-entropy of windows ``[B, T+1]`` or ``[B, K, T+1]``, per stream: (weighted summed nats ``[K]``,
    summed target weights ``[K]``, see :func:`target_weights`)."""
    streams = ids[:, None] if ids.dim() == 2 else ids
    inputs, targets = streams[..., :-1], streams[..., 1:]
    positions = mask = None
    if document_attention:
        mask, positions = document_mask(segments[:, :-1])
    logits = model(inputs, positions=positions, mask=mask, targets=targets)
    weights = target_weights(ids, token_weights)  # [B, K, T]
    sums = torch.stack([(F.cross_entropy(x.flatten(0, 1).float(), targets[:, k].flatten(), ignore_index=Vocabulary.pad_id,
                                         reduction="none") * weights[:, k].flatten()).sum() for k, x in enumerate(logits)])
    return sums, weights.sum(dim=(0, 2))


def target_weights(ids: torch.Tensor, token_weights: list[TokenWeight]) -> torch.Tensor:
    """The loss weight of every target of windows ``[B, T+1]`` or ``[B, K, T+1]``: ``[B, K, T]``, 0 for delay
    padding (the pad id), the configured weight for the units of ``token_weights``, 1 otherwise."""
    targets = (ids[:, None] if ids.dim() == 2 else ids)[..., 1:]
    weights = (targets != Vocabulary.pad_id).float()
    for w in token_weights:
        row = weights[:, w.stream]
        row[targets[:, w.stream] == Vocabulary.n_special + w.unit] *= w.weight
    return weights


class LMTask(Task):
    """Next-token prediction on packed windows; one item is a token (a frame of K streams)."""

    item_name = "tokens"

    def __init__(self, config: LMTrainConfig) -> None:
        super().__init__()
        self.config = config
        self._step_batch: tuple[int, torch.Tensor, torch.Tensor, torch.Tensor] = (-1, torch.zeros(0), torch.zeros(0), torch.zeros(0))
        if config.data.num_streams and not config.data.flatten:
            self.metric_names = [f"loss_{k}" for k in range(config.data.num_streams)]

    def load(self, ctx: LoopContext) -> None:
        data = self.config.data
        if not data.train:
            raise ConfigError("data.train is required: a token corpus folder (spokenlm tokenize output)")
        self.readers = open_token_corpus(data.train)
        self.val_readers = open_token_corpus(data.val) if data.val else None
        if data.num_streams:
            layout = "flat" if data.flatten else "parallel"
            self.config.model = dataclasses.replace(self.config.model, streams=self._stream_specs(self.readers[0]), layout=layout)
        elif data.flatten:
            raise ConfigError("data.flatten serialises data.num_streams streams: set data.num_streams")
        if data.text.corpus:
            self._load_text()

    def _load_text(self) -> None:
        """Words of the text corpus and the text tokenizer; the model's vocabulary gains the text ids."""
        c = self.config
        if c.data.num_streams:
            raise ConfigError("data.text.corpus makes a one-stream speech+text LM: leave data.num_streams at 0")
        if c.init.text_lm and not c.init.keep_text:
            raise ConfigError("a speech+text LM warm-started from init.text_lm keeps its text tokens: set init.keep_text=true")
        self.skipped = SkipCounts()
        self.words = corpus_words(c.data.text.corpus, self.skipped)
        ids = {item for reader in self.readers for item in reader.ids()}
        self.text = text_tokenizer(c.data.text, c.init.text_lm, [w for item, w in self.words.items() if item in ids])
        c.model = dataclasses.replace(c.model, n_text=self.text.vocab_size)

    def _stream_specs(self, shard: ShardReader) -> list:
        """The model's streams: the first ``data.num_streams`` of the tokens, with ``data.delays``."""
        data, model = self.config.data, self.config.model
        if data.num_streams > len(shard.streams):
            raise ConfigError(f"data.num_streams={data.num_streams}, but {shard.directory} has {len(shard.streams)} streams")
        delays = data.delays or [0] * data.num_streams
        if len(delays) != data.num_streams:
            raise ConfigError(f"data.delays has {len(delays)} delays for data.num_streams={data.num_streams}")
        if model.streams and [s.vocab_size for s in model.streams] != [s.vocab_size for s in shard.streams[: data.num_streams]]:
            raise ConfigError(f"model.streams do not match the streams of {shard.directory}; leave model.streams empty")
        return list(StreamLayout(shard.streams[: data.num_streams]).with_delays(delays).streams)

    def build(self, ctx: LoopContext) -> None:
        c = self.config
        if c.model.num_streams != 1 and not c.data.num_streams:
            raise ConfigError("a multi-stream model needs data.num_streams (the streams of the tokens it models)")
        if c.init.text_lm:
            if c.data.num_streams:
                raise ConfigError("init.text_lm warm-starts one-stream models only")
            model = UnitLM.from_text_lm(c.init.text_lm, c.model.n_units, keep_text=c.init.keep_text, seed=c.seed)
            if c.data.seq_len > model.config.max_seq_len:
                raise ConfigError(f"data.seq_len={c.data.seq_len} exceeds the text LM's {model.config.max_seq_len} positions")
            if c.data.text.corpus and model.vocab.n_text != self.text.vocab_size:
                raise ConfigError(f"data.text.tokenizer has {self.text.vocab_size} text ids, the text LM {model.vocab.n_text}: "
                                  "leave data.text.tokenizer empty to use the text LM's own")
            c.model = model.config
        else:
            model = UnitLM(c.model)
        self.modules = {MAIN: model.to(ctx.device)}
        self.train_data, self.val_data = self._data(model)

    def _data(self, model: UnitLM) -> tuple[PackedCorpus | MultiStreamCorpus, PackedCorpus | MultiStreamCorpus | None]:
        """Train and validation windows: one stream (:class:`PackedCorpus`), K flattened streams (:class:`FlatCorpus`,
        a PackedCorpus) or K parallel streams (:class:`MultiStreamCorpus`)."""
        data = self.config.data
        documents = corpus_documents(self.readers)
        val_readers, val_docs = self.readers, []
        if self.val_readers is not None:
            val_readers, val_docs = self.val_readers, corpus_documents(self.val_readers)
        else:
            documents, val_docs = split_documents(documents, data.val_fraction, self.config.seed)
        if data.text.corpus:
            def pack(readers, docs, **kw):
                docs, spans = formatted_documents(readers, docs, self.words, self.text, model.vocab, self.skipped)
                return FormattedCorpus(readers, docs, model.vocab, data.seq_len, spans, data.text.formats, stream=data.stream, **kw)
        elif data.num_streams:
            corpus = FlatCorpus if data.flatten else MultiStreamCorpus

            def pack(readers, docs, **kw):
                return corpus(readers, docs, StreamLayout(tuple(model.config.streams)), data.seq_len, **kw)
        else:
            def pack(readers, docs, **kw):
                return PackedCorpus(readers, docs, vocab=model.vocab, seq_len=data.seq_len, stream=data.stream, **kw)
        train = pack(self.readers, documents, seed=self.config.seed)
        val = pack(val_readers, val_docs, shuffle=False) if val_docs else None
        return train, val

    def training_seed(self, rank: int) -> int:
        return self.config.seed + 1000 * (rank + 1)

    def shard_units(self, name: str) -> list[nn.Module]:
        return list(self.modules[MAIN].backbone.blocks)

    def items_per_step(self) -> int:
        return self.config.optim.batch_size * self.config.data.seq_len

    def flops_per_item(self) -> float:
        return self.modules[MAIN].flops_per_token(self.config.data.seq_len)

    def batch(self, step: int, positions: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """This micro-batch's (ids, segment ids) and, per stream, the mean summed target weight of a micro-batch of
        the step's global batch (:func:`target_weights`): dividing summed losses by it makes the mean over
        micro-batches and ranks the step's token-level mean however the padding falls."""
        size = self.config.optim.batch_size
        if self._step_batch[0] != step:  # the step's global batch, read once for all its micro-batches
            ids, segments = self.train_data.batch(range(step * size, (step + 1) * size))
            totals = target_weights(ids, self.config.model.token_weights).sum(dim=(0, 2)).double()
            self._step_batch = (step, ids, segments, totals)
        _, ids, segments, totals = self._step_batch
        rows = torch.tensor(positions)
        device = self.ctx.device
        return ids[rows].to(device), segments[rows].to(device), (totals * len(positions) / size).to(device)

    def _loss(self, ids: torch.Tensor, segments: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with self.ctx.autocast():
            return lm_loss(self.train_modules[MAIN], ids, segments, self.config.data.document_attention, self.config.model.token_weights)

    def _weighted(self, per_stream: torch.Tensor) -> torch.Tensor:
        weights = self.config.model.stream_weights
        return sum(w * loss for w, loss in zip(weights, per_stream)) / sum(weights)

    def loss(self, phase: str, batch: tuple[torch.Tensor, ...], scratch: dict[str, Any]) -> tuple[torch.Tensor, Metrics]:
        ids, segments, counts = batch
        sums, _ = self._loss(ids, segments)
        per_stream = sums / counts.clamp(min=1e-12).to(sums.dtype)
        return self._weighted(per_stream), ({f"loss_{k}": loss.detach() for k, loss in enumerate(per_stream)} if len(per_stream) > 1 else {})

    def evaluate(self) -> float | None:
        """Validation loss (nats/token, the token-level mean of each stream, weighted as in training) over
        ``data.val_windows`` windows split across ranks; the per-stream losses go to :attr:`val_streams`."""
        val = self.val_data
        if val is None:
            return None
        limit = val.windows_per_epoch if self.config.data.val_windows <= 0 else min(self.config.data.val_windows, val.windows_per_epoch)
        dist, micro = self.ctx.dist, self.ctx.micro_batch
        mine = list(range(dist.rank, limit, dist.world_size))
        sums = torch.zeros(self.config.model.num_streams, dtype=torch.float64, device=self.ctx.device)
        counts = torch.zeros_like(sums)
        for start in range(0, len(mine), micro):
            ids, segments = val.batch(mine[start : start + micro])
            batch_sums, batch_counts = self._loss(ids.to(self.ctx.device), segments.to(self.ctx.device))
            sums += batch_sums.double()
            counts += batch_counts.to(self.ctx.device)
        per_stream = distributed.mean_across(sums, dist) / distributed.mean_across(counts, dist).clamp(min=1e-12)
        self.val_streams = per_stream.tolist()
        return float(self._weighted(per_stream))

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
        summary: dict[str, Any] = {"parameters": self.modules[MAIN].num_parameters()}
        if self.config.data.text.corpus:
            self.text.save(Path(self.config.out_dir) / "model")
            summary["skipped_cuts"] = self.skipped.to_dict()
            summary["formats"] = dict(Counter(self.train_data.format_names))
        if isinstance(self.train_data, MultiStreamCorpus):
            summary["unigram_entropies"] = self.train_data.unigram_entropies()
            if val_loss is not None:
                summary["val_losses"] = self.val_streams
        else:
            summary["unigram_entropy"] = self.train_data.unigram_entropy()
        return summary


def train(config: LMTrainConfig) -> dict:
    """Run (or resume) the LM training described by ``config``; returns its summary."""
    return Loop(LMTask(config), config.out_dir).fit()


def read_metrics(out_dir: str | Path) -> list[dict]:
    """The metrics records of a run folder."""
    return MetricsLog.read(Path(out_dir) / "metrics.jsonl")
