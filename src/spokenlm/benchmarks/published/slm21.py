"""ZeroSpeech 2021 sLM21: sWUGGY (``lexical``) and sBLIMP (``syntactic``), dev and test, scored as ZR2021 does.

Released layout (the ``sLM21-dataset`` the ``zerospeech-benchmarks`` toolkit installs)::

    DIR/lexical/{dev,test}/gold.csv     filename,id,voice,frequency,word,phones,length,correct
    DIR/lexical/{dev,test}/<filename>.wav
    DIR/syntactic/{dev,test}/gold.csv   filename,id,voice,type,subtype,transcription,correct
    DIR/syntactic/{dev,test}/<filename>.wav

(``semantic/`` is not a pair task and is not read.) Pairs follow the toolkit's scorer
(``zerospeech.tasks.lm``): a lexical pair is a word (``correct=1``) and a non-word
(``correct=0``) with the same ``id`` and ``voice``; a syntactic pair is the k-th
grammatical row of ``gold.csv`` with its k-th ungrammatical row.

Scoring (:func:`report`) is ZR2021's: a pair scores 1 when the positive side has the
higher score, 0.5 on a tie; ``by_pair`` averages over voices per ``id`` (lexical) or per
``(type, subtype, id)`` (syntactic); the headline is the mean over ``by_pair``. Lexical
adds per-frequency bands (oov, 1-5, 6-20, 21-100, >100, LibriSpeech counts, left-closed
like the toolkit's ``pd.cut(..., right=False)``), the in-vocabulary mean (bands weighted by
their pair counts, oov left out) and per-length means; syntactic adds per-type means.
Submission files (``lexical/dev.txt`` …, one ``filename score`` line per audio file) are
written for both the summed and the length-normalised scores.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from spokenlm.atomic import atomic_write_json, atomic_write_text
from spokenlm.benchmarks.manifest import PairRecord
from spokenlm.benchmarks.published import PUBLISHED, Problem, PublishedBenchmark, Release, VARIANTS, pair_outcome

TASKS = {
    "lexical": ("filename", "id", "voice", "frequency", "word", "phones", "length", "correct"),
    "syntactic": ("filename", "id", "voice", "type", "subtype", "transcription", "correct"),
}
SPLITS = ("dev", "test")
FREQUENCY_BANDS = ((0, 1, "oov"), (1, 5, "1-5"), (5, 20, "6-20"), (20, 100, "21-100"), (100, math.inf, ">100"))
INTEGER_COLUMNS = {"lexical": ("frequency", "length", "correct"), "syntactic": ("correct",)}


def frequency_band(frequency: int) -> str:
    """ZR2021's band of a LibriSpeech word count (left-closed intervals)."""
    return next(label for low, high, label in FREQUENCY_BANDS if low <= frequency < high)


