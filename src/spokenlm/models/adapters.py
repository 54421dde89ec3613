"""Modality adapters of speech-aware text LMs: encoder features → text-LM input embeddings, built by name from :data:`ADAPTERS`.

Every adapter takes encoder features ``[B, T, D_enc]`` at ``frame_rate`` Hz with valid frame counts ``[B]`` and
returns speech embeddings ``[B, N, D_lm]`` (zero after each row's ``N_b``) with their counts ``[B]``, and states its
output rate in tokens per second of speech (:meth:`Adapter.output_rate`):

- ``linear``: ``stack`` consecutive frames concatenated, then Linear → GELU → Linear (SLAM-LLM's projector);
  ``frame_rate / stack`` tokens/s.
- ``conv``: strided 1-D convolutions with GELU (a strided CNN); ``frame_rate / prod(strides)`` tokens/s.
- ``ctc``: a CTC head over characters; consecutive frames with the same non-blank argmax are averaged into one
  token and blank frames dropped (CTC compression), so its rate follows the speech (at most ``frame_rate``;
  about the character rate once the head is trained). Its CTC loss against the transcript is the adapter's
  auxiliary loss.
- ``qformer``: ``queries`` learned queries over the whole utterance (BLIP-2's Q-Former); a fixed number of
  tokens per utterance, so its rate is ``queries / duration``.
- ``window-qformer``: the same per window of ``window`` frames, ``queries`` tokens each (SALMONN);
  ``queries · frame_rate / window`` tokens/s.

The Q-Formers run :class:`~spokenlm.nn.transformer.Transformer` bidirectionally over ``[queries; features]``:
every position attends to the queries and the valid features (joint self-attention in place of BLIP-2's
cross-attention layers), queries sit at rotary positions spread evenly over the utterance (or the window), and
the outputs at the query positions are the tokens.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from spokenlm.errors import ConfigError
from spokenlm.nn.transformer import Transformer, TransformerConfig
from spokenlm.registry import Registry

CTC_ALPHABET = " abcdefghijklmnopqrstuvwxyz'"  # CTC targets; blank is id 0, character i is id i + 1


@dataclass
class AdapterConfig:
    """One adapter's shape (each type reads the fields it names).

    Attributes:
        type: an :data:`ADAPTERS` name (``linear``, ``conv``, ``ctc``, ``qformer``, ``window-qformer``).
        stack: frames concatenated per token (``linear``).
        strides: stride of each convolution (``conv``; kernel ``2·stride - 1`` … padded to keep centres).
        hidden: width inside the adapter (projector hidden size, conv channels, Q-Former width).
        queries: learned queries per utterance (``qformer``) or per window (``window-qformer``).
        window: frames per window (``window-qformer``; SALMONN: 17 frames ≈ 0.33 s of Whisper's 50 Hz).
        transformer: the Q-Former's transformer (its ``dim`` is set to ``hidden``; always bidirectional).
        ctc_weight: weight of the ``ctc`` adapter's CTC loss in the training loss.
    """

    type: str = "linear"
    stack: int = 5
    strides: list[int] = field(default_factory=lambda: [2, 2])
    hidden: int = 256
    queries: int = 1
    window: int = 17
    transformer: TransformerConfig = field(default_factory=lambda: TransformerConfig(layers=2, heads=4, dim=256))
    ctc_weight: float = 1.0


class Adapter(nn.Module, ABC):
    """Features ``[B, T, D_enc]`` at ``frame_rate`` Hz → speech embeddings ``[B, N, D_lm]`` (see the module docstring)."""

    def __init__(self, config: AdapterConfig, in_dim: int, out_dim: int, frame_rate: float) -> None:
        super().__init__()
        self.config, self.in_dim, self.out_dim, self.frame_rate = config, in_dim, out_dim, frame_rate

    @abstractmethod
    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``features [B, T, D_enc]``, ``lengths [B]`` (frames) → embeddings ``[B, N, D_lm]``, counts ``[B]``."""

    @abstractmethod
    def output_rate(self, seconds: float | None = None) -> float:
        """Tokens per second of speech (for an utterance of ``seconds`` where the rate depends on the length)."""

    def auxiliary_loss(self, features: torch.Tensor, lengths: torch.Tensor, texts: list[str]) -> torch.Tensor | None:
        """A loss of the adapter's own against the transcripts ``texts`` (``None``: the adapter has none)."""
        return None


ADAPTERS: Registry[type[Adapter]] = Registry("adapter")


def build_adapter(config: AdapterConfig, in_dim: int, out_dim: int, frame_rate: float) -> Adapter:
    """The adapter ``config.type`` from ``in_dim`` encoder features at ``frame_rate`` Hz to ``out_dim`` LM embeddings."""
    return ADAPTERS.get(config.type)(config, in_dim, out_dim, frame_rate)


def zero_padding(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """``x [B, N, D]`` with the frames at and after each row's ``lengths [B]`` set to zero."""
    valid = torch.arange(x.shape[1], device=x.device)[None] < lengths[:, None]
    return x * valid[..., None].to(x.dtype)


def projector(in_dim: int, hidden: int, out_dim: int) -> nn.Sequential:
    """Linear → GELU → Linear: ``[..., in_dim]`` → ``[..., out_dim]``."""
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, out_dim))


