"""Fundamental frequency (F0) with librosa's pYIN.

F0 tracks are ``[frames]`` float arrays in Hz with ``0`` for unvoiced frames,
at ``frame_rate`` Hz (the hop is ``sr / frame_rate`` samples).
"""

from __future__ import annotations

import librosa
import numpy as np

F0_MIN_HZ = 60.0
F0_MAX_HZ = 500.0


def extract_f0(wav: np.ndarray, sr: int, frame_rate: float = 100.0, fmin: float = F0_MIN_HZ, fmax: float = F0_MAX_HZ) -> np.ndarray:
    """pYIN F0 of mono ``wav`` ``[samples]`` at ``sr`` Hz → ``[1 + samples // hop]`` Hz, 0 where unvoiced.

    ``hop = round(sr / frame_rate)`` samples; frames are centred like :mod:`spokenlm.audio.features`.
    """
    hop = int(round(sr / frame_rate))
    frame_length = max(2048 if sr > 16000 else 1024, 4 * hop)
    f0, voiced, _ = librosa.pyin(
        np.asarray(wav, dtype=np.float32), fmin=fmin, fmax=fmax, sr=sr, frame_length=frame_length, hop_length=hop, center=True
    )
    f0 = np.where(voiced & np.isfinite(f0), f0, 0.0)
    return f0[: 1 + len(wav) // hop].astype(np.float32)
