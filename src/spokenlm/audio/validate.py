"""Checks that reject audio a model should not train on, each with a typed reason.

Reasons: ``non-finite`` (NaN/inf), ``empty``, ``too-short``, ``silent``, ``clipped``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spokenlm.errors import AudioError


@dataclass
class ValidationConfig:
    """Thresholds for :func:`validate_waveform`.

    Attributes:
        min_duration: shortest accepted clip, seconds.
        silence_dbfs: a clip whose peak is below this level (dB full scale) is silent.
        clip_level: absolute sample value counted as clipped.
        max_clipped_fraction: largest accepted share of clipped samples.
    """

    min_duration: float = 0.1
    silence_dbfs: float = -60.0
    clip_level: float = 0.999
    max_clipped_fraction: float = 0.01


def validate_waveform(
    wav: np.ndarray, sr: int, source: str | Path = "<waveform>", config: ValidationConfig | None = None
) -> np.ndarray:
    """Check mono ``wav`` ``[samples]`` at ``sr`` Hz; return it unchanged or raise :class:`AudioError`."""
    config = config or ValidationConfig()
    if wav.size == 0:
        raise AudioError(source, "empty", "no samples")
    if not np.all(np.isfinite(wav)):
        bad = int(np.size(wav) - np.count_nonzero(np.isfinite(wav)))
        raise AudioError(source, "non-finite", f"{bad} NaN/inf samples")
    duration = wav.size / sr
    if duration < config.min_duration:
        raise AudioError(source, "too-short", f"{duration:.3f} s < {config.min_duration} s")
    peak = float(np.max(np.abs(wav)))
    peak_db = 20 * np.log10(max(peak, 1e-12))
    if peak_db < config.silence_dbfs:
        raise AudioError(source, "silent", f"peak {peak_db:.1f} dBFS < {config.silence_dbfs} dBFS")
    clipped = float(np.mean(np.abs(wav) >= config.clip_level))
    if clipped > config.max_clipped_fraction:
        raise AudioError(source, "clipped", f"{clipped:.1%} of samples at full scale")
    return wav


def load_valid_audio(
    path: str | Path, sr: int = 16000, config: ValidationConfig | None = None
) -> np.ndarray:
    """:func:`~spokenlm.audio.io.load_audio` then :func:`validate_waveform`; returns ``[samples]`` at ``sr`` Hz."""
    from spokenlm.audio.io import load_audio

    wav, _ = load_audio(path, sr)
    return validate_waveform(wav, sr, path, config)
