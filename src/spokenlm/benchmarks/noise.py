"""Seeded synthetic background noises (white, pink, brown) mixed at a signal-to-noise ratio."""

from __future__ import annotations

import numpy as np

NOISE_SLOPES = {"white": 0.0, "pink": 1.0, "brown": 2.0}
"""Noise colour → power-spectrum exponent (power ∝ 1/f^slope)."""


def colored_noise(kind: str, num_samples: int, seed: int) -> np.ndarray:
    """Unit-RMS noise ``[num_samples]`` of colour ``kind`` (white, pink, brown), reproducible from ``seed``."""
    if kind not in NOISE_SLOPES:
        raise ValueError(f"unknown noise {kind!r}; known: {', '.join(NOISE_SLOPES)}")
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(num_samples))
    freqs = np.arange(spectrum.size, dtype=np.float64)
    freqs[0] = 1.0
    spectrum *= freqs ** (-NOISE_SLOPES[kind] / 2)
    noise = np.fft.irfft(spectrum, n=num_samples)
    noise -= noise.mean()
    return (noise / max(float(np.sqrt(np.mean(noise**2))), 1e-12)).astype(np.float32)


def rms(wav: np.ndarray) -> float:
    """Root-mean-square level of ``wav``."""
    return float(np.sqrt(np.mean(np.square(wav, dtype=np.float64)))) if wav.size else 0.0


def noise_at_snr(kind: str, num_samples: int, signal_rms: float, snr_db: float, seed: int) -> np.ndarray:
    """Noise ``[num_samples]`` scaled so that ``signal_rms`` / noise RMS equals ``snr_db`` dB."""
    return colored_noise(kind, num_samples, seed) * np.float32(signal_rms / 10 ** (snr_db / 20))
