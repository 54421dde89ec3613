"""SALMon and spoken StoryCloze from their released layouts: slamkit's accuracies by hand, missing parts reported."""

from __future__ import annotations

import math

import pytest
from typer.testing import CliRunner

from helpers.eval_toys import EnergyTokenizer, UnigramScorer
from helpers.published_replicas import write_salmon, write_storycloze, write_wav, SHORT
from spokenlm.benchmarks.published import import_published
from spokenlm.benchmarks.published.salmon import TASKS
from spokenlm.cli import app
from spokenlm.eval.pairs import PairEvalConfig, evaluate_pairs

FLAT = UnigramScorer([math.exp(-1.0)] * 8)  # the shorter side wins summed; every pair ties per token


def _reference(benchmark, out):
    return evaluate_pairs(PairEvalConfig(benchmark=str(benchmark), dedup=False), FLAT, EnergyTokenizer(), out)["reference"]


def test_salmon_scores_each_task_as_slamkit(tmp_path):
    plan = {task: ["win"] for task in TASKS} | {"speaker_consistency": ["win", "win", "lose", "tie"], "bg_alignment": ["win", "lose"]}
    summary = import_published("salmon", write_salmon(tmp_path / "salmon", plan), tmp_path / "bench")
    assert summary.problems == [] and summary.subsets["speaker_consistency"] == 4
    reference = _reference(tmp_path / "bench", tmp_path / "eval")
    summed = reference["summed"]["subsets"]
    assert summed["speaker_consistency"] == pytest.approx(2.5 / 4) and summed["bg_alignment"] == 0.5 and summed["rir_consistency"] == 1.0
    assert reference["summed"]["all"] == pytest.approx((2.5 + 1 + 6) / 12)
    assert set(reference["normalized"]["subsets"].values()) == {0.5}


def test_salmon_reports_missing_tasks_and_odd_samples(tmp_path):
    source = write_salmon(tmp_path / "salmon", {"speaker_consistency": ["win", "lose"]})
    write_wav(source / "speaker_consistency" / "sample_7_a.wav", SHORT)  # a sample with one file
    write_wav(source / "speaker_consistency" / "noindex.wav", SHORT)
    result = CliRunner().invoke(app, ["benchmarks", "import", "salmon", str(source), str(tmp_path / "bench")])
    text = " ".join(result.output.split())
    assert result.exit_code == 1 and "2 pairs" in text
    assert f"{source / 'bg_alignment'}: missing" in text and "sample 7 has 1 file(s)" in text and "noindex.wav: name carries no sample index" in text


@pytest.mark.parametrize("name", ["sstorycloze", "tstorycloze"])
def test_storycloze_takes_the_first_name_as_the_true_ending(tmp_path, name):
    source = write_storycloze(tmp_path / name, ["win", "win", "lose", "win", "tie"])
    summary = import_published(name, source, tmp_path / "bench")
    assert summary.pairs == 5 and summary.subsets == {name: 5}
    reference = _reference(tmp_path / "bench", tmp_path / "eval")
    assert reference["summed"]["all"] == pytest.approx(3.5 / 5) and reference["normalized"]["all"] == 0.5
