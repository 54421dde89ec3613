"""Speak benchmark utterances with TTS voices: parallel, resumable, skipping (and counting) failures.

An :class:`UtteranceSpec` is one output file made of one or more
:class:`Segment` s, each spoken by its own voice from words or from ARPAbet
phones, optionally over a background noise (SALMon-style items switch voice
or noise between segments). Files are 16-bit FLAC at the configured rate.

Resuming: a file that exists and opens is kept; leftover temporary files of
an interrupted run are removed and their utterances spoken again.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from spokenlm.audio.io import audio_info, save_audio
from spokenlm.audio.validate import validate_waveform
from spokenlm.benchmarks.noise import noise_at_snr, rms
from spokenlm.errors import AudioError, SpokenLMError


class Synthesizer(Protocol):
    """What the builders need from a TTS engine (``spokenlm.data.tts`` fits it through :class:`TtsModule`)."""

    def synthesize(self, text: str, voice: str, sr: int) -> np.ndarray:
        """Speak ``text`` with voice id ``voice``; mono float32 ``[samples]`` at ``sr`` Hz."""

    def synthesize_phonemes(self, phones: list[str], voice: str, sr: int) -> np.ndarray:
        """Speak ARPAbet ``phones`` exactly as given; mono float32 ``[samples]`` at ``sr`` Hz."""


class TtsModule:
    """:class:`Synthesizer` backed by ``spokenlm.data.tts`` (voices named by id, e.g. ``espeak-ng:en-us+m3``)."""

    def __init__(self) -> None:
        from spokenlm.data import tts

        self._tts = tts

    def synthesize(self, text: str, voice: str, sr: int) -> np.ndarray:
        return _waveform(self._tts.synthesize(text, self._tts.Voice.parse(voice), sr=sr))

    def synthesize_phonemes(self, phones: list[str], voice: str, sr: int) -> np.ndarray:
        return _waveform(self._tts.synthesize_phonemes(list(phones), self._tts.Voice.parse(voice), sr=sr))


def _waveform(result: object) -> np.ndarray:
    """The ``[samples]`` array of a TTS result (an array, or an object with a ``.wav`` array)."""
    return np.asarray(getattr(result, "wav", result), dtype=np.float32)


def select_voices(config: SynthesisConfig, seed: int = 0, synth: Synthesizer | None = None) -> list[str]:
    """``config.voices`` if given, else ``num_voices`` voices of ``language`` from ``engines``.

    Held out means another speaker: no picked voice shares a speaker identity
    (:attr:`spokenlm.data.tts.Voice.identity`, e.g. the espeak-ng variant ``m3`` in
    any accent) with ``training_voices``, and picked voices are different speakers.
    The pick is a seeded shuffle, so it spreads over accents and variants; with
    ``synth``, a voice is only picked once it speaks a test word.
    """
    from spokenlm.data import tts

    trained = {tts.Voice.parse(v).identity for v in config.training_voices}
    if config.voices:
        clash = sorted(v for v in config.voices if tts.Voice.parse(v).identity in trained)
        if clash:
            raise SpokenLMError(f"voices {', '.join(clash)} are training speakers; benchmark voices must be held out")
        return list(config.voices)
    candidates = sorted(
        (v for v in tts.available_voices(config.engines) if v.language.startswith(config.language) and v.identity not in trained),
        key=lambda v: v.id,
    )
    random.Random(seed).shuffle(candidates)
    picked: list[str] = []
    speakers: set[str] = set()
    for voice in candidates:
        if len(picked) == config.num_voices:
            break
        if voice.identity in speakers:
            continue
        if synth is not None:
            try:
                synth.synthesize("hello", voice.id, config.sample_rate)
            except SpokenLMError:
                continue
        picked.append(voice.id)
        speakers.add(voice.identity)
    if len(picked) < config.num_voices:
        raise SpokenLMError(
            f"only {len(picked)} working held-out {config.language} speakers in {', '.join(config.engines)}; "
            f"need {config.num_voices} (lower synthesis.num_voices or add engines)"
        )
    return picked


@dataclass
class Segment:
    """A stretch of one utterance: ``text`` (or ``phones`` when given) spoken by ``voice``, over ``noise`` if set."""

    voice: str
    text: str = ""
    phones: list[str] | None = None
    noise: str | None = None


@dataclass
class UtteranceSpec:
    """One audio file to make: ``key`` is its path relative to the benchmark folder, without suffix."""

    key: str
    segments: list[Segment]


@dataclass
class SynthesisConfig:
    """How benchmark audio is spoken.

    Attributes:
        voices: voice ids to use; empty picks ``num_voices`` held-out voices automatically.
        num_voices: how many voices to pick when ``voices`` is empty.
        training_voices: voice ids the model was trained on; no voice of the same speaker is picked.
        engines: TTS engines to pick voices from.
        language: language prefix the picked voices must speak (e.g. ``en``).
        voices_per_item: each item is spoken by this many voices (one pair per voice).
        sample_rate: output rate, Hz.
        workers: parallel synthesis threads.
        gap_seconds: silence between the segments of one utterance, seconds.
        snr_db: speech-to-background-noise ratio for noisy segments, dB.
    """

    voices: list[str] = field(default_factory=list)
    num_voices: int = 4
    training_voices: list[str] = field(default_factory=list)
    engines: list[str] = field(default_factory=lambda: ["espeak-ng"])
    language: str = "en"
    voices_per_item: int = 1
    sample_rate: int = 16000
    workers: int = 2
    gap_seconds: float = 0.15
    snr_db: float = 10.0


@dataclass
class SynthesisReport:
    """Outcome of :func:`synthesize_all`: made or kept files, and failures by key with the reason."""

    made: int = 0
    kept: int = 0
    failed: dict[str, str] = field(default_factory=dict)


def audio_path(out_dir: Path, key: str) -> Path:
    """Where utterance ``key`` is written: ``out_dir/key.flac``."""
    return out_dir / f"{key}.flac"


def render(spec: UtteranceSpec, synth: Synthesizer, config: SynthesisConfig) -> np.ndarray:
    """Speak every segment of ``spec`` and join them; returns mono float32 ``[samples]`` at ``config.sample_rate``."""
    sr = config.sample_rate
    parts = []
    for segment in spec.segments:
        if segment.phones is not None:
            wav = synth.synthesize_phonemes(segment.phones, segment.voice, sr)
        else:
            wav = synth.synthesize(segment.text, segment.voice, sr)
        parts.append(validate_waveform(np.asarray(wav, dtype=np.float32), sr, f"{spec.key} ({segment.voice})"))
    level = rms(np.concatenate(parts))
    gap = np.zeros(int(round(config.gap_seconds * sr)), dtype=np.float32)
    out = []
    for index, (segment, wav) in enumerate(zip(spec.segments, parts)):
        piece = np.concatenate([wav, gap]) if index < len(parts) - 1 else wav
        if segment.noise:
            seed = zlib.crc32(f"{spec.key}:{index}".encode())
            piece = piece + noise_at_snr(segment.noise, piece.size, level, config.snr_db, seed)
        out.append(piece)
    wav = np.concatenate(out)
    peak = float(np.max(np.abs(wav)))
    return wav * np.float32(0.95 / peak) if peak > 0.95 else wav


def _is_complete(path: Path) -> bool:
    try:
        return audio_info(path)[1] > 0
    except AudioError:
        return False


def remove_partial_files(out_dir: Path) -> int:
    """Delete temporary files an interrupted run left under ``out_dir``; returns how many."""
    leftovers = list(out_dir.rglob(".*.tmp")) if out_dir.exists() else []
    for path in leftovers:
        path.unlink(missing_ok=True)
    return len(leftovers)


def synthesize_all(
    specs: Sequence[UtteranceSpec], out_dir: Path, synth: Synthesizer, config: SynthesisConfig, label: str = "speaking"
) -> SynthesisReport:
    """Write every utterance of ``specs`` under ``out_dir`` (skipping complete files), ``config.workers`` at a time.

    An utterance whose synthesis fails is recorded in ``report.failed`` with a one-line reason; the run goes on.
    """
    from rich.progress import Progress

    remove_partial_files(out_dir)
    report = SynthesisReport()
    todo = []
    for spec in specs:
        if _is_complete(audio_path(out_dir, spec.key)):
            report.kept += 1
        else:
            todo.append(spec)

    def make(spec: UtteranceSpec) -> None:
        save_audio(audio_path(out_dir, spec.key), render(spec, synth, config), config.sample_rate)

    with Progress(transient=True) as progress, ThreadPoolExecutor(max(1, config.workers)) as pool:
        task = progress.add_task(label, total=len(todo))
        futures = {pool.submit(make, spec): spec for spec in todo}
        for future in as_completed(futures):
            spec = futures[future]
            try:
                future.result()
                report.made += 1
            except (SpokenLMError, OSError, ValueError, RuntimeError) as err:
                report.failed[spec.key] = str(err).splitlines()[0] if str(err) else type(err).__name__
            progress.advance(task)
    return report
