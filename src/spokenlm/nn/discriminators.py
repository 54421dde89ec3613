"""GAN discriminators: HiFi-GAN's multi-period (MPD) and multi-scale (MSD) ones, and EnCodec's multi-scale STFT one.

Each sub-discriminator returns ``(logits, feature_maps)``; a discriminator
returns the list over its sub-discriminators. Inputs are waveforms ``[B, 1, samples]``.
The STFT discriminator looks at the complex STFT (real and imaginary parts as two
channels) through 2-D convolutions strided along frequency, at several FFT sizes.
``channels`` scales the widths (HiFi-GAN's are 32…1024 for MPD, 128…1024 for MSD;
tiny CPU configs use a fraction).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm, weight_norm

from spokenlm.nn.conv import LRELU_SLOPE
from spokenlm.nn.gan import DiscriminatorOutputs as Outputs


@dataclass
class DiscriminatorConfig:
    """Attributes:
    periods: MPD periods (samples).
    num_scales: MSD scales (each one average-pools ×2 more).
    channels: width multiplier base (HiFi-GAN: 32 for MPD; MSD uses 4× this).
    """

    periods: list[int] = field(default_factory=lambda: [2, 3, 5, 7, 11])
    num_scales: int = 3
    channels: int = 32


def _run_stack(convs: nn.ModuleList, post: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Leaky-ReLU conv stack then ``post``: (flattened scores ``[B, N]``, every layer's output for feature matching)."""
    features = []
    for conv in convs:
        x = F.leaky_relu(conv(x), LRELU_SLOPE)
        features.append(x)
    x = post(x)
    features.append(x)
    return x.flatten(1), features


class PeriodDiscriminator(nn.Module):
    """Reshapes ``[B, 1, samples]`` to ``[B, 1, samples / p, p]`` and applies 2-D convs along time."""

    def __init__(self, period: int, channels: int) -> None:
        super().__init__()
        self.period = period
        widths = [1, channels, channels * 4, channels * 16, channels * 32]
        self.convs = nn.ModuleList(
            weight_norm(nn.Conv2d(widths[i], widths[i + 1], (5, 1), (3, 1), padding=(2, 0))) for i in range(4)
        )
        self.convs.append(weight_norm(nn.Conv2d(widths[-1], widths[-1], (5, 1), 1, padding=(2, 0))))
        self.post = weight_norm(nn.Conv2d(widths[-1], 1, (3, 1), 1, padding=(1, 0)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        b, c, t = x.shape
        if t % self.period:
            x = F.pad(x, (0, self.period - t % self.period), "reflect")
        x = x.view(b, c, -1, self.period)
        return _run_stack(self.convs, self.post, x)


class ScaleDiscriminator(nn.Module):
    """Grouped strided 1-D convs over ``[B, 1, samples]`` (spectral norm on the first scale, as in HiFi-GAN)."""

    def __init__(self, channels: int, use_spectral_norm: bool = False) -> None:
        super().__init__()
        norm = spectral_norm if use_spectral_norm else weight_norm
        c = channels * 4
        specs = [(1, c, 15, 1, 1, 7), (c, c, 41, 2, 4, 20), (c, 2 * c, 41, 2, 16, 20), (2 * c, 4 * c, 41, 4, 16, 20),
                 (4 * c, 8 * c, 41, 4, 16, 20), (8 * c, 8 * c, 41, 1, 16, 20), (8 * c, 8 * c, 5, 1, 1, 2)]
        self.convs = nn.ModuleList(norm(nn.Conv1d(i, o, k, s, groups=min(g, i), padding=p)) for i, o, k, s, g, p in specs)
        self.post = norm(nn.Conv1d(8 * c, 1, 3, 1, padding=1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return _run_stack(self.convs, self.post, x)


class HiFiGANDiscriminator(nn.Module):
    """MPD + MSD together: ``forward(wav [B, 1, samples]) -> Outputs`` over all sub-discriminators."""

    def __init__(self, config: DiscriminatorConfig) -> None:
        super().__init__()
        self.periods = nn.ModuleList(PeriodDiscriminator(p, config.channels) for p in config.periods)
        self.scales = nn.ModuleList(ScaleDiscriminator(config.channels, use_spectral_norm=i == 0) for i in range(config.num_scales))
        self.pool = nn.AvgPool1d(4, 2, padding=2)

    def forward(self, wav: torch.Tensor) -> Outputs:
        outputs = [d(wav) for d in self.periods]
        x = wav
        for i, d in enumerate(self.scales):
            if i:
                x = self.pool(x)
            outputs.append(d(x))
        return outputs


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
