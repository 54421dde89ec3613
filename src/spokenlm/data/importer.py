"""``spokenlm data import``: existing corpora into lhotse manifests, bad files reported and skipped.

Kinds: ``fsdd``, ``pairs`` (audio + .txt), ``jsonl``, ``hf`` (a dataset saved with HF ``datasets``:
:mod:`spokenlm.data.hf_datasets`) and ``lhotse:<recipe>`` for
every corpus lhotse has a recipe for (``lhotse:librispeech``, ``lhotse:ljspeech``,
``lhotse:vctk``, ``lhotse:libritts`` …), prepared from a local folder; nothing is
downloaded. Recordings longer than ``long_recording_s`` are cut into utterances
with silero-vad (their segments carry no text).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spokenlm.audio.vad import VadConfig
from spokenlm.audio.validate import ValidationConfig
from spokenlm.data import import_sources
from spokenlm.data.hf_datasets import HFColumns
from spokenlm.data.import_sources import SkippedItem, SourceItem
from spokenlm.data.manifests import CorpusStats
from spokenlm.data.parallel import worker_map
from spokenlm.errors import AudioError, ManifestError, SpokenLMError

FINDERS = {"fsdd": import_sources.fsdd, "pairs": import_sources.audio_text_pairs, "jsonl": import_sources.jsonl_list}
LHOTSE_PREFIX = "lhotse:"
HF_KIND = "hf"  # a dataset saved with HF datasets (spokenlm.data.hf_datasets)


@dataclass
class ImportConfig:
    """How to import a corpus.

    Attributes:
        kind: ``fsdd``, ``pairs``, ``jsonl`` or ``lhotse:<recipe>``.
        split: split of every utterance not listed below.
        dev_speakers: speakers whose utterances go to ``dev``.
        test_speakers: speakers whose utterances go to ``test``.
        language: language code stored in supervisions.
        long_recording_s: recordings longer than this (seconds) are cut with VAD.
        vad: VAD settings for long recordings.
        validation: audio checks; a failing file is skipped and reported.
        workers: processes that decode and check files in parallel.
        hf: kind ``hf`` only: the audio, text, speaker and id columns.
    """

    kind: str = "pairs"
    split: str = "train"
    dev_speakers: list[str] = field(default_factory=list)
    test_speakers: list[str] = field(default_factory=list)
    language: str = "en"
    long_recording_s: float = 30.0
    vad: VadConfig = field(default_factory=VadConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    workers: int = 2
    hf: HFColumns = field(default_factory=HFColumns)


@dataclass
class ImportResult:
    """Manifest stats and every skipped entry (``where: reason``)."""

    stats: CorpusStats
    skipped: list[str]


def _split_of(speaker: str | None, config: ImportConfig, default: str) -> str:
    """``test``/``dev`` for listed speakers, else ``default``."""
    if speaker in config.test_speakers:
        return "test"
    if speaker in config.dev_speakers:
        return "dev"
    return default


def _segments(item: SourceItem, config: ImportConfig) -> list[tuple[float, float, str | None]]:
    """``(start_s, duration_s, text)`` per utterance: the whole file, or its VAD segments when long."""
    from spokenlm.audio.io import load_audio
    from spokenlm.audio.validate import validate_waveform
    from spokenlm.audio.vad import VAD_SAMPLE_RATE, speech_segments

    wav, sr = load_audio(item.path, None)
    validate_waveform(wav, sr, item.path, config.validation)
    duration = wav.size / sr
    if duration <= config.long_recording_s:
        return [(0.0, duration, item.text)]
    from spokenlm.audio.io import resample

    found = speech_segments(resample(wav, sr, VAD_SAMPLE_RATE), VAD_SAMPLE_RATE, config.vad)
    if not found:
        raise AudioError(item.path, "no-speech", "VAD found no speech in a long recording")
    return [(start, min(end, duration) - start, None) for start, end in found]


def _examine(task: tuple[SourceItem, ImportConfig]) -> tuple[Any, list[Any]] | str:
    """Validate one file and make its recording and supervisions, or return why it is skipped. Runs in a worker."""
    from spokenlm.data.manifests import make_recording, make_supervision

    item, config = task
    try:
        segments = _segments(item, config)
        recording = make_recording(item.path, item.id)
    except SpokenLMError as err:
        return str(err)
    split = _split_of(item.speaker, config, _part_split(item.split, config.split) if item.split else config.split)
    supervisions = [
        make_supervision(
            item.id if len(segments) == 1 else f"{item.id}-{k:04d}", item.id, start, length, text,
            item.speaker, split, config.language,
        )
        for k, (start, length, text) in enumerate(segments)
    ]
    return recording, supervisions


def _from_items(
    items: Iterable[SourceItem | SkippedItem], config: ImportConfig, skipped: list[str], tick: Callable[[], None]
) -> Iterator[tuple[Any, list[Any]]]:
    """Recordings with supervisions of the found items, in the finder's order, examined by ``config.workers`` processes."""
    tasks: list[tuple[SourceItem, ImportConfig]] = []
    seen: set[str] = set()
    for item in items:
        if isinstance(item, SkippedItem):
            skipped.append(str(item))
            tick()
        elif item.id in seen:
            skipped.append(f"{item.path}: duplicate id {item.id!r}")
            tick()
        else:
            seen.add(item.id)
            tasks.append((item, config))
    with worker_map(config.workers, len(tasks)) as imap:
        for result in imap(_examine, tasks):
            tick()
            if isinstance(result, str):
                skipped.append(result)
            else:
                yield result


