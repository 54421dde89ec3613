"""The few array operations the layout functions need, for numpy arrays and torch tensors alike.

Each returns the kind (and for torch the dtype and device) of its ``like`` argument, so a layout function
given ``[B, K, T]`` torch ids on a GPU returns torch ids there, and given numpy ids returns numpy ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import torch

from spokenlm.errors import SpokenLMError

Ids = TypeVar("Ids", np.ndarray, torch.Tensor)


def full(like: Ids, shape: Sequence[int], value: int) -> Ids:
    """An array of ``shape`` filled with ``value``, of ``like``'s kind and dtype."""
    if isinstance(like, torch.Tensor):
        return torch.full(tuple(shape), value, dtype=like.dtype, device=like.device)
    return np.full(tuple(shape), value, dtype=like.dtype)


def constant(like: Ids, values: Sequence[int]) -> Ids:
    """``values`` ``[N]`` as an array of ``like``'s kind and dtype."""
    if isinstance(like, torch.Tensor):
        return torch.tensor(list(values), dtype=like.dtype, device=like.device)
    return np.asarray(values, dtype=like.dtype)


def concat(parts: Sequence[Ids], axis: int) -> Ids:
    """``parts`` joined along ``axis``."""
    if isinstance(parts[0], torch.Tensor):
        return torch.cat(list(parts), dim=axis)
    return np.concatenate(parts, axis=axis)


def as_ids(ids: Ids | Sequence[int]) -> Ids:
    """numpy arrays and torch tensors pass through; anything else (lists) becomes an int64 numpy array."""
    return ids if isinstance(ids, (np.ndarray, torch.Tensor)) else np.asarray(ids, dtype=np.int64)


def require_streams(ids: Ids, num_streams: int, what: str = "ids") -> None:
    """Raise a one-line :class:`SpokenLMError` unless ``ids`` is ``[..., K, T]`` with ``K = num_streams``."""
    if ids.ndim < 2 or ids.shape[-2] != num_streams:
        raise SpokenLMError(f"{what} must be [..., K, T] with K = {num_streams}, got shape {tuple(ids.shape)}")
