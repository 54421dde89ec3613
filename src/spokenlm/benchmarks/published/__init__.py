"""Importers of published pair benchmarks (sLM21 sWUGGY/sBLIMP, SALMon, sStoryCloze/tStoryCloze) from a local folder.

``spokenlm benchmarks import NAME DIR OUT`` → :func:`import_published`: the importer
registered under ``NAME`` in :data:`PUBLISHED` reads ``DIR`` in its released
layout, every audio file is checked (header read, non-empty), and ``OUT`` gets

    pairs.jsonl         our pair manifest (audio paths relative to OUT, pointing into DIR)
    published.json      {"benchmark": NAME, "source": DIR, "pairs": N}: marks OUT as a published benchmark
    import_report.json  every missing or unreadable file and every row that does not parse

``spokenlm eval pairs benchmark=OUT …`` then scores the pairs; for a folder with
``published.json`` it also calls the importer's :attr:`PublishedBenchmark.report`
with per-file scores, which writes the benchmark's own breakdown (computed by its
reference definition) and, where the benchmark has one, its submission files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spokenlm.atomic import atomic_write_json
from spokenlm.benchmarks.manifest import PairRecord, write_manifest
from spokenlm.data.import_sources import SkippedItem
from spokenlm.errors import AudioError, ManifestError
from spokenlm.registry import Registry

MARKER_NAME = "published.json"
REPORT_NAME = "import_report.json"
VARIANTS = ("summed", "normalized")

FileScores = dict[str, tuple[float, int]]  # manifest audio path → (summed log-likelihood in nats, scored tokens)


Problem = SkippedItem  # something in a release that could not be used: ``where`` (a file, or ``file:line``) and why


@dataclass
class Release:
    """What an importer read from a release folder: the pairs and the problems met on the way."""

    pairs: list[PairRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class PublishedBenchmark:
    """One registered published benchmark.

    Attributes:
        description: one line for ``--help``.
        layout: the released folder layout the importer reads.
        read: ``read(source_dir) -> Release`` with absolute audio paths in the records.
        report: ``report(records, scores, out_dir) -> dict`` where ``scores[variant]`` maps each manifest audio
            path to its score (``summed``: log-likelihood in nats; ``normalized``: per token); writes the
            reference breakdown (and submission files) into ``out_dir`` and returns the headline numbers.
    """

    description: str
    layout: str
    read: Callable[[Path], Release]
    report: Callable[[list[PairRecord], dict[str, dict[str, float]], Path], dict[str, Any]]


PUBLISHED: Registry[PublishedBenchmark] = Registry("published benchmark")


def pair_outcome(positive: float, negative: float) -> float:
    """The reference outcome of one pair: 1 when the positive scores higher, 0.5 on a tie, else 0."""
    return 1.0 if positive > negative else 0.5 if positive == negative else 0.0


def variant_scores(scores: FileScores) -> dict[str, dict[str, float]]:
    """``{path: (logprob, tokens)}`` → ``{"summed": {path: logprob}, "normalized": {path: logprob / tokens}}``."""
    return {
        "summed": {path: total for path, (total, _) in scores.items()},
        "normalized": {path: total / max(count, 1) for path, (total, count) in scores.items()},
    }


def indexed_pairs(folder: Path, index_of: Callable[[str], int], subset: str, prefix: str) -> Release:
    """Pairs of a folder of ``*.wav`` grouped by ``index_of(stem)``: the first in name order is the positive.

    This is how slamkit and the SALMon code read SALMon parts and spoken StoryCloze (two files per index,
    sorted). A name without an index, or an index without exactly two files, is a :class:`Problem`.
    """
    release = Release()
    groups: dict[int, list[Path]] = {}
    for path in sorted(folder.glob("*.wav")):
        try:
            groups.setdefault(index_of(path.stem), []).append(path)
        except (ValueError, IndexError):
            release.problems.append(Problem(str(path), "name carries no sample index"))
    for index, paths in sorted(groups.items()):
        if len(paths) != 2:
            release.problems.append(Problem(str(folder), f"sample {index} has {len(paths)} file(s), expected 2: {', '.join(p.name for p in paths)}"))
            continue
        release.pairs.append(PairRecord(
            pair_id=f"{prefix}/{index}", subset=subset, voice="", positive=str(paths[0]), negative=str(paths[1]),
            meta={"index": index},
        ))
    if not groups:
        release.problems.append(Problem(str(folder), "no .wav files"))
    return release


def accuracy_report(records: list[PairRecord], scores: dict[str, dict[str, float]], out_dir: Path) -> dict[str, Any]:
    """slamkit's numbers: the mean pair outcome per subset and over all pairs, for each score variant.

    Written to ``out_dir/reference/results.json`` and returned.
    """
    results: dict[str, Any] = {}
    for variant in VARIANTS:
        by_subset: dict[str, list[float]] = {}
        for record in records:
            outcome = pair_outcome(scores[variant][record.positive], scores[variant][record.negative])
            by_subset.setdefault(record.subset, []).append(outcome)
        everything = [o for outcomes in by_subset.values() for o in outcomes]
        results[variant] = {
            "all": sum(everything) / len(everything),
            "subsets": {name: sum(v) / len(v) for name, v in sorted(by_subset.items())},
        }
    atomic_write_json(out_dir / "reference" / "results.json", results)
    return results


def check_audio(paths: Iterable[Path]) -> list[Problem]:
    """A :class:`Problem` for every path that is missing, unreadable or empty (headers only, nothing decoded)."""
    from spokenlm.audio.io import audio_info

    problems = []
    for path in paths:
        try:
            if audio_info(path)[1] == 0:
                problems.append(Problem(str(path), "empty (no samples)"))
        except AudioError as err:
            problems.append(Problem(str(path), f"{err.reason} ({err.detail})" if err.detail else err.reason))
    return problems


@dataclass
class ImportSummary:
    """Result of :func:`import_published`: pairs written, and every problem (their pairs were left out)."""

    pairs: int
    problems: list[Problem]
    subsets: dict[str, int]


def import_published(name: str, source: str | Path, out_dir: str | Path) -> ImportSummary:
    """Read the release at ``source`` with importer ``name``, check every audio file, write ``out_dir``.

    Pairs with a missing or unreadable file are left out; the problems are returned and written to
    ``import_report.json``. Raises :class:`ManifestError` when ``source`` is not a folder or no pair is usable.
    """
    spec = PUBLISHED.get(name)
    source, out_dir = Path(source).resolve(), Path(out_dir)
    if not source.is_dir():
        raise ManifestError(f"{source}: not a folder (expected the {name} release)")
    release = spec.read(source)
    files = sorted({Path(p) for r in release.pairs for p in (r.positive, r.negative)})
    bad_audio = check_audio(files)
    bad = {Path(p.where) for p in bad_audio}
    problems = release.problems + bad_audio
    out_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for record in release.pairs:
        if Path(record.positive) in bad or Path(record.negative) in bad:
            continue
        record.positive = os.path.relpath(record.positive, out_dir.resolve())
        record.negative = os.path.relpath(record.negative, out_dir.resolve())
        records.append(record)
    atomic_write_json(out_dir / REPORT_NAME, {"source": str(source), "problems": [str(p) for p in problems]})
    if not records:
        first = f"; first: {problems[0]}" if problems else ""
        raise ManifestError(f"{source}: no usable {name} pair ({len(problems)} problem(s) in {out_dir / REPORT_NAME}{first})")
    write_manifest(out_dir / "pairs.jsonl", records)
    subsets: dict[str, int] = {}
    for record in records:
        subsets[record.subset] = subsets.get(record.subset, 0) + 1
    atomic_write_json(out_dir / MARKER_NAME, {"benchmark": name, "source": str(source), "pairs": len(records)})
    return ImportSummary(len(records), problems, dict(sorted(subsets.items())))


def published_benchmark(benchmark_dir: str | Path) -> str | None:
    """The importer name recorded in ``benchmark_dir/published.json``, or ``None`` for our own benchmarks."""
    marker = Path(benchmark_dir) / MARKER_NAME
    if not marker.is_file():
        return None
    try:
        return str(json.loads(marker.read_text())["benchmark"])
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise ManifestError(f"{marker}: not a published-benchmark marker ({err})") from err


def _register_all() -> None:
    import importlib

    for module in ("slm21", "salmon", "storycloze"):
        importlib.import_module(f"spokenlm.benchmarks.published.{module}")


_register_all()
