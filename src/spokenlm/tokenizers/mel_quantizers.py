"""Quantizers of log-mel frames ``[T, 80]`` → ids ``[K, T]`` and back, fitted without gradient training.

* :class:`ChannelBinQuantizer` — dMel (Bai et al. 2024): every mel channel on its own into
  ``bins`` equal-width intensity bins between per-channel low/high percentiles of the
  training frames; one stream per channel (K = 80), vocabulary ``bins``.
* :class:`ResidualKMeansQuantizer` — residual vector quantization of whole frames:
  codebook ``q`` is k-means on what codebooks ``1..q-1`` left unexplained; K codebooks,
  vocabulary ``codebook_size``; any leading subset of codebooks decodes (coarser).

Both store their tables as float32 tensors (:meth:`state`) for safetensors.
"""

from __future__ import annotations

import torch

from spokenlm.errors import SpokenLMError
from spokenlm.tokenizers.quantizer import KMeansConfig, KMeansQuantizer


class ChannelBinQuantizer:
    """Per-channel uniform bins. ``low``/``high``: ``[C]`` log-mel range (natural log units) covered by the bins."""

    kind = "bins"

    def __init__(self, low: torch.Tensor, high: torch.Tensor, bins: int) -> None:
        if bins < 2:
            raise SpokenLMError(f"bins must be at least 2, got {bins}")
        if low.shape != high.shape or low.dim() != 1 or bool((high <= low).any()):
            raise SpokenLMError("low and high must be [C] tensors with high > low in every channel")
        self.low, self.high, self.bins = low.float(), high.float(), bins
        self.step = (self.high - self.low) / bins

    @property
    def num_streams(self) -> int:
        return int(self.low.shape[0])

    @property
    def vocab_size(self) -> int:
        return self.bins

    @classmethod
    def fit(cls, frames: torch.Tensor, bins: int, percentile: float = 0.5) -> ChannelBinQuantizer:
        """Range of each channel of ``frames [N, C]`` from its ``percentile`` and ``100 - percentile`` percentiles."""
        if frames.shape[0] < 2:
            raise SpokenLMError(f"fitting mel bins needs at least 2 frames, got {frames.shape[0]}")
        low = torch.quantile(frames.float(), percentile / 100, dim=0)
        high = torch.quantile(frames.float(), 1 - percentile / 100, dim=0)
        return cls(low, torch.maximum(high, low + 1e-3), bins)

    def quantize(self, frames: torch.Tensor) -> torch.Tensor:
        """``[T, C]`` → ids ``[C, T]`` (int64); values outside the range go to the end bins."""
        ids = torch.floor((frames.float() - self.low) / self.step).clamp_(0, self.bins - 1)
        return ids.long().T.contiguous()

    def dequantize(self, ids: torch.Tensor) -> torch.Tensor:
        """ids ``[C, T]`` → bin centres ``[T, C]``."""
        if ids.shape[0] != self.num_streams:
            raise SpokenLMError(f"mel bins decode all {self.num_streams} channels, got {ids.shape[0]} streams")
        return self.low + (ids.T.float() + 0.5) * self.step

    def state(self) -> dict[str, torch.Tensor]:
        return {"low": self.low, "high": self.high}

    @classmethod
    def from_state(cls, state: dict[str, torch.Tensor], bins: int) -> ChannelBinQuantizer:
        return cls(state["low"], state["high"], bins)


class ResidualKMeansQuantizer:
    """Residual k-means: one :class:`~spokenlm.tokenizers.quantizer.KMeansQuantizer` per codebook.

    ``codebooks``: ``[K, V, C]`` (K codebooks of V centroids over C channels).
    """

    kind = "rvq"

    def __init__(self, codebooks: torch.Tensor) -> None:
        if codebooks.dim() != 3:
            raise SpokenLMError(f"codebooks must be [K, V, C], got {tuple(codebooks.shape)}")
        config = KMeansConfig(k=int(codebooks.shape[1]))
        self.levels = [KMeansQuantizer(book, config) for book in codebooks]

    @property
    def num_streams(self) -> int:
        return len(self.levels)

    @property
    def vocab_size(self) -> int:
        return self.levels[0].k

    @classmethod
    def fit(cls, frames: torch.Tensor, num_codebooks: int, codebook_size: int, seed: int = 0) -> ResidualKMeansQuantizer:
        """Mini-batch k-means codebook by codebook on the residuals of ``frames [N, C]``."""
        residual = frames.float().clone()
        books = []
        for level in range(num_codebooks):
            config = KMeansConfig(k=codebook_size, max_frames=residual.shape[0], n_init=1, seed=seed + level)
            quantizer = KMeansQuantizer.fit([residual], config)
            books.append(quantizer.centroids)
            residual -= quantizer.centroids[quantizer.assign(residual)]
        return cls(torch.stack(books))

    def quantize(self, frames: torch.Tensor, num_codebooks: int | None = None) -> torch.Tensor:
        """``[T, C]`` → ids ``[k, T]`` of the first ``num_codebooks`` (default all) codebooks."""
        residual = frames.float().clone()
        ids = []
        for level in self.levels[: num_codebooks or self.num_streams]:
            ids.append(level.assign(residual))
            residual -= level.centroids[ids[-1]]
        return torch.stack(ids)

    def dequantize(self, ids: torch.Tensor) -> torch.Tensor:
        """ids ``[k, T]`` (any ``k`` ≤ K leading codebooks) → frames ``[T, C]``, the sum of their centroids."""
        if not 1 <= ids.shape[0] <= self.num_streams:
            raise SpokenLMError(f"residual k-means decodes 1..{self.num_streams} codebooks, got {ids.shape[0]}")
        return sum(level.centroids[row] for level, row in zip(self.levels, ids))

    def state(self) -> dict[str, torch.Tensor]:
        return {"codebooks": torch.stack([level.centroids for level in self.levels])}

    @classmethod
    def from_state(cls, state: dict[str, torch.Tensor]) -> ResidualKMeansQuantizer:
        return cls(state["codebooks"])
