"""The delay pattern (MusicGen, Moshi): stream ``k`` shifted right by ``delays[k]`` frames.

With delays ``(0, 1, 1)``, frame ``t`` of the delayed ids holds codebook 0 of frame ``t`` and codebooks 1, 2
of frame ``t - 1``, so a model predicting one delayed frame at a time sees the coarse codebook of a
frame before it predicts that frame's fine codebooks. Works on numpy arrays and torch tensors (the
result is of the input's kind, dtype and device), with any leading batch dimensions.
"""

from __future__ import annotations

from collections.abc import Sequence

from spokenlm.errors import SpokenLMError
from spokenlm.layouts.arrays import Ids, as_ids, full, require_streams


def _check(ids: Ids, delays: Sequence[int]) -> None:
    require_streams(ids, len(delays), "delayed ids")
    if any(d < 0 for d in delays):
        raise SpokenLMError(f"delays must be >= 0 frames, got {list(delays)}")


def delay(ids: Ids, delays: Sequence[int], pad: int) -> Ids:
    """``[..., K, T]`` → ``[..., K, T + max(delays)]``: row ``k`` starts at frame ``delays[k]``; ``pad`` elsewhere."""
    ids = as_ids(ids)
    _check(ids, delays)
    t = ids.shape[-1]
    out = full(ids, (*ids.shape[:-1], t + max(delays, default=0)), pad)
    for k, d in enumerate(delays):
        out[..., k, d : d + t] = ids[..., k, :]
    return out


def undelay(ids: Ids, delays: Sequence[int]) -> Ids:
    """``[..., K, T + max(delays)]`` → ``[..., K, T]``, the inverse of :func:`delay` (the pad frames dropped)."""
    ids = as_ids(ids)
    _check(ids, delays)
    t = ids.shape[-1] - max(delays, default=0)
    if t < 0:
        raise SpokenLMError(f"{ids.shape[-1]} frames are fewer than the largest delay {max(delays)}")
    out = full(ids, (*ids.shape[:-1], t), 0)
    for k, d in enumerate(delays):
        out[..., k, :] = ids[..., k, d : d + t]
    return out

