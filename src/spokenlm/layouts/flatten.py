"""Codebooks serialised in time (SpeechGPT, Llama-Mimi): ``[..., K, T]`` → one stream ``[..., K*T]``.

Frame-major: frame ``t``'s codebooks ``0..K-1`` are consecutive. Codebook ``k``'s id ``u`` becomes
``offsets[k] + u`` with ``offsets[k] = vocab_sizes[0] + … + vocab_sizes[k-1]``, so one joint vocabulary
of ``sum(vocab_sizes)`` ids holds every codebook. Works on numpy arrays and torch tensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate

from spokenlm.errors import SpokenLMError
from spokenlm.layouts.arrays import Ids, as_ids, constant, require_streams


def codebook_offsets(vocab_sizes: Sequence[int]) -> list[int]:
    """Where each codebook's ids start in the joint vocabulary: ``[0, V0, V0+V1, …]`` (K values)."""
    return [0, *accumulate(vocab_sizes)][: len(vocab_sizes)]


def flatten(ids: Ids, vocab_sizes: Sequence[int]) -> Ids:
    """``[..., K, T]`` codebook ids → ``[..., K*T]`` joint ids, frame-major (K = ``len(vocab_sizes)``)."""
    ids = as_ids(ids)
    k = len(vocab_sizes)
    require_streams(ids, k, "codebook ids")
    joint = ids + constant(ids, codebook_offsets(vocab_sizes))[:, None]
    return joint.swapaxes(-1, -2).reshape(*ids.shape[:-2], -1)


def unflatten(flat: Ids, vocab_sizes: Sequence[int]) -> Ids:
    """``[..., K*T]`` joint ids → ``[..., K, T]`` codebook ids, the inverse of :func:`flatten`.

    Raises :class:`SpokenLMError` when the length is not a multiple of K, or when a position holds an id
    outside its codebook's range of the joint vocabulary.
    """
    flat = as_ids(flat)
    k = len(vocab_sizes)
    if flat.ndim < 1 or k < 1 or flat.shape[-1] % k:
        raise SpokenLMError(f"a flattened stream of {k} codebooks needs a length divisible by {k}, got shape {tuple(flat.shape)}")
    frames = flat.reshape(*flat.shape[:-1], -1, k).swapaxes(-1, -2)
    ids = frames - constant(flat, codebook_offsets(vocab_sizes))[:, None]
    bad = (ids < 0) | (ids >= constant(flat, vocab_sizes)[:, None])
    if bad.any():
        raise SpokenLMError(f"flattened ids outside their codebook's range at {int(bad.sum())} positions (codebook sizes {list(vocab_sizes)})")
    return ids
