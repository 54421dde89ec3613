"""Reconstruction and distillation losses of the codec.

* :class:`MultiScaleSTFTLoss` — spectral convergence + log-magnitude L1 over several FFT sizes.
* :func:`semantic_distillation_loss` — 1 − cosine similarity between projected first-level
  codes and teacher features (SpeechTokenizer / Mimi).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


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


def semantic_distillation_loss(projected: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean over frames of ``1 - cos(projected_t, teacher_t)``; both ``[B, D_teacher, T]``."""
    return (1.0 - F.cosine_similarity(projected, teacher, dim=1)).mean()
