"""Griffin-Lim mel vocoder: the dependency-free fallback (no weights).

The log-mel (:data:`~spokenlm.audio.mel.HIFIGAN_MEL` convention) is mapped
back to a linear magnitude with the pseudo-inverse of the mel filterbank
(clamped at zero), then the phase is estimated by fast Griffin-Lim
(Perraudin et al. 2013, momentum 0.99).
"""

from __future__ import annotations

from functools import lru_cache

import librosa
import torch

from spokenlm.audio.features import MelConfig
from spokenlm.audio.mel import HIFIGAN_MEL


@lru_cache(maxsize=4)
def _inverse_mel_basis(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> torch.Tensor:
    basis = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    return torch.linalg.pinv(torch.from_numpy(basis).float())  # [n_fft // 2 + 1, n_mels]


class GriffinLim:
    """``__call__(log_mel [B, n_mels, T]) -> wav [B, T * hop]`` at ``config.sample_rate`` Hz."""

    def __init__(self, config: MelConfig = HIFIGAN_MEL, n_iter: int = 32, momentum: float = 0.99, seed: int = 0) -> None:
        self.config = config
        self.n_iter = n_iter
        self.momentum = momentum
        self.seed = seed

    def magnitude(self, log_mel: torch.Tensor) -> torch.Tensor:
        """Linear STFT magnitude ``[B, n_fft // 2 + 1, T]`` from a log-magnitude mel ``[B, n_mels, T]``."""
        c = self.config
        inverse = _inverse_mel_basis(c.sample_rate, c.n_fft, c.n_mels, c.fmin, c.fmax)
        return torch.matmul(inverse, log_mel.exp()).clamp_min(0.0)

    def __call__(self, log_mel: torch.Tensor) -> torch.Tensor:
        c = self.config
        magnitude = self.magnitude(log_mel)
        window = torch.hann_window(c.win_length or c.n_fft)
        length = (log_mel.shape[-1] - 1) * c.hop_length if c.center else None
        generator = torch.Generator().manual_seed(self.seed)
        angles = torch.exp(2j * torch.pi * torch.rand(magnitude.shape, generator=generator))
        previous = torch.zeros_like(angles)

        def istft(spec: torch.Tensor) -> torch.Tensor:
            return torch.istft(spec, c.n_fft, c.hop_length, c.win_length, window, center=c.center, length=length)

        for _ in range(self.n_iter):
            rebuilt = torch.stft(istft(magnitude * angles), c.n_fft, c.hop_length, c.win_length, window, center=c.center, return_complex=True)
            angles = rebuilt - (self.momentum / (1 + self.momentum)) * previous
            angles = angles / angles.abs().clamp_min(1e-8)
            previous = rebuilt
        wav = istft(magnitude * angles)
        return torch.nn.functional.pad(wav, (0, log_mel.shape[-1] * c.hop_length - wav.shape[-1])).clamp(-1.0, 1.0)
