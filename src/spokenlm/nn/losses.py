"""Reconstruction and distillation losses of codecs and vocoders.

* :class:`MultiScaleSTFTLoss` — spectral convergence + log-magnitude L1 over several FFT sizes.
* :class:`MultiScaleMelLoss` — log-mel L1 over several window sizes (DAC / EnCodec): weights
  frequencies as hearing does, where the linear STFT loss is dominated by the many high bins.
* :func:`mel_l1_loss` — L1 of log-mels (HiFi-GAN's reconstruction loss, the :mod:`spokenlm.audio.mel` convention).
* :func:`semantic_distillation_loss` — 1 − cosine similarity between projected first-level
  codes and teacher features (SpeechTokenizer / Mimi).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from spokenlm.audio.features import MelConfig, log_mel
from spokenlm.audio.mel import vocoder_log_mel


def stft_magnitude(wav: torch.Tensor, n_fft: int, floor: float = 1e-4) -> torch.Tensor:
    """|STFT| ``[B, n_fft // 2 + 1, frames]`` of ``wav`` ``[B, samples]`` (Hann window, hop ``n_fft // 4``), floored at ``floor``."""
    window = torch.hann_window(n_fft, device=wav.device, dtype=wav.dtype)
    spec = torch.stft(wav, n_fft, hop_length=n_fft // 4, window=window, center=True, return_complex=True)
    return spec.abs().clamp_min(floor)


class MultiScaleSTFTLoss(nn.Module):
    """Mean over FFT sizes of ``‖|S|-|Ŝ|‖_F / ‖|S|‖_F + mean |log|S| - log|Ŝ||``.

    ``forward(estimate, target)`` takes waveforms ``[B, samples]`` (or ``[B, 1, samples]``).
    Magnitudes are floored at ``floor`` (about -80 dB below a full-scale bin) so that
    digital silence — zero padding, the empty upper band of 8 kHz corpora — does not
    dominate the log term (with a 1e-7 floor a tiny model learned far slower).
    """

    def __init__(self, fft_sizes: tuple[int, ...] = (64, 128, 256, 512, 1024, 2048), floor: float = 1e-4) -> None:
        super().__init__()
        self.fft_sizes = fft_sizes
        self.floor = floor

    def forward(self, estimate: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        estimate, target = estimate.reshape(estimate.shape[0], -1), target.reshape(target.shape[0], -1)
        total = estimate.new_zeros(())
        for n_fft in self.fft_sizes:
            est, ref = stft_magnitude(estimate, n_fft, self.floor), stft_magnitude(target, n_fft, self.floor)
            convergence = torch.linalg.norm(ref - est) / torch.linalg.norm(ref).clamp_min(1e-7)
            total = total + convergence + F.l1_loss(est.log(), ref.log())
        return total / len(self.fft_sizes)


class MultiScaleMelLoss(nn.Module):
    """Mean over scales of ``mean |log max(M, floor) - log max(M̂, floor)|``, ``M`` the mel magnitude spectrogram.

    ``forward(estimate, target)`` takes waveforms ``[B, samples]`` (or ``[B, 1, samples]``) at
    ``sample_rate`` Hz. Scale ``i`` uses an FFT of ``fft_sizes[i]`` samples, hop a quarter of it,
    and ``mel_bins[i]`` mel bands over 0 … ``sample_rate / 2`` Hz.
    """

    def __init__(self, sample_rate: int, fft_sizes: tuple[int, ...] = (256, 512, 1024, 2048),
                 mel_bins: tuple[int, ...] = (20, 40, 80, 160), floor: float = 1e-5) -> None:
        super().__init__()
        if len(fft_sizes) != len(mel_bins):
            raise ValueError(f"{len(fft_sizes)} FFT sizes but {len(mel_bins)} mel band counts")
        self.configs = [MelConfig(sample_rate=sample_rate, n_fft=n, hop_length=n // 4, n_mels=m, power=1.0)
                        for n, m in zip(fft_sizes, mel_bins)]
        self.floor = floor

    def forward(self, estimate: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        estimate, target = estimate.reshape(estimate.shape[0], -1), target.reshape(target.shape[0], -1)
        total = estimate.new_zeros(())
        for config in self.configs:
            total = total + F.l1_loss(log_mel(estimate, config, self.floor), log_mel(target, config, self.floor))
        return total / len(self.configs)


def semantic_distillation_loss(projected: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean over frames of ``1 - cos(projected_t, teacher_t)``; both ``[B, D_teacher, T]``."""
    return (1.0 - F.cosine_similarity(projected, teacher, dim=1)).mean()


def mel_l1_loss(generated: torch.Tensor, target: torch.Tensor, config: MelConfig) -> torch.Tensor:
    """Mean absolute difference of log-mels of waveforms ``[B, 1, samples]`` (or ``[B, samples]``)."""
    return F.l1_loss(vocoder_log_mel(generated.flatten(1), config), vocoder_log_mel(target.flatten(1), config))
