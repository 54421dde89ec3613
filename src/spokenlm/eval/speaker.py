"""Speaker similarity: cosine of resemblyzer d-vectors (GE2E speaker encoder, 16 kHz).

The encoder ships inside the ``resemblyzer`` package (no download). It is
loaded once per process and reused.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from spokenlm.audio.io import resample
from spokenlm.errors import MissingDependencyError

SPEAKER_SAMPLE_RATE = 16000
EMBEDDING_DIM = 256


@lru_cache(maxsize=1)
def _encoder() -> Any:
    try:
        from resemblyzer import VoiceEncoder
    except ImportError as err:
        raise MissingDependencyError("resemblyzer", "audio-models", "speaker embeddings") from err
    return VoiceEncoder("cpu", verbose=False)


def speaker_embedding(wav: np.ndarray, sr: int) -> np.ndarray:
    """L2-normalised d-vector ``[256]`` of mono ``wav`` ``[samples]`` at ``sr`` Hz (volume-normalised first)."""
    from resemblyzer import preprocess_wav

    audio = resample(np.asarray(wav, dtype=np.float32), sr, SPEAKER_SAMPLE_RATE)
    processed = preprocess_wav(audio)
    if processed.size < SPEAKER_SAMPLE_RATE // 10:  # silence trimming left almost nothing: use the raw clip
        processed = audio
    return _encoder().embed_utterance(processed).astype(np.float32)


def speaker_similarity(wav_a: np.ndarray, wav_b: np.ndarray, sr: int) -> float:
    """Cosine similarity in [-1, 1] of the d-vectors of two waveforms ``[samples]`` at ``sr`` Hz."""
    a, b = speaker_embedding(wav_a, sr), speaker_embedding(wav_b, sr)
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
