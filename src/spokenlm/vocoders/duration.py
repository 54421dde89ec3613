"""Duration prediction for deduplicated units, so LM outputs (one token per run) can be voiced.

``DurationPredictor`` reads deduplicated ids ``[B, K, N]`` and predicts each
token's run length in frames of the undeduplicated rate; it regresses
``log(duration)`` with a masked MSE and rounds ``exp`` to ≥ 1 frame at inference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from spokenlm.tokens import Tokens
from spokenlm.nn.conv import conv1d


@dataclass
class DurationConfig:
    """Attributes: dim (channels), num_layers (conv layers), kernel_size (tokens)."""

    dim: int = 128
    num_layers: int = 3
    kernel_size: int = 3


class DurationPredictor(nn.Module):
    """``forward(ids [B, K, N]) -> log-duration [B, N]`` (frames)."""

    def __init__(self, vocab_size: int, num_streams: int, config: DurationConfig) -> None:
        super().__init__()
        self.embeds = nn.ModuleList(nn.Embedding(vocab_size, config.dim) for _ in range(num_streams))
        self.convs = nn.ModuleList(conv1d(config.dim, config.dim, config.kernel_size) for _ in range(config.num_layers))
        self.norms = nn.ModuleList(nn.LayerNorm(config.dim) for _ in range(config.num_layers))
        self.out = nn.Linear(config.dim, 1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = sum(embed(ids[:, k]) for k, embed in enumerate(self.embeds))  # [B, N, D]
        for conv, norm in zip(self.convs, self.norms):
            x = x + torch.relu(norm(conv(x.transpose(1, 2)).transpose(1, 2)))
        return self.out(x).squeeze(-1)

    @property
    def context(self) -> int:
        """Tokens on each side that one token's prediction reads: a token's duration is final once this many follow it."""
        return sum(conv.padding[0] for conv in self.convs)

    def loss(self, ids: torch.Tensor, durations: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Masked MSE of log-durations; ``durations``/``mask`` ``[B, N]`` (mask True on real tokens)."""
        error = (self.forward(ids) - durations.clamp_min(1).float().log()) ** 2
        return (error * mask).sum() / mask.sum().clamp_min(1)

    @torch.inference_mode()
    def predict(self, tokens: Tokens) -> Tokens:
        """``tokens`` (deduplicated, ``ids [K, N]``) with predicted ``durations [N]`` (≥ 1 frame)."""
        if len(tokens) == 0:
            return Tokens(tokens.ids, tokens.frame_rate, tokens.tokenizer, np.zeros(0, dtype=np.int64))
        log_d = self.forward(torch.from_numpy(tokens.ids)[None])[0]
        durations = log_d.exp().round().clamp_min(1).long().numpy()
        return Tokens(tokens.ids, tokens.frame_rate, tokens.tokenizer, durations)