def _lhotse_parts(recipe: str, source: Path) -> list[tuple[str, Any, Any]]:
    """Run lhotse's ``prepare_<recipe>`` on ``source``; ``(part, RecordingSet, SupervisionSet)`` per part."""
    import lhotse.recipes

    prepare = getattr(lhotse.recipes, f"prepare_{recipe}", None)
    if prepare is None:
        known = sorted(n.removeprefix("prepare_") for n in dir(lhotse.recipes) if n.startswith("prepare_"))
        raise ManifestError(f"lhotse has no recipe {recipe!r}; known: {', '.join(known)}")
    try:
        prepared = prepare(corpus_dir=source)
    except (AssertionError, FileNotFoundError, ValueError, KeyError, OSError) as err:
        raise ManifestError(f"{source}: lhotse recipe {recipe!r} failed ({type(err).__name__}: {err})") from err
    if "recordings" in prepared:
        prepared = {"all": prepared}
    return [(part, manifests["recordings"], manifests.get("supervisions")) for part, manifests in prepared.items()]


def _part_split(part: str, default: str) -> str:
    name = part.lower()
    return "test" if "test" in name else "dev" if ("dev" in name or "valid" in name) else default


def _from_lhotse(
    recipe: str, source: Path, config: ImportConfig, skipped: list[str], tick: Callable[[], None]
) -> Iterator[tuple[Any, list[Any]]]:
    from spokenlm.audio.validate import validate_waveform

    for part, recordings, supervisions in _lhotse_parts(recipe, source):
        by_recording: dict[str, list[Any]] = {}
        for sup in supervisions or []:
            by_recording.setdefault(sup.recording_id, []).append(sup)
        for recording in recordings:
            tick()
            try:
                validate_waveform(recording.load_audio()[0], recording.sampling_rate, recording.sources[0].source, config.validation)
            except SpokenLMError as err:
                skipped.append(str(err))
                continue
            except Exception as err:  # noqa: BLE001 - lhotse raises many kinds of errors for a bad file
                skipped.append(f"{recording.sources[0].source}: unreadable ({type(err).__name__}: {err})")
                continue
            default = _part_split(part, config.split)
            sups = [
                dataclasses.replace(s, custom={**(s.custom or {}), "split": _split_of(s.speaker, config, default)})
                for s in by_recording.get(recording.id, [])
            ]
            yield recording, sups


def import_corpus(
    config: ImportConfig, source: str | Path, out_dir: str | Path, progress: Callable[[], None] | None = None
) -> ImportResult:
    """Import the corpus at ``source`` (folder or JSONL file) into manifests in ``out_dir``.

    ``progress()`` is called once per entry examined.
    """
    from spokenlm.config import save_config
    from spokenlm.data.manifests import write_corpus

    source = Path(source)
    if not source.exists():
        raise ManifestError(f"{source}: no such file or folder")
    tick = progress or (lambda: None)
    skipped: list[str] = []
    if config.kind.startswith(LHOTSE_PREFIX):
        pairs = _from_lhotse(config.kind.removeprefix(LHOTSE_PREFIX), source, config, skipped, tick)
    elif config.kind == HF_KIND:
        from spokenlm.data.hf_datasets import hf_dataset_items

        pairs = _from_items(hf_dataset_items(source, Path(out_dir) / "audio", config.hf), config, skipped, tick)
    elif config.kind in FINDERS:
        pairs = _from_items(FINDERS[config.kind](source), config, skipped, tick)
    else:
        raise ManifestError(f"unknown import kind {config.kind!r}; use {', '.join(FINDERS)}, {HF_KIND} or lhotse:<recipe>")
    stats = write_corpus(out_dir, pairs)
    save_config(config, out_dir)
    return ImportResult(stats, skipped)
