"""Speaker embeddings: resemblyzer d-vectors (GE2E speaker encoder, 16 kHz), for conditioning and for metrics.

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


PARTIALS_PER_SECOND = 1.3  # resemblyzer's defaults: 1.6 s partial windows, 1.3 per second
MIN_COVERAGE = 0.75
PARTIALS_PER_FORWARD = 256


def _partial_mels(wav: np.ndarray, sr: int) -> np.ndarray:
    """The 1.6 s partial-window mels ``[P, 160, 40]`` resemblyzer averages over, of mono ``wav`` at ``sr`` Hz."""
    from resemblyzer import audio, preprocess_wav

    signal = resample(np.asarray(wav, dtype=np.float32), sr, SPEAKER_SAMPLE_RATE)
    processed = preprocess_wav(signal)
    if processed.size < SPEAKER_SAMPLE_RATE // 10:  # silence trimming left almost nothing: use the raw clip
        processed = signal
    wav_slices, mel_slices = _encoder().compute_partial_slices(len(processed), PARTIALS_PER_SECOND, MIN_COVERAGE)
    processed = np.pad(processed, (0, max(0, wav_slices[-1].stop - len(processed))))
    mel = audio.wav_to_mel_spectrogram(processed)
    return np.stack([mel[s] for s in mel_slices])


def speaker_embeddings(wavs: list[np.ndarray], sr: int) -> np.ndarray:
    """L2-normalised d-vectors ``[N, 256]`` of mono waveforms ``[samples_i]`` at ``sr`` Hz (volume-normalised first).

    Each is resemblyzer's ``embed_utterance`` (the normalised mean of its partial-window
    embeddings); the partial windows of all waveforms go through the encoder together, in
    batches of up to 256, which is several times faster than one utterance at a time.
    """
    import torch

    if not wavs:
        return np.zeros((0, EMBEDDING_DIM), np.float32)
    partials = [_partial_mels(wav, sr) for wav in wavs]
    stacked = np.concatenate(partials)
    with torch.no_grad():
        flat = np.concatenate([_encoder()(torch.from_numpy(stacked[i : i + PARTIALS_PER_FORWARD])).numpy() for i in range(0, len(stacked), PARTIALS_PER_FORWARD)])
    bounds = np.cumsum([0] + [len(p) for p in partials])
    means = np.stack([flat[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:])])
    return (means / np.linalg.norm(means, axis=1, keepdims=True)).astype(np.float32)


def speaker_embedding(wav: np.ndarray, sr: int) -> np.ndarray:
    """L2-normalised d-vector ``[256]`` of mono ``wav`` ``[samples]`` at ``sr`` Hz (see :func:`speaker_embeddings`)."""
    return speaker_embeddings([wav], sr)[0]
