"""Batched sequence log-likelihoods under a UnitLM (used by pairwise benchmarks such as sWUGGY).

What is scored: for a sequence of model ids ``x_0 … x_{T-1}`` (``x_0`` normally BOS), the
sum over ``t = 1 … T-1`` of ``log p(x_t | x_0 … x_{t-1})`` in nats, and the number of scored
tokens ``T-1``. The first token is context only. Mean-normalised scores are ``sum / count``.
A K-stream model scores every stream's tokens after the first frame (``K·(T-1)`` tokens).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from spokenlm.errors import SpokenLMError
from spokenlm.layouts.delay import delay
from spokenlm.models.unit_lm import UnitLM


def pad_right(sequences: Sequence[torch.Tensor], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequences ``[..., T_i]`` (equal leading shapes) → (ids ``[N, ..., T_max]`` right-padded with ``pad_id``, lengths ``[N]``)."""
    lengths = torch.tensor([s.shape[-1] for s in sequences], dtype=torch.long)
    ids = torch.full((len(sequences), *sequences[0].shape[:-1], int(lengths.max())), pad_id, dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, ..., : seq.shape[-1]] = seq
    return ids, lengths


def length_batches(lengths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
    """Indices of the sequences with at least 2 tokens, in batches of ``batch_size`` of similar ``lengths`` (shortest first)."""
    order = [i for i in sorted(range(len(lengths)), key=lambda i: lengths[i]) if lengths[i] > 1]
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


@torch.inference_mode()
def log_likelihood(
    model: UnitLM, sequences: Sequence[np.ndarray | torch.Tensor], batch_size: int = 32
) -> tuple[torch.Tensor, torch.Tensor]:
    """Score model-id sequences ``[T_i]`` (one-stream model; BOS first, see :meth:`Vocabulary.encode_units`)
    or frames ``[K, T_i]`` (BOS column first, :func:`~spokenlm.data.vocab.encode_frames`).

    Frames are laid out as the model was trained (its streams' delays); every token after the first
    frame is scored, the delay padding and the delayed streams' BOS are not.

    Returns:
        (log-probs ``[N]`` float64: summed nats of the scored tokens, counts ``[N]`` int64: how many, ``K·(T_i - 1)``),
        in the order of ``sequences``. Sequences are batched by length; right padding does not change any
        score because attention is causal.
    """
    was_training = model.training
    model.eval()
    device = model.embeddings[0].weight.device
    pad, bos, delays = model.vocab.pad_id, model.vocab.bos_id, model.config.stream_delays
    seqs = [torch.as_tensor(np.asarray(s), dtype=torch.long) for s in sequences]
    seqs = [delay(s[None] if s.dim() == 1 else s, delays, pad) for s in seqs]  # [K, T_i + max delay]
    longest = max((s.shape[1] for s in seqs), default=0)
    if longest > model.config.max_seq_len:
        raise SpokenLMError(
            f"a sequence of {longest} tokens is longer than the model's max_seq_len {model.config.max_seq_len}; "
            "train with a larger model.max_seq_len or score shorter items"
        )
    totals = torch.zeros(len(seqs), dtype=torch.float64)
    counts = torch.zeros(len(seqs), dtype=torch.long)
    for rows in length_batches([s.shape[1] for s in seqs], batch_size):
        ids = pad_right([seqs[i] for i in rows], pad)[0].to(device)  # [N, K, L]
        inputs, targets = ids[..., :-1], ids[..., 1:]
        logits = model(inputs, targets=targets)
        picked = torch.stack([F.log_softmax(x.double(), dim=-1).gather(-1, targets[:, k, :, None])[..., 0]
                              for k, x in enumerate(logits)], dim=1)
        scored = (targets != pad) & (targets != bos)  # a delayed stream's BOS is context too
        totals[rows] = (picked * scored).sum(dim=(1, 2)).cpu()
        counts[rows] = scored.sum(dim=(1, 2)).cpu()
    model.train(was_training)
    return totals, counts


def unit_log_likelihood(
    model: UnitLM, unit_sequences: Sequence[np.ndarray | torch.Tensor], batch_size: int = 32
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`log_likelihood` of unit-id sequences ``[T_i]`` (or frames ``[K, T_i]``, laid out as the model's streams:
    :meth:`UnitLM.encode_frames`): each gets a BOS first, so every unit is scored (counts = K·T_i)."""
    return log_likelihood(model, [model.encode_frames(u) for u in unit_sequences], batch_size)
