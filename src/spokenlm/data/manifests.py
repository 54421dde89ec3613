"""Corpora as lhotse manifests: ``recordings.jsonl.gz``, ``supervisions.jsonl.gz``, ``cuts.jsonl.gz`` in one folder.

Supervisions carry ``text``, ``speaker``, ``language`` and custom fields:

- ``split``: ``"train"``, ``"dev"`` or ``"test"``;
- ``phonemes``: space-separated ARPAbet without stress digits (``"HH AH L OW"``) where known;
- ``alignment``: ``[[phone, start_s, end_s], ...]`` where the engine gives timings
  (seconds from the start of the supervision);
- ``engine`` / ``voice`` for synthesized speech.

Files are written as a stream (one JSON line per item) and renamed into place
when complete, so a reader never sees a half-written manifest; they are read
back lazily.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spokenlm.errors import ManifestError

if TYPE_CHECKING:
    from lhotse import Recording, SupervisionSegment

RECORDINGS = "recordings.jsonl.gz"
SUPERVISIONS = "supervisions.jsonl.gz"
CUTS = "cuts.jsonl.gz"
SPLITS = ("train", "dev", "test")


def make_recording(path: str | Path, recording_id: str) -> Recording:
    """A lhotse ``Recording`` of the audio file ``path`` (absolute path stored; header read, not decoded)."""
    from lhotse import Recording

    from spokenlm.audio.io import audio_info

    audio_info(path)  # raises AudioError(missing / unreadable) naming the file
    return Recording.from_file(Path(path).resolve(), recording_id=recording_id)


def make_supervision(
    supervision_id: str,
    recording_id: str,
    start: float,
    duration: float,
    text: str | None,
    speaker: str | None,
    split: str,
    language: str = "en",
    phonemes: Sequence[str] | None = None,
    alignment: Sequence[tuple[str, float, float]] | None = None,
    **custom: Any,
) -> SupervisionSegment:
    """A lhotse ``SupervisionSegment`` (seconds) with our custom fields; ``None`` fields are left out."""
    from lhotse import SupervisionSegment

    if split not in SPLITS:
        raise ManifestError(f"{supervision_id}: split {split!r} is not one of {SPLITS}")
    fields: dict[str, Any] = {"split": split}
    if phonemes:
        fields["phonemes"] = " ".join(phonemes)
    if alignment:
        fields["alignment"] = [[p, float(a), float(b)] for p, a, b in alignment]
    fields.update({k: v for k, v in custom.items() if v is not None})
    return SupervisionSegment(
        id=supervision_id, recording_id=recording_id, start=round(start, 4), duration=round(duration, 4),
        channel=0, text=text, language=language, speaker=speaker, custom=fields,
    )


def phone_alignment(supervision: Any) -> list[tuple[str, float, float]]:
    """The ``(phone, start_s, end_s)`` list of a supervision (empty when it has none)."""
    custom = supervision.custom or {}
    return [(p, float(a), float(b)) for p, a, b in custom.get("alignment", [])]


@dataclass
class CorpusStats:
    """What :func:`write_corpus` wrote: counts and seconds per split, and distinct speakers per split."""

    utterances: dict[str, int]
    seconds: dict[str, float]
    speakers: dict[str, set[str]]

    @property
    def total_hours(self) -> float:
        return sum(self.seconds.values()) / 3600


class _JsonlGzWriter:
    """Stream dicts into ``path`` through a temporary file; :meth:`commit` renames it into place."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.tmp")
        self.handle = gzip.open(self.tmp, "wt", encoding="utf-8")

    def write(self, item: dict) -> None:
        self.handle.write(json.dumps(item, ensure_ascii=False) + "\n")

    def commit(self) -> None:
        self.handle.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.handle.close()
        self.tmp.unlink(missing_ok=True)


def write_jsonl_gz(path: str | Path, items: Iterable[dict]) -> int:
    """Write ``items`` as one JSON line each into the gzipped ``path``, atomically (a temporary file renamed into
    place when complete); returns how many were written."""
    writer = _JsonlGzWriter(Path(path))
    count = 0
    try:
        for item in items:
            writer.write(item)
            count += 1
    except BaseException:
        writer.abort()
        raise
    writer.commit()
    return count


def _local(supervision: Any) -> Any:
    """The supervision as a cut holds it: times relative to the cut start (lhotse's convention)."""
    return supervision.with_offset(-supervision.start)


def write_corpus(out_dir: str | Path, items: Iterable[tuple[Recording, Sequence[SupervisionSegment]]]) -> CorpusStats:
    """Write ``(Recording, [SupervisionSegment, ...])`` pairs as the three manifests in ``out_dir``.

    Each supervision becomes one ``MonoCut`` (same id) covering exactly its segment.
    """
    from lhotse.cut import MonoCut

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    writers = {name: _JsonlGzWriter(out_dir / name) for name in (RECORDINGS, SUPERVISIONS, CUTS)}
    stats = CorpusStats({}, {}, {})
    try:
        for recording, supervisions in items:
            writers[RECORDINGS].write(recording.to_dict())
            for sup in supervisions:
                writers[SUPERVISIONS].write(sup.to_dict())
                split = (sup.custom or {}).get("split", "train")
                stats.utterances[split] = stats.utterances.get(split, 0) + 1
                stats.seconds[split] = stats.seconds.get(split, 0.0) + sup.duration
                stats.speakers.setdefault(split, set()).add(sup.speaker or "")
                cut = MonoCut(sup.id, sup.start, sup.duration, 0, recording=recording, supervisions=[_local(sup)])
                writers[CUTS].write(cut.to_dict())
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    for writer in writers.values():
        writer.commit()
    return stats


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict | None, str]]:
    """Yield ``(line_number, parsed_dict_or_None, error)`` for each line of a (gzipped) JSONL file."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as err:
                    yield number, None, f"not JSON ({err.msg})"
                    continue
                if not isinstance(item, dict):
                    yield number, None, "not a JSON object"
                    continue
                yield number, item, ""
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise ManifestError(f"{path}: unreadable manifest ({err})") from err


@dataclass
class Corpus:
    """Lazy lhotse manifests of one corpus folder."""

    directory: Path
    recordings: Any
    supervisions: Any
    cuts: Any


def load_corpus(directory: str | Path) -> Corpus:
    """Open the manifests in ``directory`` lazily (lhotse ``RecordingSet`` / ``SupervisionSet`` / ``CutSet``)."""
    from lhotse import CutSet, RecordingSet, SupervisionSet

    directory = Path(directory)
    paths = {name: directory / name for name in (RECORDINGS, SUPERVISIONS, CUTS)}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise ManifestError(f"{directory}: not a corpus folder (missing {', '.join(missing)})")
    return Corpus(
        directory,
        RecordingSet.from_jsonl_lazy(paths[RECORDINGS]),
        SupervisionSet.from_jsonl_lazy(paths[SUPERVISIONS]),
        CutSet.from_jsonl_lazy(paths[CUTS]),
    )
