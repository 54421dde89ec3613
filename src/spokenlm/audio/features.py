"""Log-mel and MFCC features in torch, batched, with every parameter explicit.

They match librosa (``librosa.feature.melspectrogram`` / ``mfcc`` with the same
parameters, Slaney mel scale and norm); the tests check it. Frames are centred:
``T = 1 + samples // hop_length``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import librosa
import numpy as np
import torch


@dataclass
class MelConfig:
    """STFT + mel parameters. Sizes are in samples, frequencies in Hz."""

    sample_rate: int = 16000
    n_fft: int = 400
    win_length: int | None = None
    hop_length: int = 160
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float | None = None
    power: float = 2.0
    center: bool = True

    @property
    def frame_rate(self) -> float:
        """Frames per second."""
        return self.sample_rate / self.hop_length


@lru_cache(maxsize=16)
def _mel_basis(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> torch.Tensor:
    return torch.from_numpy(librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)).float()


def _as_batch(wav: torch.Tensor | np.ndarray) -> tuple[torch.Tensor, bool]:
    wav = torch.as_tensor(wav, dtype=torch.float32)
    single = wav.dim() == 1
    return (wav.unsqueeze(0) if single else wav), single


def mel_spectrogram(wav: torch.Tensor | np.ndarray, config: MelConfig) -> torch.Tensor:
    """Mel power (or magnitude, ``power=1``) spectrogram: ``[samples]`` → ``[n_mels, T]``, ``[B, samples]`` → ``[B, n_mels, T]``."""
    batch, single = _as_batch(wav)
    win_length = config.win_length or config.n_fft
    window = torch.hann_window(win_length, device=batch.device)
    spec = torch.stft(
        batch,
        n_fft=config.n_fft,
        hop_length=config.hop_length,
        win_length=win_length,
        window=window,
        center=config.center,
        pad_mode="constant",
        return_complex=True,
    ).abs()
    if config.power != 1.0:
        spec = spec.pow(config.power)
    basis = _mel_basis(config.sample_rate, config.n_fft, config.n_mels, config.fmin, config.fmax).to(batch.device)
    mel = torch.matmul(basis, spec)
    return mel[0] if single else mel


def power_to_db(power: torch.Tensor, amin: float = 1e-10, top_db: float | None = 80.0) -> torch.Tensor:
    """``10 log10(max(power, amin))``, floored at ``max - top_db`` per item (librosa's ``power_to_db``, ref=1)."""
    db = 10.0 * torch.log10(power.clamp_min(amin))
    if top_db is not None:
        peak = db.amax(dim=(-2, -1), keepdim=True)
        db = torch.maximum(db, peak - top_db)
    return db


def log_mel(wav: torch.Tensor | np.ndarray, config: MelConfig, eps: float = 1e-5) -> torch.Tensor:
    """Natural-log mel spectrogram ``log(max(mel, eps))`` (the vocoder convention): ``[..., n_mels, T]``."""
    return torch.log(mel_spectrogram(wav, config).clamp_min(eps))


@lru_cache(maxsize=8)
def _dct_matrix(n_mfcc: int, n_mels: int) -> torch.Tensor:
    """Orthonormal DCT-II matrix ``[n_mfcc, n_mels]``."""
    n = torch.arange(n_mels, dtype=torch.float64)
    k = torch.arange(n_mfcc, dtype=torch.float64).unsqueeze(1)
    basis = torch.cos(math.pi / n_mels * (n + 0.5) * k) * math.sqrt(2.0 / n_mels)
    basis[0] /= math.sqrt(2.0)
    return basis.float()


def mfcc(wav: torch.Tensor | np.ndarray, config: MelConfig, n_mfcc: int = 13, top_db: float | None = 80.0) -> torch.Tensor:
    """MFCC as librosa computes it (DCT-II ortho of dB mel power): ``[..., n_mfcc, T]``."""
    db = power_to_db(mel_spectrogram(wav, config), top_db=top_db)
    return torch.matmul(_dct_matrix(n_mfcc, config.n_mels).to(db.device), db)


def warp_mel_bands(frames: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    """Stretch the mel axis of each item of ``frames`` ``[B, n_mels, T]`` by ``factors`` ``[B, 1]`` (linear interpolation,
    edges clamped): band ``b`` of the result reads band ``b / factor``. A vocal-tract-length perturbation (ContentVec's)."""
    bins = frames.shape[1]
    positions = (torch.arange(bins, dtype=torch.float32)[None] / factors).clamp(0, bins - 1)  # [B, bins]
    low = positions.floor().long()
    high = (low + 1).clamp(max=bins - 1)
    weight = (positions - low).to(frames)[..., None]  # [B, bins, 1]

    def bands(index: torch.Tensor) -> torch.Tensor:
        return frames.gather(1, index.to(frames.device)[..., None].expand(-1, -1, frames.shape[2]))

    return bands(low) * (1 - weight) + bands(high) * weight


@dataclass
class SpecAugmentConfig:
    """SpecAugment masks (Park et al. 2019) for normalised features: each mask sets a random band or span to 0 (the mean).

    Attributes:
        freq_masks: frequency masks per item.
        freq_width: widest frequency mask, bins.
        time_masks: time masks per item.
        time_width: widest time mask, frames (at the features' rate, e.g. 100 Hz mel frames).
    """

    freq_masks: int = 0
    freq_width: int = 12
    time_masks: int = 0
    time_width: int = 10


def spec_augment(frames: torch.Tensor, config: SpecAugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """``frames`` ``[n_bins, T]`` with ``config``'s masks drawn from ``generator`` set to 0 (a copy; widths drawn in ``[0, width]``)."""
    out = frames.clone()
    for masks, width, axis in ((config.freq_masks, config.freq_width, 0), (config.time_masks, config.time_width, 1)):
        size = out.shape[axis]
        for _ in range(masks):
            span = min(int(torch.randint(width + 1, (), generator=generator)), size)
            start = int(torch.randint(size - span + 1, (), generator=generator))
            out.narrow(axis, start, span).zero_()
    return out
