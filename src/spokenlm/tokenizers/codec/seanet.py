"""Causal SEANet encoder and decoder (SoundStream/EnCodec) built from the shared streaming layers.

Every convolution is causal, so feeding audio (or frames) chunk by chunk inside
``streaming()`` gives the offline output.
"""

from __future__ import annotations

import torch
from torch import nn

from spokenlm.nn.streaming import CausalConv1d, CausalConvTranspose1d, StreamingModule


class ResidualUnit(StreamingModule):
    """``x + conv1(elu(conv_dilated(elu(x))))``: ``[B, C, T]`` → ``[B, C, T]``."""

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        hidden = max(channels // 2, 1)
        self.block = nn.Sequential(
            nn.ELU(),
            CausalConv1d(channels, hidden, 3, dilation=dilation),
            nn.ELU(),
            CausalConv1d(hidden, channels, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


def _residual_stack(channels: int, layers: int) -> list[nn.Module]:
    return [ResidualUnit(channels, 3**i) for i in range(layers)]


class SEANetEncoder(StreamingModule):
    """Waveform ``[B, 1, samples]`` → latent ``[B, dimension, samples // hop]`` (hop = product of ``ratios``)."""

    def __init__(self, channels: int, ratios: list[int], dimension: int, kernel_size: int, residual_layers: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [CausalConv1d(1, channels, kernel_size)]
        width = channels
        for ratio in ratios:
            layers += _residual_stack(width, residual_layers)
            layers += [nn.ELU(), CausalConv1d(width, width * 2, 2 * ratio, stride=ratio)]
            width *= 2
        layers += [nn.ELU(), CausalConv1d(width, dimension, 3)]
        self.layers = nn.Sequential(*layers)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        return self.layers(wav)


class SEANetDecoder(StreamingModule):
    """Latent ``[B, dimension, T]`` → waveform ``[B, 1, T * hop]``."""

    def __init__(self, channels: int, ratios: list[int], dimension: int, kernel_size: int, residual_layers: int) -> None:
        super().__init__()
        width = channels * 2 ** len(ratios)
        layers: list[nn.Module] = [CausalConv1d(dimension, width, kernel_size)]
        for ratio in reversed(ratios):
            layers += [nn.ELU(), CausalConvTranspose1d(width, width // 2, 2 * ratio, stride=ratio)]
            width //= 2
            layers += _residual_stack(width, residual_layers)
        layers += [nn.ELU(), CausalConv1d(width, 1, kernel_size)]
        self.layers = nn.Sequential(*layers)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.layers(latent)
