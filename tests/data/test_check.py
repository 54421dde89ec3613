"""``spokenlm data check``: one test per bad case; every problem is reported, and the exit code says so."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from typer.testing import CliRunner

from spokenlm.cli.main import app
from spokenlm.data.check import check_corpus
from spokenlm.data.manifests import RECORDINGS, SUPERVISIONS


def _edit(path: Path, change) -> None:
    """Rewrite a .jsonl.gz manifest, passing its list of dicts through ``change``."""
    with gzip.open(path, "rt") as handle:
        items = [json.loads(line) for line in handle]
    items = change(items)
    with gzip.open(path, "wt") as handle:
        handle.writelines(json.dumps(item) + "\n" for item in items)


def _audio(corpus: Path, rec_id: str) -> Path:
    return corpus.parent / "audio" / f"{rec_id}.flac"


def test_clean_corpus_passes(fsdd_corpus):
    report = check_corpus(fsdd_corpus, require_text=True)
    assert report.ok and (report.recordings, report.supervisions, report.cuts) == (6, 6, 6)
    result = CliRunner().invoke(app, ["data", "check", str(fsdd_corpus), "--require-text"])
    assert result.exit_code == 0, result.output
    assert "ok" in result.output


def test_missing_file(fsdd_corpus):
    _audio(fsdd_corpus, "1_george_0").unlink()
    (problem,) = check_corpus(fsdd_corpus).problems
    assert (problem.kind, problem.item_id) == ("missing-file", "1_george_0")
    assert problem.where.endswith("1_george_0.flac")


def test_unreadable_file(fsdd_corpus):
    path = _audio(fsdd_corpus, "2_jackson_0")
    path.write_bytes(path.read_bytes()[:200])  # truncated FLAC: header only
    (problem,) = check_corpus(fsdd_corpus).problems
    assert (problem.kind, problem.item_id) == ("unreadable", "2_jackson_0")
    assert problem.where.endswith("2_jackson_0.flac")


def test_duration_mismatch(fsdd_corpus):
    def stretch(items):
        items[0]["duration"] += 1.0
        return items

    _edit(fsdd_corpus / RECORDINGS, stretch)
    kinds = {(p.kind, p.item_id) for p in check_corpus(fsdd_corpus).problems}
    assert ("duration-mismatch", "0_george_0") in kinds
    (problem,) = [p for p in check_corpus(fsdd_corpus).problems if p.where.endswith(".flac")]
    assert "manifest says" in problem.detail


def test_duplicate_id(fsdd_corpus):
    _edit(fsdd_corpus / SUPERVISIONS, lambda items: items + [items[2]])
    (problem,) = check_corpus(fsdd_corpus).problems
    assert (problem.kind, problem.item_id) == ("duplicate-id", "2_jackson_0")
    assert problem.where == f"{fsdd_corpus / SUPERVISIONS}:7"


def test_empty_text_only_when_text_is_required(fsdd_corpus):
    def blank(items):
        items[3]["text"] = " "
        return items

    _edit(fsdd_corpus / SUPERVISIONS, blank)
    assert check_corpus(fsdd_corpus).ok
    (problem,) = check_corpus(fsdd_corpus, require_text=True).problems
    assert (problem.kind, problem.item_id) == ("empty-text", "3_jackson_0")


def test_broken_manifest_line(fsdd_corpus):
    path = fsdd_corpus / SUPERVISIONS
    with gzip.open(path, "rt") as handle:
        lines = handle.readlines()
    lines.insert(1, "{not json\n")
    with gzip.open(path, "wt") as handle:
        handle.writelines(lines)
    (problem,) = check_corpus(fsdd_corpus).problems
    assert problem.kind == "bad-entry" and problem.where == f"{path}:2"


def test_every_problem_is_reported_and_the_cli_exits_non_zero(fsdd_corpus):
    _audio(fsdd_corpus, "0_george_0").unlink()
    _audio(fsdd_corpus, "5_lucas_0").write_bytes(b"not audio at all")

    def blank(items):
        items[4]["text"] = ""
        return items

    _edit(fsdd_corpus / SUPERVISIONS, blank)
    result = CliRunner().invoke(app, ["data", "check", str(fsdd_corpus), "--require-text"])
    assert result.exit_code == 1
    for expected in ("missing-file: 0_george_0", "unreadable: 5_lucas_0", "empty-text: 4_lucas_0"):
        assert expected in result.output
    assert "3 problem(s)" in result.output


def test_single_manifest_file_and_unreadable_manifest(fsdd_corpus, tmp_path):
    assert check_corpus(fsdd_corpus / "cuts.jsonl.gz", require_text=True).ok
    result = CliRunner().invoke(app, ["data", "check", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "nothing: no such manifest" in " ".join(result.output.split())
