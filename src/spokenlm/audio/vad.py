"""Voice activity detection with silero-vad (its weights ship inside the pip package).

``speech_segments`` finds speech in a long waveform; importers cut long
recordings into utterances with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from spokenlm.errors import MissingDependencyError

VAD_SAMPLE_RATE = 16000


@dataclass
class VadConfig:
    """Segmentation settings.

    Attributes:
        threshold: speech probability above which a 32 ms window counts as speech.
        min_speech_s: shortest kept segment, seconds.
        min_silence_s: a pause at least this long ends a segment, seconds.
        max_segment_s: longer speech is split (at the longest pause inside), seconds.
        pad_s: padding added on both sides of each segment, seconds.
    """

    threshold: float = 0.5
    min_speech_s: float = 0.25
    min_silence_s: float = 0.3
    max_segment_s: float = 20.0
    pad_s: float = 0.05


def load_vad_model():
    """A fresh silero-vad model (its own recurrent state): ``model(window [512] float32 tensor, 16000) -> speech probability``
    for consecutive 32 ms windows of one live stream; ``model.reset_states()`` starts over."""
    try:
        from silero_vad import load_silero_vad
    except ImportError as err:
        raise MissingDependencyError("silero-vad", "audio-models", "voice activity detection") from err
    return load_silero_vad()


_model = lru_cache(maxsize=1)(load_vad_model)


def speech_segments(wav: np.ndarray, sr: int, config: VadConfig | None = None) -> list[tuple[float, float]]:
    """``(start_s, end_s)`` of each speech segment in mono ``wav`` ``[samples]``; ``sr`` must be 16000 Hz."""
    import torch
    from silero_vad import get_speech_timestamps

    if sr != VAD_SAMPLE_RATE:
        raise ValueError(f"silero-vad needs {VAD_SAMPLE_RATE} Hz audio, got {sr} Hz (resample first)")
    config = config or VadConfig()
    stamps = get_speech_timestamps(
        torch.from_numpy(np.ascontiguousarray(wav, dtype=np.float32)),
        _model(),
        threshold=config.threshold,
        sampling_rate=sr,
        min_speech_duration_ms=int(config.min_speech_s * 1000),
        min_silence_duration_ms=int(config.min_silence_s * 1000),
        max_speech_duration_s=config.max_segment_s,
        speech_pad_ms=int(config.pad_s * 1000),
    )
    return [(s["start"] / sr, s["end"] / sr) for s in stamps]
