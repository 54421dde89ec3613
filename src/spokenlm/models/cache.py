"""Preallocated key/value caches for incremental decoding (no reallocation per token)."""

from __future__ import annotations

import torch


class LayerCache:
    """Keys and values of one attention layer, ``[B, Hkv, max_len, Dh]`` each, filled up to ``length``."""

    def __init__(self, batch: int, heads: int, max_len: int, head_dim: int, dtype: torch.dtype, device: torch.device) -> None:
        self.keys = torch.zeros(batch, heads, max_len, head_dim, dtype=dtype, device=device)
        self.values = torch.zeros_like(self.keys)
        self.length = 0

    def append(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Write ``k``, ``v`` ``[B, Hkv, T, Dh]`` after the cached ones; return all keys/values so far."""
        end = self.length + k.shape[2]
        if end > self.keys.shape[2]:
            raise ValueError(f"KV cache of {self.keys.shape[2]} tokens is full (needs {end})")
        self.keys[:, :, self.length : end] = k
        self.values[:, :, self.length : end] = v
        self.length = end
        return self.keys[:, :, :end], self.values[:, :, :end]


class KVCache:
    """One :class:`LayerCache` per transformer block, sharing a position counter."""

    def __init__(self, layers: list[LayerCache]) -> None:
        self.layers = layers

    @property
    def length(self) -> int:
        """Tokens already cached (the position of the next token)."""
        return self.layers[0].length
