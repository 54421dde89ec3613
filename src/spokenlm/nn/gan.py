"""What GAN trainers share: discriminator outputs under mixed precision.

A discriminator returns one ``(score, [feature maps])`` pair per scale or period
(:data:`DiscriminatorOutputs`); the networks may run under bf16 autocast while the
adversarial and feature-matching losses are computed in fp32.
"""

from __future__ import annotations

import torch
from torch import nn

from spokenlm.perf import autocast

DiscriminatorOutputs = list[tuple[torch.Tensor, list[torch.Tensor]]]


def discriminate(discriminator: nn.Module, audio: torch.Tensor, precision: str) -> DiscriminatorOutputs:
    """Scores and feature maps of ``audio`` ``[B, 1, samples]`` (autocast per ``precision``), returned in fp32."""
    with autocast(precision, audio.device):
        outputs = discriminator(audio)
    return [(score.float(), [feature.float() for feature in features]) for score, features in outputs]
