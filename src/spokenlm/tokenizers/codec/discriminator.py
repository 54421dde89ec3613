"""Multi-scale STFT discriminator (EnCodec) with hinge losses and feature matching.

Each scale looks at the complex STFT (real and imaginary parts as two channels)
through a stack of 2-D convolutions strided along frequency.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm


class STFTDiscriminator(nn.Module):
    """One scale: waveform ``[B, samples]`` → (logits ``[B, 1, F', T']``, feature maps)."""

    def __init__(self, n_fft: int, channels: int) -> None:
        super().__init__()
        self.n_fft = n_fft
        convs = [weight_norm(nn.Conv2d(2, channels, (3, 9), padding=(1, 4)))]
        for dilation in (1, 2, 4):
            convs.append(weight_norm(nn.Conv2d(channels, channels, (3, 9), stride=(1, 2), dilation=(dilation, 1), padding=(dilation, 4))))
        convs.append(weight_norm(nn.Conv2d(channels, channels, (3, 3), padding=(1, 1))))
        self.convs = nn.ModuleList(convs)
        self.post = weight_norm(nn.Conv2d(channels, 1, (3, 3), padding=(1, 1)))

    def forward(self, wav: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        window = torch.hann_window(self.n_fft, device=wav.device, dtype=wav.dtype)
        spec = torch.stft(wav, self.n_fft, hop_length=self.n_fft // 4, window=window, return_complex=True)
        x = torch.stack([spec.real, spec.imag], dim=1).transpose(2, 3)  # [B, 2, frames, freq]
        features = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)
            features.append(x)
        return self.post(x), features


class MultiScaleSTFTDiscriminator(nn.Module):
    """Several :class:`STFTDiscriminator` scales; ``forward(wav [B, samples])`` → list of (logits, features)."""

    def __init__(self, fft_sizes: tuple[int, ...] = (256, 512, 1024), channels: int = 16) -> None:
        super().__init__()
        self.scales = nn.ModuleList(STFTDiscriminator(n, channels) for n in fft_sizes)

    def forward(self, wav: torch.Tensor) -> list[tuple[torch.Tensor, list[torch.Tensor]]]:
        wav = wav.reshape(wav.shape[0], -1)
        return [scale(wav) for scale in self.scales]


def discriminator_loss(real: list[tuple[torch.Tensor, list[torch.Tensor]]], fake: list[tuple[torch.Tensor, list[torch.Tensor]]]) -> torch.Tensor:
    """Hinge loss ``mean(relu(1 - D(x))) + mean(relu(1 + D(x̂)))`` averaged over scales."""
    losses = [F.relu(1 - r).mean() + F.relu(1 + f).mean() for (r, _), (f, _) in zip(real, fake)]
    return torch.stack(losses).mean()


def generator_losses(real: list[tuple[torch.Tensor, list[torch.Tensor]]], fake: list[tuple[torch.Tensor, list[torch.Tensor]]]) -> tuple[torch.Tensor, torch.Tensor]:
    """(adversarial hinge ``mean(relu(1 - D(x̂)))``, relative feature-matching L1), each averaged over scales."""
    adversarial = torch.stack([F.relu(1 - f).mean() for f, _ in fake]).mean()
    matching = []
    for (_, real_features), (_, fake_features) in zip(real, fake):
        for r, f in zip(real_features, fake_features):
            matching.append(F.l1_loss(f, r.detach()) / r.detach().abs().mean().clamp_min(1e-5))
    return adversarial, torch.stack(matching).mean()
