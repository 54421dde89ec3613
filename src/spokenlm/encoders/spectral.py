"""Baseline extractors without weights: MFCC (+ deltas) and log-mel, from :mod:`spokenlm.audio.features`."""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np
import torch

from spokenlm.audio.features import MelConfig, log_mel, mfcc
from spokenlm.encoders.base import ENCODERS, HopEncoder, check_waveform


def normalize_utterance(features: torch.Tensor) -> torch.Tensor:
    """Per-utterance mean and variance normalisation of ``[T, D]`` over time."""
    mean = features.mean(dim=0, keepdim=True)
    std = features.std(dim=0, keepdim=True, unbiased=False).clamp_min(1e-5)
    return (features - mean) / std


@dataclass
class MfccConfig:
    """MFCC features.

    Attributes:
        sample_rate: input rate, Hz.
        n_fft / hop_length: STFT window and hop, samples (320 at 16 kHz = 50 Hz, HuBERT's rate).
        n_mels: mel bands before the DCT.
        n_mfcc: cepstral coefficients kept.
        deltas: append first and second time derivatives (D = 3 * n_mfcc), as HuBERT iteration 1 does.
        normalize: per-utterance mean/variance normalisation.
    """

    sample_rate: int = 16000
    n_fft: int = 400
    hop_length: int = 320
    n_mels: int = 40
    n_mfcc: int = 13
    deltas: bool = True
    normalize: bool = True


class SpectralEncoder(HopEncoder):
    """Shared by MFCC and log-mel: the STFT/mel settings of a config with ``sample_rate``, ``n_fft``, ``hop_length``, ``n_mels``."""

    @property
    def mel_config(self) -> MelConfig:
        c = self.config
        return MelConfig(sample_rate=c.sample_rate, n_fft=c.n_fft, hop_length=c.hop_length, n_mels=c.n_mels)


@ENCODERS.register("mfcc")
class MfccEncoder(SpectralEncoder):
    """MFCC (+ Δ, ΔΔ) frames ``[T, D]``, ``T = 1 + samples // hop_length``."""

    type_name = "mfcc"
    config_class = MfccConfig
    config: MfccConfig

    @property
    def dim(self) -> int:
        return self.config.n_mfcc * (3 if self.config.deltas else 1)

    def extract(self, wav: np.ndarray) -> torch.Tensor:
        coeffs = mfcc(check_waveform(wav), self.mel_config, n_mfcc=self.config.n_mfcc)  # [n_mfcc, T]
        if self.config.deltas:
            array = coeffs.numpy()
            width = min(9, array.shape[1] if array.shape[1] % 2 else array.shape[1] - 1)
            if width >= 3:
                d1 = librosa.feature.delta(array, width=width, order=1)
                d2 = librosa.feature.delta(array, width=width, order=2)
            else:
                d1 = d2 = np.zeros_like(array)
            coeffs = torch.from_numpy(np.concatenate([array, d1, d2], axis=0))
        features = coeffs.T.contiguous().float()
        return normalize_utterance(features) if self.config.normalize else features


@dataclass
class LogMelConfig:
    """Log-mel features (natural log, the vocoder convention).

    Attributes:
        sample_rate: input rate, Hz.
        n_fft / hop_length: STFT window and hop, samples.
        n_mels: mel bands (D).
        normalize: per-utterance mean/variance normalisation.
    """

    sample_rate: int = 16000
    n_fft: int = 400
    hop_length: int = 320
    n_mels: int = 80
    normalize: bool = True


@ENCODERS.register("log-mel")
class LogMelEncoder(SpectralEncoder):
    """Log-mel frames ``[T, n_mels]``, ``T = 1 + samples // hop_length``."""

    type_name = "log-mel"
    config_class = LogMelConfig
    config: LogMelConfig

    @property
    def dim(self) -> int:
        return self.config.n_mels

    def extract(self, wav: np.ndarray) -> torch.Tensor:
        features = log_mel(check_waveform(wav), self.mel_config).T.contiguous()
        return normalize_utterance(features) if self.config.normalize else features
