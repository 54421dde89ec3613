"""Our sLM21 scores equal the ZeroSpeech toolkit's (``zerospeech-benchmarks`` 0.9.4) on the same submission, and its
validator accepts our submission folder.

The toolkit cannot live in .venv (it pins pydantic < 2, which typer cannot use, and its scorer needs pandas < 3),
so it runs in .venv-zerospeech, built by ``scripts/setup_zerospeech.sh`` (called by ``scripts/setup.sh``), on the
files our evaluation wrote; these tests skip only when that venv could not be built, with the reason it recorded.
"""

from __future__ import annotations

import math
import shutil
from types import SimpleNamespace

import pytest

from helpers.eval_toys import EnergyTokenizer, UnigramScorer
from helpers.published_replicas import write_slm21
from helpers.zerospeech_reference import reference
from spokenlm.benchmarks.published import import_published
from spokenlm.eval.pairs import PairEvalConfig, evaluate_pairs


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    root = tmp_path_factory.mktemp("slm21-zr")
    release = write_slm21(root / "sLM21-dataset")
    import_published("slm21", release, root / "bench")
    scorer = UnigramScorer([math.exp(-1.0)] * 8)
    results = evaluate_pairs(PairEvalConfig(benchmark=str(root / "bench"), dedup=False), scorer, EnergyTokenizer(), root / "eval")
    return release, root / "eval" / "submission" / "summed", results["reference"]["summed"]


@pytest.fixture(scope="module")
def theirs(ours, tmp_path_factory):
    """The toolkit's tables and verdicts on our submission and on a copy missing the last line of lexical/dev.txt."""
    release, submission, _ = ours
    broken = tmp_path_factory.mktemp("slm21-broken") / "submission"
    shutil.copytree(submission, broken)
    dev = broken / "lexical" / "dev.txt"
    dev.write_text("".join(dev.read_text().splitlines(keepends=True)[:-1]))
    good, missing = reference("slm21", release, submission, broken)
    return SimpleNamespace(**good, missing_a_file=missing["validation"])


def test_slm21_lexical_scores_equal_the_zerospeech_scorer(ours, theirs):
    _, _, results = ours
    for split in ("dev", "test"):
        mine, reference_tables = results[f"lexical_{split}"], getattr(theirs, f"lexical_{split}")
        assert mine["all"] == pytest.approx(reference_tables["all"])
        bands = [b for b in reference_tables["by_frequency"] if b["n"] > 0]
        assert [(b["band"], b["n"]) for b in mine["by_frequency"]] == [(b["frequency"], b["n"]) for b in bands]
        assert [b["score"] for b in mine["by_frequency"]] == pytest.approx([b["score"] for b in bands])
        in_vocab = [b for b in bands if b["frequency"] != "oov"]
        if in_vocab:  # the leaderboard's weighted mean
            expected = sum(b["score"] * b["n"] for b in in_vocab) / sum(b["n"] for b in in_vocab)
            assert mine["in_vocab"] == pytest.approx(expected)
        by_length = reference_tables["by_length"]
        assert [(b["length"], b["n"]) for b in mine["by_length"]] == [(b["length"], b["n"]) for b in by_length]
        assert [b["score"] for b in mine["by_length"]] == pytest.approx([b["score"] for b in by_length])


def test_slm21_syntactic_scores_equal_the_zerospeech_scorer(ours, theirs):
    _, _, results = ours
    mine, by_type = results["syntactic_dev"], theirs.syntactic_dev["by_type"]
    assert mine["all"] == pytest.approx(theirs.syntactic_dev["all"])
    assert [(t["type"], t["n"]) for t in mine["by_type"]] == [(t["type"], t["n"]) for t in by_type]
    assert [t["score"] for t in mine["by_type"]] == pytest.approx([t["score"] for t in by_type])


def test_slm21_zerospeech_validator_accepts_our_submission(theirs):
    for task, verdict in theirs.validation.items():
        assert not verdict["fails"], (task, verdict["errors"])
        assert verdict["ok"] > 0, task


def test_slm21_zerospeech_validator_refuses_a_submission_missing_a_file(theirs):
    assert theirs.missing_a_file["lexical"]["fails"] and not theirs.missing_a_file["syntactic"]["fails"]
