"""A small causal transformer for the codec bottleneck (as in Mimi), streamable with a bounded KV cache.

Each frame attends to itself and the ``context - 1`` frames before it; positions
use rotary embeddings counted from the start of the stream, so streaming frame
by frame gives the offline output.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from spokenlm.nn.streaming import StreamingModule


def _rotate(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding of ``x`` ``[B, H, T, dh]`` at integer ``positions`` ``[T]``."""
    half = x.shape[-1] // 2
    freqs = 10000.0 ** (-torch.arange(half, device=x.device, dtype=torch.float32) / half)
    angles = positions.to(torch.float32)[:, None] * freqs[None, :]
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class CausalSelfAttention(StreamingModule):
    """Windowed causal multi-head self-attention: ``[B, T, D]`` → ``[B, T, D]``.

    Streaming state: the keys/values of the last ``context - 1`` frames and the stream offset.
    """

    def __init__(self, dim: int, heads: int, context: int) -> None:
        super().__init__()
        if dim % heads or (dim // heads) % 2:
            raise ValueError(f"dim {dim} must split into {heads} heads of even size")
        self.heads = heads
        self.context = context
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.out = nn.Linear(dim, dim, bias=False)

    def _init_state(self, batch_size: int) -> dict:
        weight = self.qkv.weight
        empty = torch.zeros(batch_size, self.heads, 0, weight.shape[1] // self.heads, dtype=weight.dtype, device=weight.device)
        return {"k": empty, "v": empty.clone(), "offset": 0}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        state = self._state if self.is_streaming else self._init_state(x.shape[0])
        batch, frames, dim = x.shape
        q, k, v = self.qkv(x).view(batch, frames, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        offset = state["offset"]
        positions = torch.arange(offset, offset + frames, device=x.device)
        q, k = _rotate(q, positions), _rotate(k, positions)
        k = torch.cat([state["k"], k], dim=2)
        v = torch.cat([state["v"], v], dim=2)
        key_positions = torch.arange(offset + frames - k.shape[2], offset + frames, device=x.device)
        distance = positions[:, None] - key_positions[None, :]
        allowed = (distance >= 0) & (distance < self.context)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
        if self.is_streaming:
            first = max(0, k.shape[2] - (self.context - 1))
            self._state = {"k": k[:, :, first:], "v": v[:, :, first:], "offset": offset + frames}
        return self.out(y.transpose(1, 2).reshape(batch, frames, dim))


class TransformerLayer(StreamingModule):
    """Pre-norm block: attention then a GELU MLP, each with a residual: ``[B, T, D]`` → ``[B, T, D]``."""

    def __init__(self, dim: int, heads: int, context: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attention = CausalSelfAttention(dim, heads, context)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class BottleneckTransformer(StreamingModule):
    """Channels-first wrapper for the codec latent: ``[B, D, T]`` → ``[B, D, T]``."""

    def __init__(self, dim: int, layers: int, heads: int, context: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(TransformerLayer(dim, heads, context) for _ in range(layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] == 0:
            return x
        h = x.transpose(1, 2)
        for layer in self.layers:
            h = layer(h)
        return h.transpose(1, 2)
