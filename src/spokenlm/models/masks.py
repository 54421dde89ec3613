"""Attention masks and positions for packed documents and padded batches."""

from __future__ import annotations

import torch


def document_mask(segments: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Segment ids ``[B, T]`` (one id per packed document) → (mask ``[B, 1, T, T]``, positions ``[B, T]``).

    Each token attends causally only to tokens of its own document, and rotary positions
    restart at 0 at every document start.
    """
    t = segments.shape[1]
    same = segments[:, :, None] == segments[:, None, :]
    causal = torch.ones(t, t, dtype=torch.bool, device=segments.device).tril()
    starts = torch.ones_like(segments, dtype=torch.bool)
    starts[:, 1:] = segments[:, 1:] != segments[:, :-1]
    index = torch.arange(t, device=segments.device).expand_as(segments)
    last_start = torch.where(starts, index, torch.zeros_like(index)).cummax(dim=1).values
    return (same & causal)[:, None], index - last_start
