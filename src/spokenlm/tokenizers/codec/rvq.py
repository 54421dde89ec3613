"""Residual vector quantization with EMA codebooks, k-means initialisation, dead-code restarts and quantizer dropout.

Each :class:`EMAVectorQuantizer` quantizes what the previous levels left over;
codebooks are not trained by gradient but by exponential moving averages of the
vectors assigned to them (SoundStream/EnCodec). The first training batch
initialises each codebook by k-means; codes whose EMA usage falls below a
threshold are restarted from random vectors of the current batch.

Under data parallelism (``torch.distributed`` with several ranks) the statistics are those of the
whole global batch: the ranks' vectors are gathered, rank 0 draws the k-means start and the
restarted codes, and its codebook is broadcast, so every rank keeps the same codebooks and they
equal what one process would learn from the same global batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _gathered(x: torch.Tensor) -> torch.Tensor:
    """``x`` of every rank concatenated in rank order (``x`` itself outside distributed training; every rank's ``x`` has one shape)."""
    if not _distributed():
        return x
    parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts)


def kmeans(x: torch.Tensor, k: int, iters: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Centroids ``[k, D]`` of vectors ``x`` ``[N, D]`` by Lloyd iterations from random vectors (with replacement when N < k)."""
    pick = torch.randint(x.shape[0], (k,), generator=generator, device="cpu").to(x.device) if x.shape[0] < k else torch.randperm(x.shape[0], generator=generator, device="cpu")[:k].to(x.device)
    centroids = x[pick].clone()
    for _ in range(iters):
        assign = torch.cdist(x, centroids).argmin(dim=1)
        counts = torch.bincount(assign, minlength=k).to(x.dtype)
        sums = torch.zeros_like(centroids).index_add_(0, assign, x)
        filled = counts > 0
        centroids[filled] = sums[filled] / counts[filled, None]
    return centroids


class EMAVectorQuantizer(nn.Module):
    """One codebook of ``size`` vectors of size ``dim``, updated by EMA while training.

    Buffers: ``embedding [size, dim]``, ``cluster_size [size]`` (EMA counts),
    ``embed_sum [size, dim]`` (EMA sums) and ``initialized`` (k-means done).
    """

    def __init__(self, dim: int, size: int, decay: float, dead_code_threshold: float, kmeans_iters: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.size = size
        self.decay = decay
        self.dead_code_threshold = dead_code_threshold
        self.kmeans_iters = kmeans_iters
        self.eps = eps
        self.register_buffer("embedding", torch.randn(size, dim) * 0.1)
        self.register_buffer("cluster_size", torch.ones(size))
        self.register_buffer("embed_sum", self.embedding.clone())
        self.register_buffer("initialized", torch.tensor(False))

    def codes(self, x: torch.Tensor) -> torch.Tensor:
        """Nearest code ids ``[N]`` of vectors ``x`` ``[N, dim]``."""
        distance = x.pow(2).sum(1, keepdim=True) - 2 * x @ self.embedding.t() + self.embedding.pow(2).sum(1)[None, :]
        return distance.argmin(dim=1)

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """Code vectors ``[..., dim]`` of ids ``[...]``."""
        return F.embedding(codes, self.embedding)

    @torch.no_grad()
    def _initialise(self, x: torch.Tensor) -> None:
        centroids = kmeans(_gathered(x), self.size, self.kmeans_iters)
        self.embedding.copy_(centroids)
        self.embed_sum.copy_(centroids)
        self.cluster_size.fill_(1.0)
        self.initialized.fill_(True)
        self._broadcast()

    @torch.no_grad()
    def _broadcast(self) -> None:
        """Every rank takes rank 0's codebook (a no-op outside distributed training)."""
        if _distributed():
            for buffer in (self.embedding, self.embed_sum, self.cluster_size):
                dist.broadcast(buffer, src=0)

    @torch.no_grad()
    def _update(self, x: torch.Tensor, codes: torch.Tensor) -> None:
        x, codes = _gathered(x), _gathered(codes)
        counts = torch.bincount(codes, minlength=self.size).to(x.dtype)
        sums = torch.zeros_like(self.embed_sum).index_add_(0, codes, x)
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.embed_sum.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        total = self.cluster_size.sum()
        smoothed = (self.cluster_size + self.eps) / (total + self.size * self.eps) * total
        self.embedding.copy_(self.embed_sum / smoothed[:, None])
        dead = self.cluster_size < self.dead_code_threshold
        if dead.any():
            replacement = x[torch.randint(x.shape[0], (int(dead.sum()),), device=x.device)]
            self.embedding[dead] = replacement
            self.embed_sum[dead] = replacement * self.dead_code_threshold
            self.cluster_size[dead] = self.dead_code_threshold
        self._broadcast()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Quantize ``x`` ``[N, dim]``: returns straight-through quantized ``[N, dim]``, codes ``[N]`` and the commitment loss."""
        if self.training and not bool(self.initialized):
            self._initialise(x.detach())
        codes = self.codes(x.detach())
        quantized = self.lookup(codes)
        if self.training:
            self._update(x.detach(), codes)
        commitment = F.mse_loss(x, quantized.detach())
        return x + (quantized - x).detach(), codes, commitment


@dataclass
class QuantizerOutput:
    """What :class:`ResidualVectorQuantizer` returns.

    Attributes:
        quantized: sum of the used levels' code vectors, ``[B, D, T]`` (straight-through).
        codes: ``[B, n_q, T]`` int64.
        first_level: the first level's quantized vectors ``[B, D, T]`` (the semantic level of mixed tokenizers).
        commitment: mean commitment loss over the used levels.
    """

    quantized: torch.Tensor
    codes: torch.Tensor
    first_level: torch.Tensor
    commitment: torch.Tensor


class ResidualVectorQuantizer(nn.Module):
    """K EMA codebooks applied to successive residuals of a latent ``[B, D, T]``."""

    def __init__(self, dim: int, num_codebooks: int, size: int, decay: float, dead_code_threshold: float, kmeans_iters: int, dropout: float) -> None:
        super().__init__()
        self.num_codebooks = num_codebooks
        self.dropout = dropout
        self.levels = nn.ModuleList(EMAVectorQuantizer(dim, size, decay, dead_code_threshold, kmeans_iters) for _ in range(num_codebooks))

    def sample_num_codebooks(self, generator: torch.Generator | None = None) -> int:
        """Quantizer dropout: K, or with probability ``dropout`` a uniform draw from 1..K."""
        if float(torch.rand((), generator=generator)) < self.dropout:
            return int(torch.randint(1, self.num_codebooks + 1, (), generator=generator))
        return self.num_codebooks

    def forward(self, latent: torch.Tensor, num_codebooks: int | None = None) -> QuantizerOutput:
        """Quantize ``latent`` ``[B, D, T]`` with the first ``num_codebooks`` levels (default K).

        Runs in fp32 under autocast too: nearest-code search and EMA updates need the precision.
        """
        with torch.autocast(latent.device.type, enabled=False):
            return self._quantize(latent.float(), self.num_codebooks if num_codebooks is None else num_codebooks)

    def _quantize(self, latent: torch.Tensor, n_q: int) -> QuantizerOutput:
        batch, dim, frames = latent.shape
        residual = latent.transpose(1, 2).reshape(-1, dim)
        total = torch.zeros_like(residual)
        codes, losses, first = [], [], residual
        for index, level in enumerate(self.levels[:n_q]):
            quantized, level_codes, commitment = level(residual)
            residual = residual - quantized.detach()
            total = total + quantized
            codes.append(level_codes.view(batch, frames))
            losses.append(commitment)
            if index == 0:
                first = quantized
        return QuantizerOutput(
            quantized=total.view(batch, frames, dim).transpose(1, 2),
            codes=torch.stack(codes, dim=1),
            first_level=first.view(batch, frames, dim).transpose(1, 2),
            commitment=torch.stack(losses).mean(),
        )

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes ``[B, n_q, T]`` (any n_q ≤ K) → latent ``[B, D, T]``."""
        return sum(level.lookup(codes[:, i]) for i, level in enumerate(self.levels[: codes.shape[1]])).transpose(1, 2)