def read_gold(path: Path, task: str) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Rows of one ``gold.csv`` (integer columns converted) and a :class:`Problem` per row that does not parse."""
    columns = TASKS[task]
    problems: list[Problem] = []
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                return [], [Problem(str(path), f"header lacks column(s) {', '.join(missing)}")]
            rows = []
            for line, row in enumerate(reader, 2):
                if None in row or any(row[c] is None for c in columns):
                    problems.append(Problem(f"{path}:{line}", f"expected {len(reader.fieldnames)} fields"))
                    continue
                try:
                    rows.append({**row, **{c: int(float(row[c])) for c in INTEGER_COLUMNS[task]}, "line": line})
                except ValueError:
                    problems.append(Problem(f"{path}:{line}", f"{'/'.join(INTEGER_COLUMNS[task])} must be integers"))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        return [], [Problem(str(path), f"unreadable ({err})")]
    return rows, problems


def _lexical_pairs(rows: list[dict[str, Any]], folder: Path, split: str) -> tuple[list[PairRecord], list[Problem]]:
    """Word × non-word rows sharing ``(voice, id)`` (as the toolkit's merge does)."""
    nonword_texts_missing = all(not r["word"] for r in rows if r["correct"] == 0)
    by_key: dict[tuple[str, str], dict[int, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        by_key[(row["voice"], row["id"])][row["correct"]].append(row)
    pairs, problems = [], []
    for (voice, item), sides in by_key.items():
        if not sides[1] or not sides[0]:
            lonely = (sides[1] or sides[0])[0]
            problems.append(Problem(f"{folder / 'gold.csv'}:{lonely['line']}", f"id {item} voice {voice} has no {'non-word' if sides[1] else 'word'}"))
            continue
        for k, (word, nonword) in enumerate((w, n) for w in sides[1] for n in sides[0]):
            text = nonword["phones"] if nonword_texts_missing else nonword["word"]
            pairs.append(PairRecord(
                pair_id=f"lexical/{split}/{item}/{voice}" + (f"/{k}" if k else ""),
                subset=frequency_band(word["frequency"]), voice=voice,
                positive=str(folder / f"{word['filename']}.wav"), negative=str(folder / f"{nonword['filename']}.wav"),
                positive_text=word["word"], negative_text=text,
                meta={"task": "lexical", "split": split, "id": item, "frequency": word["frequency"], "length": word["length"],
                      "positive_file": word["filename"], "negative_file": nonword["filename"]},
            ))
    return pairs, problems


def _syntactic_pairs(rows: list[dict[str, Any]], folder: Path, split: str) -> tuple[list[PairRecord], list[Problem]]:
    """The k-th grammatical row with the k-th ungrammatical row (the toolkit pairs by position)."""
    good = [r for r in rows if r["correct"] == 1]
    bad = [r for r in rows if r["correct"] == 0]
    problems = []
    if len(good) != len(bad):
        problems.append(Problem(str(folder / "gold.csv"), f"{len(good)} grammatical but {len(bad)} ungrammatical rows"))
    pairs = []
    for pos, neg in zip(good, bad):
        if (pos["id"], pos["voice"]) != (neg["id"], neg["voice"]):
            problems.append(Problem(f"{folder / 'gold.csv'}:{neg['line']}", f"pairs with line {pos['line']} but its id/voice differ"))
            continue
        pairs.append(PairRecord(
            pair_id=f"syntactic/{split}/{pos['type']}/{pos['subtype']}/{pos['id']}/{pos['voice']}",
            subset=pos["type"], voice=pos["voice"],
            positive=str(folder / f"{pos['filename']}.wav"), negative=str(folder / f"{neg['filename']}.wav"),
            positive_text=pos["transcription"], negative_text=neg["transcription"],
            meta={"task": "syntactic", "split": split, "id": pos["id"], "subtype": pos["subtype"],
                  "positive_file": pos["filename"], "negative_file": neg["filename"]},
        ))
    return pairs, problems


PAIRERS = {"lexical": _lexical_pairs, "syntactic": _syntactic_pairs}


def read(source: Path) -> Release:
    """Every ``{lexical,syntactic}/{dev,test}`` set present under ``source``."""
    release = Release()
    found = False
    for task in TASKS:
        for split in SPLITS:
            folder = source / task / split
            if not folder.is_dir():
                continue
            found = True
            if not (folder / "gold.csv").is_file():
                release.problems.append(Problem(str(folder / "gold.csv"), "missing"))
                continue
            rows, problems = read_gold(folder / "gold.csv", task)
            pairs, pair_problems = PAIRERS[task](rows, folder, split)
            release.pairs += pairs
            release.problems += problems + pair_problems
    if not found:
        release.problems.append(Problem(str(source), "no lexical/ or syntactic/ dev or test folder (not an sLM21 release)"))
    return release


def _mean_std(values: list[float]) -> dict[str, Any]:
    """``n``, mean and sample standard deviation (``None`` for one value), as pandas' ``agg(count, mean, std)``."""
    return {"n": len(values), "score": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else None}


def _by_pair(records: list[PairRecord], scores: dict[str, float], key: tuple[str, ...]) -> list[dict[str, Any]]:
    """Outcome of every pair averaged over voices per ``key`` of its meta (ZR2021's ``by_pair``)."""
    groups: dict[tuple, list[float]] = defaultdict(list)
    first: dict[tuple, PairRecord] = {}
    for record in records:
        k = tuple(record.subset if name == "type" else record.meta[name] for name in key)
        groups[k].append(pair_outcome(scores[record.positive], scores[record.negative]))
        first.setdefault(k, record)
    rows = []
    for k, outcomes in sorted(groups.items()):
        record = first[k]
        rows.append({**dict(zip(key, k)), "positive": record.positive_text, "negative": record.negative_text,
                     "frequency": record.meta.get("frequency"), "length": record.meta.get("length"),
                     "score": statistics.fmean(outcomes)})
    return rows


def _breakdown(rows: list[dict[str, Any]], column: str, order: list[Any]) -> list[dict[str, Any]]:
    groups: dict[Any, list[float]] = defaultdict(list)
    for row in rows:
        groups[row[column]].append(row["score"])
    return [{column: value, **_mean_std(groups[value])} for value in order if groups[value]]


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    """``columns`` of ``rows`` as CSV (floats with 4 decimals, like the toolkit's score files; ``None`` empty)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow("" if row[c] is None else f"{row[c]:.4f}" if isinstance(row[c], float) else row[c] for c in columns)
    atomic_write_text(path, buffer.getvalue())


def _score_set(task: str, split: str, records: list[PairRecord], scores: dict[str, float], out: Path) -> dict[str, Any]:
    """ZR2021's score files of one (task, split) in ``out`` and its headline numbers."""
    stem = f"score_{task}_{split}"
    if task == "lexical":
        by_pair = _by_pair(records, scores, ("id",))
        for row in by_pair:
            row["band"] = frequency_band(row["frequency"])
        by_frequency = _breakdown(by_pair, "band", [band for _, _, band in FREQUENCY_BANDS])
        by_length = _breakdown(by_pair, "length", sorted({r["length"] for r in by_pair}))
        in_vocab = [b for b in by_frequency if b["band"] != "oov"]
        _write_csv(out / f"{stem}_by_pair.csv", by_pair, ["id", "positive", "negative", "frequency", "length", "score"])
        _write_csv(out / f"{stem}_by_frequency.csv", by_frequency, ["band", "n", "score", "std"])
        _write_csv(out / f"{stem}_by_length.csv", by_length, ["length", "n", "score", "std"])
        return {
            "pairs": len(records), "all": statistics.fmean(r["score"] for r in by_pair),
            "in_vocab": sum(b["n"] * b["score"] for b in in_vocab) / sum(b["n"] for b in in_vocab) if in_vocab else None,
            "by_frequency": by_frequency, "by_length": by_length,
        }
    by_pair = _by_pair(records, scores, ("type", "subtype", "id"))
    by_type = _breakdown(by_pair, "type", sorted({r["type"] for r in by_pair}))
    _write_csv(out / f"{stem}_by_pair.csv", by_pair, ["type", "subtype", "id", "positive", "negative", "score"])
    _write_csv(out / f"{stem}_by_type.csv", by_type, ["type", "n", "score", "std"])
    return {"pairs": len(records), "all": statistics.fmean(r["score"] for r in by_pair), "by_type": by_type}


def write_submission(records: list[PairRecord], scores: dict[str, float], folder: Path) -> list[Path]:
    """ZeroSpeech submission files ``{task}/{split}.txt``: one ``filename score`` line per audio file, sorted."""
    lines: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for record in records:
        files = lines[(record.meta["task"], record.meta["split"])]
        files[record.meta["positive_file"]] = scores[record.positive]
        files[record.meta["negative_file"]] = scores[record.negative]
    written = []
    for (task, split), files in sorted(lines.items()):
        path = folder / task / f"{split}.txt"
        atomic_write_text(path, "".join(f"{name} {score:.8g}\n" for name, score in sorted(files.items())))
        written.append(path)
    return written


def report(records: list[PairRecord], scores: dict[str, dict[str, float]], out_dir: Path) -> dict[str, Any]:
    """ZR2021 score files in ``out_dir/reference/{variant}/``, submissions in ``out_dir/submission/{variant}/``."""
    sets: dict[tuple[str, str], list[PairRecord]] = defaultdict(list)
    for record in records:
        sets[(record.meta["task"], record.meta["split"])].append(record)
    results: dict[str, Any] = {}
    for variant in VARIANTS:
        out = out_dir / "reference" / variant
        results[variant] = {
            f"{task}_{split}": _score_set(task, split, items, scores[variant], out) for (task, split), items in sorted(sets.items())
        }
        write_submission(records, scores[variant], out_dir / "submission" / variant)
    atomic_write_json(out_dir / "reference" / "results.json", results)
    return results


PUBLISHED.register("slm21")(PublishedBenchmark(
    description="ZeroSpeech 2021 sLM21 sWUGGY (lexical) and sBLIMP (syntactic), dev and test",
    layout="DIR/{lexical,syntactic}/{dev,test}/gold.csv + <filename>.wav",
    read=read,
    report=report,
))
