"""sLM21 (sWUGGY + sBLIMP) from its released layout: import, ZR2021 scores by hand, submission files, bad input."""

from __future__ import annotations

import math

import pytest
from typer.testing import CliRunner

from helpers.eval_toys import EnergyTokenizer, UnigramScorer
from helpers.published_replicas import write_slm21
from spokenlm.benchmarks.manifest import read_manifest
from spokenlm.benchmarks.published import import_published
from spokenlm.cli import app
from spokenlm.errors import ManifestError
from spokenlm.eval.pairs import PairEvalConfig, evaluate_pairs

FLAT = UnigramScorer([math.exp(-1.0)] * 8)  # every unit -1 nat: the shorter side wins summed, all tie per token


def score(benchmark, out):
    return evaluate_pairs(PairEvalConfig(benchmark=str(benchmark), dedup=False), FLAT, EnergyTokenizer(), out)


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    root = tmp_path_factory.mktemp("slm21")
    release = write_slm21(root / "sLM21-dataset")
    summary = import_published("slm21", release, root / "bench")
    return release, summary, root / "eval", score(root / "bench", root / "eval")


def test_slm21_import_pairs_words_with_nonwords_and_sentences_by_position(scored):
    release, summary, _, _ = scored
    assert summary.problems == [] and summary.pairs == 6 + 1 + 6
    records = {r.pair_id: r for r in read_manifest(release.parent / "bench")}
    word = records["lexical/dev/a/v1"]
    assert (word.subset, word.positive_text, word.negative_text) == ("oov", "worda", "w a r d")  # no spelling: phones
    assert word.meta["positive_file"] == "lexdev001" and word.meta["negative_file"] == "lexdev000"
    assert records["lexical/test/d/v1"].subset == ">100"
    sentence = records["syntactic/dev/syntax/island/3/v2"]
    assert (sentence.positive_text, sentence.negative_text) == ("sentence 5 good", "sentence 5 bad")


def test_slm21_scores_follow_zr2021_by_hand(scored):
    _, _, _, results = scored
    summed = results["reference"]["summed"]
    lexical = summed["lexical_dev"]
    assert lexical["all"] == pytest.approx((0.5 + 1.0 + 0.25) / 3)
    assert lexical["in_vocab"] == pytest.approx((1.0 + 0.25) / 2)  # bands 1-5 and 21-100, oov left out
    assert [(b["band"], b["n"], b["score"]) for b in lexical["by_frequency"]] == [("oov", 1, 0.5), ("1-5", 1, 1.0), ("21-100", 1, 0.25)]
    assert [(b["length"], b["n"], b["score"]) for b in lexical["by_length"]] == [(4, 2, 0.75), (6, 1, 0.25)]
    assert lexical["by_length"][0]["std"] == pytest.approx(math.sqrt(0.125))
    assert summed["lexical_test"]["all"] == 1.0
    syntactic = summed["syntactic_dev"]
    assert syntactic["all"] == pytest.approx(0.5)
    assert [(t["type"], t["n"], t["score"]) for t in syntactic["by_type"]] == [("morphology", 2, 0.5), ("syntax", 1, 0.5)]
    normalized = results["reference"]["normalized"]
    assert {normalized[s]["all"] for s in normalized} == {0.5}  # every pair ties per token


def test_slm21_writes_submission_files_for_every_audio_file(scored):
    release, _, out, _ = scored
    lines = (out / "submission" / "summed" / "lexical" / "dev.txt").read_text().splitlines()
    assert [line.split()[0] for line in lines] == sorted(p.stem for p in (release / "lexical" / "dev").glob("*.wav"))
    assert {float(line.split()[1]) for line in lines} == {-29.0, -94.0}  # -1 nat per 20 ms frame of 0.59 s and 1.9 s
    assert (out / "submission" / "normalized" / "syntactic" / "dev.txt").is_file()
    assert (out / "reference" / "summed" / "score_lexical_dev_by_frequency.csv").read_text().splitlines()[0] == "band,n,score,std"


def test_slm21_bad_input_names_files_and_rows_and_exits_1(tmp_path):
    release = write_slm21(tmp_path / "sLM21-dataset")
    (release / "lexical" / "dev" / "lexdev000.wav").unlink()
    (release / "lexical" / "test" / "lextest001.wav").write_bytes(b"not audio")
    gold = release / "syntactic" / "dev" / "gold.csv"
    gold.write_text(gold.read_text() + "synbroken,9,v1,syntax\n")
    result = CliRunner().invoke(app, ["benchmarks", "import", "slm21", str(release), str(tmp_path / "bench")])
    text = " ".join(result.output.split())
    assert result.exit_code == 1, result.output
    assert "lexdev000.wav: missing" in text and "lextest001.wav: unreadable" in text
    assert f"{gold}:14: expected 7 fields" in text
    assert "11 pairs" in text  # a/v1 and d/v1 left out
    with pytest.raises(ManifestError, match="not an sLM21 release"):
        import_published("slm21", tmp_path, tmp_path / "other")


def test_slm21_import_help_explains_layout():
    result = CliRunner().invoke(app, ["benchmarks", "import", "--help"])
    text = " ".join(result.output.split())
    assert result.exit_code == 0 and "gold.csv" in text and "submission" in text and "salmon" in text