@ADAPTERS.register("linear")
class LinearAdapter(Adapter):
    """``stack`` frames concatenated (the last group zero-padded) → projector: ``[B, ceil(T / stack), D_lm]``."""

    def __init__(self, config: AdapterConfig, in_dim: int, out_dim: int, frame_rate: float) -> None:
        super().__init__(config, in_dim, out_dim, frame_rate)
        if config.stack < 1:
            raise ConfigError(f"adapter stack must be >= 1, got {config.stack}")
        self.project = projector(config.stack * in_dim, config.hidden, out_dim)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k = self.config.stack
        b, t, d = features.shape
        padded = F.pad(zero_padding(features, lengths), (0, 0, 0, -t % k))
        out_lengths = torch.div(lengths + k - 1, k, rounding_mode="floor")
        return zero_padding(self.project(padded.reshape(b, -1, k * d)), out_lengths), out_lengths

    def output_rate(self, seconds: float | None = None) -> float:
        return self.frame_rate / self.config.stack


@ADAPTERS.register("conv")
class ConvAdapter(Adapter):
    """Conv1d layers of kernel ``2s + 1``, stride ``s``, padding ``s`` each (+ GELU), then a projection: ``[B, ≈T / prod(s), D_lm]``."""

    def __init__(self, config: AdapterConfig, in_dim: int, out_dim: int, frame_rate: float) -> None:
        super().__init__(config, in_dim, out_dim, frame_rate)
        if not config.strides or min(config.strides) < 1:
            raise ConfigError(f"adapter strides must be >= 1, got {config.strides}")
        widths = [in_dim] + [config.hidden] * len(config.strides)
        self.convs = nn.ModuleList(nn.Conv1d(a, b, 2 * s + 1, stride=s, padding=s) for a, b, s in zip(widths, widths[1:], config.strides))
        self.out = nn.Linear(config.hidden, out_dim)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = features
        for conv, s in zip(self.convs, self.config.strides):
            x = F.gelu(conv(zero_padding(x, lengths).transpose(1, 2))).transpose(1, 2)
            lengths = torch.div(lengths - 1, s, rounding_mode="floor") + 1  # (L + 2s - (2s + 1)) // s + 1
        return zero_padding(self.out(x), lengths), lengths

    def output_rate(self, seconds: float | None = None) -> float:
        return self.frame_rate / math.prod(self.config.strides)


@ADAPTERS.register("ctc")
class CTCAdapter(Adapter):
    """A CTC head over :data:`CTC_ALPHABET`; runs of one non-blank argmax are averaged into one token, blanks dropped."""

    def __init__(self, config: AdapterConfig, in_dim: int, out_dim: int, frame_rate: float) -> None:
        super().__init__(config, in_dim, out_dim, frame_rate)
        self.head = nn.Linear(in_dim, len(CTC_ALPHABET) + 1)
        self.project = projector(in_dim, config.hidden, out_dim)

    def segments(self, features: torch.Tensor, lengths: torch.Tensor) -> list[torch.Tensor]:
        """Per row, the segment index of each valid frame ``[T_b]`` (-1: a blank frame, dropped)."""
        labels = self.head(features).argmax(-1)
        out = []
        for row, n in zip(labels, lengths.tolist()):
            row = row[:n]
            starts = torch.ones_like(row, dtype=torch.bool)
            starts[1:] = row[1:] != row[:-1]
            index = starts.long().cumsum(0) - 1
            kept = torch.unique(index[row != 0])  # segments of non-blank labels, renumbered from 0
            renumber = torch.full((int(index.max()) + 1 if n else 0,), -1, dtype=torch.long, device=row.device)
            renumber[kept] = torch.arange(len(kept), device=row.device)
            out.append(renumber[index])
        return out

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        segments = self.segments(features.detach(), lengths)
        counts = torch.tensor([int(s.max()) + 1 if len(s) else 0 for s in segments], dtype=torch.long, device=features.device)
        pooled = features.new_zeros(features.shape[0], max(int(counts.max()), 1), features.shape[2])
        for b, segment in enumerate(segments):
            keep = segment >= 0
            frames = features[b, : len(segment)][keep]
            sums = pooled.new_zeros(pooled.shape[1], pooled.shape[2]).index_add(0, segment[keep], frames)
            sizes = torch.bincount(segment[keep], minlength=pooled.shape[1]).clamp(min=1)
            pooled[b] = sums / sizes[:, None].to(sums.dtype)
        return zero_padding(self.project(pooled), counts), counts

    def output_rate(self, seconds: float | None = None) -> float:
        """The upper bound, ``frame_rate`` (one token per frame); the tokens actually kept follow the speech."""
        return self.frame_rate

    def auxiliary_loss(self, features: torch.Tensor, lengths: torch.Tensor, texts: list[str]) -> torch.Tensor:
        """``ctc_weight`` × CTC of the head against each transcript's characters (others dropped), per target character."""
        index = {c: i + 1 for i, c in enumerate(CTC_ALPHABET)}
        targets = [torch.tensor([index[c] for c in " ".join(t.lower().split()) if c in index], dtype=torch.long) for t in texts]
        log_probs = self.head(features).float().log_softmax(-1).transpose(0, 1)
        target_lengths = torch.tensor([len(t) for t in targets])
        loss = F.ctc_loss(log_probs, torch.cat(targets).to(features.device), lengths.cpu(), target_lengths, blank=0, zero_infinity=True)
        return self.config.ctc_weight * loss


