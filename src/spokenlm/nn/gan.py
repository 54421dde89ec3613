"""What GAN trainers share: discriminator outputs under mixed precision, and the adversarial losses.

A discriminator returns one ``(score, [feature maps])`` pair per scale or period
(:data:`DiscriminatorOutputs`); the networks may run under bf16 autocast while the
adversarial and feature-matching losses are computed in fp32.

HiFi-GAN (Kong et al. 2020, eqs. 1-7), used by the unit vocoders:

- LSGAN discriminator: ``Σ_k E[(D_k(x) - 1)²] + E[D_k(G(s))²]``
- LSGAN generator:     ``Σ_k E[(D_k(G(s)) - 1)²]``
- feature matching:    ``Σ_k Σ_i E‖D_k^i(x) - D_k^i(G(s))‖₁``  (mean over elements per layer)

EnCodec (Défossez et al. 2022), used by the codec: hinge losses averaged over scales and
a feature matching relative to the real features' mean magnitude.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from spokenlm.perf import autocast

DiscriminatorOutputs = list[tuple[torch.Tensor, list[torch.Tensor]]]


def discriminate(discriminator: nn.Module, audio: torch.Tensor, precision: str) -> DiscriminatorOutputs:
    """Scores and feature maps of ``audio`` ``[B, 1, samples]`` (autocast per ``precision``), returned in fp32."""
    with autocast(precision, audio.device):
        outputs = discriminator(audio)
    return [(score.float(), [feature.float() for feature in features]) for score, features in outputs]


def lsgan_discriminator_loss(real: DiscriminatorOutputs, fake: DiscriminatorOutputs) -> torch.Tensor:
    """LSGAN loss of the discriminators (``fake`` computed from detached generator output)."""
    return sum(((r - 1) ** 2).mean() + (f**2).mean() for (r, _), (f, _) in zip(real, fake))


def lsgan_generator_loss(fake: DiscriminatorOutputs) -> torch.Tensor:
    """LSGAN loss of the generator."""
    return sum(((f - 1) ** 2).mean() for f, _ in fake)


def feature_matching_loss(real: DiscriminatorOutputs, fake: DiscriminatorOutputs) -> torch.Tensor:
    """L1 between discriminator feature maps of real and generated audio (real side detached)."""
    return sum(F.l1_loss(g, r.detach()) for (_, rs), (_, gs) in zip(real, fake) for r, g in zip(rs, gs))


def hinge_discriminator_loss(real: DiscriminatorOutputs, fake: DiscriminatorOutputs) -> torch.Tensor:
    """Hinge loss ``mean(relu(1 - D(x))) + mean(relu(1 + D(x̂)))`` averaged over scales."""
    losses = [F.relu(1 - r).mean() + F.relu(1 + f).mean() for (r, _), (f, _) in zip(real, fake)]
    return torch.stack(losses).mean()


def hinge_generator_loss(fake: DiscriminatorOutputs) -> torch.Tensor:
    """Adversarial hinge ``mean(relu(1 - D(x̂)))`` averaged over scales."""
    return torch.stack([F.relu(1 - f).mean() for f, _ in fake]).mean()


def relative_feature_matching_loss(real: DiscriminatorOutputs, fake: DiscriminatorOutputs) -> torch.Tensor:
    """L1 between feature maps of real and generated audio, each divided by the real map's mean magnitude, averaged."""
    matching = []
    for (_, real_features), (_, fake_features) in zip(real, fake):
        for r, f in zip(real_features, fake_features):
            matching.append(F.l1_loss(f, r.detach()) / r.detach().abs().mean().clamp_min(1e-5))
    return torch.stack(matching).mean()
