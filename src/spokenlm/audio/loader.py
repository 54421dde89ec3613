"""Utterances to tokenize or train on: lhotse cuts or audio-file globs → validated mono waveforms.

Every failure to produce usable audio (missing or unreadable file, empty, silent,
NaN) surfaces as :class:`~spokenlm.errors.AudioError` naming the cut and its
file, so batch jobs can skip and count it.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spokenlm.audio.io import load_audio, resample
from spokenlm.audio.validate import validate_waveform
from spokenlm.errors import AudioError, ConfigError, ManifestError


@dataclass
class AudioDataConfig:
    """Where training audio comes from (either or both).

    Attributes:
        manifest: a lhotse CutSet file (``cuts.jsonl.gz``).
        audio: glob patterns of audio files (``data/**/*.flac``), one utterance each.
        max_items: use at most this many utterances (first in order), ``None`` for all.
    """

    manifest: str | None = None
    audio: list[str] = field(default_factory=list)
    max_items: int | None = None


def _source_name(cut: Any) -> str:
    """The file behind a cut (or its id when it has none), for error messages."""
    recording = getattr(cut, "recording", None)
    sources = getattr(recording, "sources", None) or []
    return f"{cut.id} ({sources[0].source})" if sources else str(cut.id)


def load_cut(cut: Any, sr: int) -> np.ndarray:
    """Mono float32 ``[samples]`` at ``sr`` Hz of one lhotse cut, validated; :class:`AudioError` otherwise."""
    name = _source_name(cut)
    try:
        audio = cut.load_audio()
    except AudioError:
        raise
    except Exception as err:  # lhotse raises many types for missing/corrupt files
        missing = isinstance(err, FileNotFoundError) or "No such file" in str(err)
        reason = "missing" if missing else "unreadable"
        raise AudioError(name, reason, str(err).splitlines()[0] if str(err) else type(err).__name__) from err
    wav = np.asarray(audio, dtype=np.float32)
    wav = wav.mean(axis=0) if wav.ndim == 2 else wav
    return validate_waveform(resample(np.ascontiguousarray(wav), int(cut.sampling_rate), sr), sr, name)


def iter_cuts(manifest: str | Path) -> Iterator[Any]:
    """Lazily iterate the cuts of a lhotse manifest; a missing or broken file is a :class:`ManifestError`."""
    from lhotse import CutSet

    path = Path(manifest)
    if not path.is_file():
        raise ManifestError(f"{path}: manifest not found")
    try:
        yield from CutSet.from_jsonl_lazy(path)
    except (ValueError, KeyError, TypeError, OSError) as err:
        raise ManifestError(f"{path}: broken manifest ({str(err).splitlines()[0] if str(err) else type(err).__name__})") from err


@dataclass
class AudioItem:
    """One utterance: an id and a loader of its waveform."""

    id: str
    cut: Any = None
    path: Path | None = None

    def load(self, sr: int) -> np.ndarray:
        """Validated mono ``[samples]`` at ``sr`` Hz, or :class:`AudioError` naming the file."""
        if self.cut is not None:
            return load_cut(self.cut, sr)
        wav, _ = load_audio(self.path, sr)
        return validate_waveform(wav, sr, self.path)


def audio_items(config: AudioDataConfig) -> list[AudioItem]:
    """The utterances named by ``config`` (manifest cuts first, then glob matches in sorted order)."""
    items: list[AudioItem] = []
    if config.manifest:
        items += [AudioItem(str(cut.id), cut=cut) for cut in iter_cuts(config.manifest)]
    for pattern in config.audio:
        matches = sorted(glob.glob(pattern, recursive=True))
        if not matches:
            raise ConfigError(f"audio pattern {pattern!r} matches no files")
        items += [AudioItem(Path(m).stem, path=Path(m)) for m in matches]
    if not items:
        raise ConfigError("no training audio: set data.manifest or data.audio")
    return items[: config.max_items] if config.max_items else items


def load_training_audio(config: AudioDataConfig, sr: int) -> tuple[list[np.ndarray], list[AudioError]]:
    """Load every utterance of ``config`` at ``sr`` Hz; bad ones are returned as errors, not raised."""
    from rich.progress import track

    wavs, skipped = [], []
    for item in track(audio_items(config), description="loading audio", transient=True):
        try:
            wavs.append(item.load(sr))
        except AudioError as err:
            skipped.append(err)
    return wavs, skipped
