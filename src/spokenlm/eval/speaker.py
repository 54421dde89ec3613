"""Speaker similarity: cosine of the d-vectors (:mod:`spokenlm.audio.speaker`) of two renditions."""

from __future__ import annotations

import numpy as np

from spokenlm.audio.speaker import speaker_embedding


def speaker_similarity(wav_a: np.ndarray, wav_b: np.ndarray, sr: int) -> float:
    """Cosine similarity in [-1, 1] of the d-vectors of two waveforms ``[samples]`` at ``sr`` Hz."""
    a, b = speaker_embedding(wav_a, sr), speaker_embedding(wav_b, sr)
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
