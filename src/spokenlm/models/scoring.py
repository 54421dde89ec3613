"""Batched sequence log-likelihoods under a UnitLM (used by pairwise benchmarks such as sWUGGY).

What is scored: for a sequence of model ids ``x_0 … x_{T-1}`` (``x_0`` normally BOS), the
sum over ``t = 1 … T-1`` of ``log p(x_t | x_0 … x_{t-1})`` in nats, and the number of scored
tokens ``T-1``. The first token is context only. Mean-normalised scores are ``sum / count``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from spokenlm.errors import SpokenLMError
from spokenlm.models.unit_lm import UnitLM


def pad_right(sequences: Sequence[torch.Tensor], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequences ``[T_i]`` → (ids ``[N, T_max]`` padded with ``pad_id``, lengths ``[N]``)."""
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.long)
    ids = torch.full((len(sequences), int(lengths.max())), pad_id, dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = seq
    return ids, lengths


@torch.inference_mode()
def log_likelihood(
    model: UnitLM, sequences: Sequence[np.ndarray | torch.Tensor], batch_size: int = 32
) -> tuple[torch.Tensor, torch.Tensor]:
    """Score model-id sequences ``[T_i]`` (BOS first; see :meth:`Vocabulary.encode_units`).

    Returns:
        (log-probs ``[N]`` float64: summed nats of tokens 1 … T_i-1, counts ``[N]`` int64: T_i - 1),
        in the order of ``sequences``. Sequences are batched by length; right padding does not
        change any score because attention is causal.
    """
    was_training = model.training
    model.eval()
    device = model.embeddings[0].weight.device
    seqs = [torch.as_tensor(np.asarray(s), dtype=torch.long) for s in sequences]
    longest = max((len(s) for s in seqs), default=0)
    if longest > model.config.max_seq_len:
        raise SpokenLMError(
            f"a sequence of {longest} tokens is longer than the model's max_seq_len {model.config.max_seq_len}; "
            "train with a larger model.max_seq_len or score shorter items"
        )
    totals = torch.zeros(len(seqs), dtype=torch.float64)
    counts = torch.tensor([max(len(s) - 1, 0) for s in seqs], dtype=torch.long)
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    for start in range(0, len(order), batch_size):
        rows = [i for i in order[start : start + batch_size] if len(seqs[i]) > 1]
        if not rows:
            continue
        ids, lengths = pad_right([seqs[i] for i in rows], model.vocab.pad_id)
        ids = ids.to(device)
        logp = F.log_softmax(model(ids[:, :-1]).double(), dim=-1)
        picked = logp.gather(-1, ids[:, 1:, None])[..., 0]
        valid = torch.arange(ids.shape[1] - 1, device=device)[None] < (lengths.to(device)[:, None] - 1)
        totals[rows] = (picked * valid).sum(1).cpu()
    model.train(was_training)
    return totals, counts


def unit_log_likelihood(
    model: UnitLM, unit_sequences: Sequence[np.ndarray | torch.Tensor], batch_size: int = 32
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`log_likelihood` of unit-id sequences ``[T_i]``: each is mapped to model ids with BOS first,
    so every unit is scored (counts = T_i)."""
    return log_likelihood(model, [model.vocab.encode_units(u) for u in unit_sequences], batch_size)
