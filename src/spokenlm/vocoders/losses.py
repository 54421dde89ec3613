"""HiFi-GAN's training losses (Kong et al. 2020, eqs. 1-7), over outputs of :mod:`~spokenlm.vocoders.discriminators`.

- LSGAN discriminator: ``Σ_k E[(D_k(x) - 1)²] + E[D_k(G(s))²]``
- LSGAN generator:     ``Σ_k E[(D_k(G(s)) - 1)²]``
- feature matching:    ``Σ_k Σ_i E‖D_k^i(x) - D_k^i(G(s))‖₁``  (mean over elements per layer)
- mel L1:              ``E‖φ(x) - φ(G(s))‖₁`` with φ the log-mel
The total generator loss is ``adv + λ_fm · fm + λ_mel · mel`` (λ = 2 and 45 in HiFi-GAN).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from spokenlm.audio.features import MelConfig
from spokenlm.nn.gan import DiscriminatorOutputs as Outputs
from spokenlm.vocoders.mel import vocoder_log_mel


def discriminator_loss(real: Outputs, fake: Outputs) -> torch.Tensor:
    """LSGAN loss of the discriminators (``fake`` computed from detached generator output)."""
    return sum(((r - 1) ** 2).mean() + (f**2).mean() for (r, _), (f, _) in zip(real, fake))


def generator_adversarial_loss(fake: Outputs) -> torch.Tensor:
    """LSGAN loss of the generator."""
    return sum(((f - 1) ** 2).mean() for f, _ in fake)


def feature_matching_loss(real: Outputs, fake: Outputs) -> torch.Tensor:
    """L1 between discriminator feature maps of real and generated audio (real side detached)."""
    return sum(F.l1_loss(g, r.detach()) for (_, rs), (_, gs) in zip(real, fake) for r, g in zip(rs, gs))


def mel_l1_loss(generated: torch.Tensor, target: torch.Tensor, config: MelConfig) -> torch.Tensor:
    """Mean absolute difference of log-mels of waveforms ``[B, 1, samples]`` (or ``[B, samples]``)."""
    return F.l1_loss(vocoder_log_mel(generated.flatten(1), config), vocoder_log_mel(target.flatten(1), config))
