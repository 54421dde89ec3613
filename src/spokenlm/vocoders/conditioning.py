"""Frame conditioning of unit vocoders (Polyak et al. 2021): units + speaker + quantized F0.

``UnitConditioner`` maps ids ``[B, K, T]`` (K streams, embeddings summed), an
optional speaker (an index into a learned table, or a 256-d resemblyzer d-vector)
and optional quantized log-F0 bins ``[B, T]`` to features ``[B, D, T]``; every
frame depends only on its own inputs, so it streams trivially.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from spokenlm.errors import SpokenLMError
from spokenlm.audio.f0 import F0_MAX_HZ, F0_MIN_HZ

DVECTOR_DIM = 256


@dataclass
class ConditioningConfig:
    """What a unit vocoder is conditioned on.

    Attributes:
        vocab_size: ids per stream.
        num_streams: K parallel streams (embeddings are summed).
        dim: feature channels D.
        num_speakers: size of a learned speaker table (0 = none).
        dvector: add a projected resemblyzer d-vector (works for unseen speakers).
        f0_bins: quantized log-F0 bins (0 = no F0); bin 0 means unvoiced.
        f0_min / f0_max: range of the log-spaced bins, Hz.
    """

    vocab_size: int = 100
    num_streams: int = 1
    dim: int = 128
    num_speakers: int = 0
    dvector: bool = False
    f0_bins: int = 0
    f0_min: float = F0_MIN_HZ
    f0_max: float = F0_MAX_HZ


def quantize_f0(f0_hz: np.ndarray, bins: int, f0_min: float = F0_MIN_HZ, f0_max: float = F0_MAX_HZ) -> np.ndarray:
    """F0 ``[T]`` in Hz (0 = unvoiced) → int64 bins ``[T]``: 0 for unvoiced, 1…bins-1 log-spaced over [f0_min, f0_max]."""
    f0 = np.asarray(f0_hz, dtype=np.float64)
    voiced = f0 > 0
    position = (np.log(np.clip(f0, f0_min, f0_max)) - np.log(f0_min)) / (np.log(f0_max) - np.log(f0_min))
    quantized = 1 + np.round(position * (bins - 2)).astype(np.int64)
    return np.where(voiced, quantized, 0).astype(np.int64)


class UnitConditioner(nn.Module):
    """``forward(ids [B, K, T], speaker=None, f0_bins=None) -> [B, D, T]``.

    ``speaker`` is a LongTensor ``[B]`` of table indices (``num_speakers > 0``)
    or a FloatTensor ``[B, 256]`` of d-vectors (``dvector``); ``None`` leaves
    the speaker term out (the mean voice of training).
    """

    def __init__(self, config: ConditioningConfig) -> None:
        super().__init__()
        self.config = config
        self.units = nn.ModuleList(nn.Embedding(config.vocab_size, config.dim) for _ in range(config.num_streams))
        self.speakers = nn.Embedding(config.num_speakers, config.dim) if config.num_speakers else None
        self.dvector = nn.Linear(DVECTOR_DIM, config.dim) if config.dvector else None
        self.f0 = nn.Embedding(config.f0_bins, config.dim) if config.f0_bins else None

    def forward(self, ids: torch.Tensor, speaker: torch.Tensor | None = None, f0_bins: torch.Tensor | None = None) -> torch.Tensor:
        if ids.shape[1] != len(self.units):
            raise SpokenLMError(f"vocoder expects {len(self.units)} token streams, got {ids.shape[1]}")
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.config.vocab_size):
            raise SpokenLMError(f"token ids must be in [0, {self.config.vocab_size}) for this vocoder")
        x = sum(embed(ids[:, k]) for k, embed in enumerate(self.units))  # [B, T, D]
        if speaker is not None:
            if speaker.dtype in (torch.int32, torch.int64):
                if self.speakers is None:
                    raise SpokenLMError("this vocoder has no speaker table; pass a d-vector or no speaker")
                x = x + self.speakers(speaker)[:, None, :]
            else:
                if self.dvector is None:
                    raise SpokenLMError("this vocoder was not trained with d-vectors; pass a speaker index or none")
                x = x + self.dvector(speaker)[:, None, :]
        if self.f0 is not None and f0_bins is not None:
            x = x + self.f0(f0_bins.clamp(0, self.config.f0_bins - 1))
        return x.transpose(1, 2)