class QFormer(nn.Module):
    """``queries`` learned queries read a set of frames through a bidirectional transformer: ``[B, T, D_in]`` → ``[B, Q, D_out]``."""

    def __init__(self, config: AdapterConfig, in_dim: int, out_dim: int) -> None:
        super().__init__()
        width = config.hidden
        self.transformer = Transformer(dataclasses.replace(config.transformer, dim=width, causal=False, window=None))
        self.queries = nn.Parameter(torch.randn(config.queries, width) * 0.02)
        self.inp = nn.Linear(in_dim, width)
        self.out = nn.Linear(width, out_dim)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``features [B, T, D_in]`` with ``lengths [B]`` (each >= 1) → ``[B, Q, D_out]``."""
        b, t, _ = features.shape
        q = self.queries.shape[0]
        x = torch.cat([self.queries.expand(b, -1, -1), self.inp(features)], dim=1)
        frames = torch.arange(t, device=features.device)
        spread = ((torch.arange(q, device=features.device) + 0.5)[None] * lengths[:, None] / q).long()  # [B, Q]
        positions = torch.cat([spread, frames.expand(b, -1)], dim=1)
        keys = torch.cat([torch.ones(b, q, dtype=torch.bool, device=x.device), frames[None] < lengths[:, None]], dim=1)
        return self.out(self.transformer(x, positions, keys[:, None, None, :])[:, :q])


@ADAPTERS.register("qformer")
class QFormerAdapter(Adapter):
    """``queries`` tokens per utterance, whatever its length: ``[B, Q, D_lm]``."""

    def __init__(self, config: AdapterConfig, in_dim: int, out_dim: int, frame_rate: float) -> None:
        super().__init__(config, in_dim, out_dim, frame_rate)
        self.qformer = QFormer(config, in_dim, out_dim)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        counts = torch.full_like(lengths, self.config.queries)
        return self.qformer(features, lengths.clamp(min=1)), counts

    def output_rate(self, seconds: float | None = None) -> float:
        """``queries / seconds`` (the count is fixed per utterance)."""
        if seconds is None or seconds <= 0:
            raise ConfigError("a Q-Former's rate depends on the utterance: give its duration in seconds")
        return self.config.queries / seconds


@ADAPTERS.register("window-qformer")
class WindowQFormerAdapter(Adapter):
    """``queries`` tokens per window of ``window`` frames (the last window may be partial): ``[B, ceil(T / window)·Q, D_lm]``."""

    def __init__(self, config: AdapterConfig, in_dim: int, out_dim: int, frame_rate: float) -> None:
        super().__init__(config, in_dim, out_dim, frame_rate)
        if config.window < 1:
            raise ConfigError(f"adapter window must be >= 1 frame, got {config.window}")
        self.qformer = QFormer(config, in_dim, out_dim)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        w, q = self.config.window, self.config.queries
        b, t, d = features.shape
        windows = -(-t // w)
        x = F.pad(features, (0, 0, 0, windows * w - t)).reshape(b * windows, w, d)
        starts = torch.arange(windows, device=features.device) * w
        frames = (lengths[:, None] - starts[None]).clamp(1, w).reshape(-1)  # empty windows read one (zero) frame
        out = self.qformer(x, frames).reshape(b, windows * q, -1)
        counts = torch.div(lengths + w - 1, w, rounding_mode="floor") * q
        return zero_padding(out, counts), counts

    def output_rate(self, seconds: float | None = None) -> float:
        return self.config.queries * self.frame_rate / self.config.window
