"""Unit → mel model of the input-enhanced path: conditioning + ConvNeXt stack → log-mel frames.

Input ids are already at the mel frame rate (see :func:`spokenlm.vocoders.frames.resample_frames`);
output is a log-mel ``[B, n_mels, T]`` in the :data:`~spokenlm.audio.mel.HIFIGAN_MEL`
convention, so a pretrained HiFi-GAN or Griffin-Lim can voice it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from spokenlm.nn.streaming import StreamingModule
from spokenlm.vocoders.conditioning import ConditioningConfig, UnitConditioner
from spokenlm.nn.conv import conv1d
from spokenlm.vocoders.istft import ConvNeXtBlock


@dataclass
class UnitToMelConfig:
    """Attributes:
    dim / intermediate_dim / num_layers / kernel_size: ConvNeXt stack shape (kernel in mel frames).
    n_mels: output mel bands.
    causal: causal convolutions (streamable).
    """

    dim: int = 256
    intermediate_dim: int = 768
    num_layers: int = 6
    kernel_size: int = 7
    n_mels: int = 80
    causal: bool = False


class UnitToMel(StreamingModule):
    """``forward(ids [B, K, T], speaker=None, f0_bins=None) -> log-mel [B, n_mels, T]``."""

    def __init__(self, conditioning: ConditioningConfig, config: UnitToMelConfig) -> None:
        super().__init__()
        self.conditioner = UnitConditioner(conditioning)
        self.embed = conv1d(conditioning.dim, config.dim, config.kernel_size, causal=config.causal)
        self.blocks = torch.nn.ModuleList(
            ConvNeXtBlock(config.dim, config.intermediate_dim, config.kernel_size, config.causal) for _ in range(config.num_layers)
        )
        self.norm = torch.nn.LayerNorm(config.dim)
        self.out = torch.nn.Linear(config.dim, config.n_mels)

    def forward(self, ids: torch.Tensor, speaker: torch.Tensor | None = None, f0_bins: torch.Tensor | None = None) -> torch.Tensor:
        x = self.embed(self.conditioner(ids, speaker, f0_bins))
        for block in self.blocks:
            x = block(x)
        return self.out(self.norm(x.transpose(1, 2))).transpose(1, 2)
