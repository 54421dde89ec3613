"""Check a corpus (folder or single manifest) and report every bad entry, not just the first.

Problem kinds: ``bad-entry`` (a line that is not a valid manifest item), ``duplicate-id``,
``missing-file``, ``unreadable``, ``duration-mismatch`` (the audio's length differs
from the manifest's, or a supervision runs past its recording), ``unknown-recording``
and ``empty-text`` (only with ``require_text``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from spokenlm.data.manifests import CUTS, RECORDINGS, SUPERVISIONS, read_jsonl
from spokenlm.data.parallel import worker_map
from spokenlm.errors import AudioError, ManifestError


@dataclass
class Problem:
    """One bad entry: what is wrong, which item, where (manifest line or audio file), details."""

    kind: str
    item_id: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}: {self.item_id}: {self.detail}"


@dataclass
class CheckReport:
    """Everything :func:`check_corpus` found, plus what it checked."""

    problems: list[Problem] = field(default_factory=list)
    recordings: int = 0
    supervisions: int = 0
    cuts: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self) -> Counter:
        """Number of problems per kind."""
        return Counter(p.kind for p in self.problems)


def _manifest_files(path: Path) -> dict[str, Path]:
    """Which manifest files to check: the three in a folder, or the one file given."""
    if path.is_dir():
        found = {name: path / name for name in (RECORDINGS, SUPERVISIONS, CUTS) if (path / name).is_file()}
        if not found:
            raise ManifestError(f"{path}: no {RECORDINGS}, {SUPERVISIONS} or {CUTS} in this folder")
        return found
    if not path.is_file():
        raise ManifestError(f"{path}: no such manifest file or folder")
    for name in (RECORDINGS, SUPERVISIONS, CUTS):
        if name.split(".")[0] in path.name:  # also lhotse recipe names like librispeech_supervisions_dev-clean.jsonl.gz
            return {name: path}
    raise ManifestError(f"{path}: cannot tell the manifest type from the name (want *recordings*, *supervisions* or *cuts*)")


def _audio_path(recording: dict) -> str:
    sources = recording.get("sources") or []
    if not sources or sources[0].get("type") != "file":
        raise ValueError("no file source")
    return str(sources[0]["source"])


def _check_audio(rec_id: str, path: str, duration: float, tolerance_s: float, decode: bool) -> Problem | None:
    """A missing, unreadable or wrong-length audio file as a :class:`Problem` (``None`` when fine)."""
    import soundfile as sf

    from spokenlm.audio.io import audio_info

    try:
        sr, frames, _ = audio_info(path)
        if decode:
            with sf.SoundFile(path) as handle:
                decoded = sum(len(block) for block in handle.blocks(blocksize=1 << 18, dtype="float32"))
            if decoded != frames:
                return Problem("unreadable", rec_id, path, f"decoded {decoded} of {frames} frames")
    except AudioError as err:
        return Problem("missing-file" if err.reason == "missing" else "unreadable", rec_id, path, err.detail or err.reason)
    except (sf.LibsndfileError, RuntimeError) as err:
        return Problem("unreadable", rec_id, path, str(err).splitlines()[0])
    actual = frames / sr
    if abs(actual - duration) > tolerance_s:
        return Problem("duration-mismatch", rec_id, path, f"audio is {actual:.3f} s, manifest says {duration:.3f} s")
    return None


def _check_audio_task(task: tuple[str, str, float, float, bool]) -> Problem | None:
    return _check_audio(*task)


def _items(manifest: Path, report: CheckReport, required: tuple[str, ...]) -> Iterator[tuple[str, dict]]:
    """Valid entries of ``manifest`` as ``(where, item)``; broken lines become problems."""
    for number, item, error in read_jsonl(manifest):
        where = f"{manifest}:{number}"
        if item is not None:
            missing = [k for k in required if k not in item]
            error = f"missing field(s) {', '.join(missing)}" if missing else ""
        if error:
            report.problems.append(Problem("bad-entry", "?" if item is None else str(item.get("id", "?")), where, error))
            continue
        yield where, item


def _duplicates(report: CheckReport, seen: set[str], item_id: str, where: str) -> None:
    if item_id in seen:
        report.problems.append(Problem("duplicate-id", item_id, where, "id already used earlier in this manifest"))
    seen.add(item_id)


def check_corpus(
    path: str | Path,
    require_text: bool = False,
    tolerance_s: float = 0.05,
    decode: bool = True,
    progress: Callable[[int], None] | None = None,
    workers: int = 2,
) -> CheckReport:
    """Check every entry of the corpus at ``path`` (folder or one manifest); never stops at the first problem.

    Args:
        require_text: report supervisions with empty or missing text.
        tolerance_s: accepted difference between a file's length and the manifest's duration, seconds.
        decode: decode every audio file fully (catches truncated files), not only its header.
        progress: called with 1 after each recording checked.
        workers: processes that read the audio files.
    """
    files = _manifest_files(Path(path))
    report = CheckReport()
    durations: dict[str, float] = {}
    rec_items: list[tuple[str, dict]] = []
    if RECORDINGS in files:
        seen: set[str] = set()
        for where, rec in _items(files[RECORDINGS], report, ("id", "sources", "duration")):
            _duplicates(report, seen, str(rec["id"]), where)
            rec_items.append((where, rec))
    if CUTS in files:
        seen = set()
        embedded: dict[str, tuple[str, dict]] = {}
        sups_from_cuts = []
        for where, cut in _items(files[CUTS], report, ("id", "start", "duration")):
            report.cuts += 1
            _duplicates(report, seen, str(cut["id"]), where)
            rec = cut.get("recording")
            if rec and "id" in rec:
                embedded.setdefault(str(rec["id"]), (where, rec))
                rec_end = float(rec.get("duration", 0.0))
                if float(cut["start"]) + float(cut["duration"]) > rec_end + tolerance_s:
                    report.problems.append(Problem("duration-mismatch", str(cut["id"]), where, f"cut ends after its recording ({rec_end:.3f} s)"))
            sups_from_cuts.extend((where, s) for s in cut.get("supervisions", []))
        if RECORDINGS not in files:
            rec_items = list(embedded.values())
    audio_tasks = []
    for where, rec in rec_items:
        rec_id, duration = str(rec["id"]), float(rec["duration"])
        durations[rec_id] = duration
        report.recordings += 1
        report.seconds += duration
        try:
            audio_tasks.append((rec_id, _audio_path(rec), duration, tolerance_s, decode))
        except (ValueError, KeyError, TypeError, IndexError):
            report.problems.append(Problem("bad-entry", rec_id, where, "recording has no file source"))
    with worker_map(workers, len(audio_tasks)) as imap:
        for problem in imap(_check_audio_task, audio_tasks):
            if problem is not None:
                report.problems.append(problem)
            if progress is not None:
                progress(1)
    if SUPERVISIONS in files:
        sup_items = _items(files[SUPERVISIONS], report, ("id", "recording_id", "start", "duration"))
    else:
        sup_items = iter(sups_from_cuts if CUTS in files else [])
    seen = set()
    for where, sup in sup_items:
        sup_id = str(sup.get("id", "?"))
        report.supervisions += 1
        if SUPERVISIONS in files:
            _duplicates(report, seen, sup_id, where)
        rec_id = str(sup.get("recording_id"))
        if durations and rec_id not in durations:
            report.problems.append(Problem("unknown-recording", sup_id, where, f"recording {rec_id!r} is not in the corpus"))
        elif rec_id in durations and float(sup["start"]) + float(sup["duration"]) > durations[rec_id] + tolerance_s:
            report.problems.append(
                Problem("duration-mismatch", sup_id, where, f"segment ends at {float(sup['start']) + float(sup['duration']):.3f} s, recording is {durations[rec_id]:.3f} s")
            )
        if require_text and not str(sup.get("text") or "").strip():
            report.problems.append(Problem("empty-text", sup_id, where, "text is required but empty"))
    return report
