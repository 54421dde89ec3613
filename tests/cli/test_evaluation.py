"""The evaluation commands: build a small benchmark, resolved config saved, one-line errors."""

from __future__ import annotations

import shutil

import pytest
import yaml
from typer.testing import CliRunner

from spokenlm.cli import app

runner = CliRunner()


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_evs_cli_builds_sblimp_and_saves_config(tmp_path, data_dir):
    out = tmp_path / "sblimp"
    args = ["benchmarks", "build", "sblimp", str(out), f"blimp={data_dir / 'blimp'}", "max_pairs_per_phenomenon=1",
            "synthesis.num_voices=2", "synthesis.training_voices=espeak-ng:en-us+m1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "34 pairs" in result.output
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["synthesis"]["training_voices"] == ["espeak-ng:en-us+m1"] and saved["max_pairs_per_phenomenon"] == 1
    assert len((out / "pairs.jsonl").read_text().splitlines()) == 34


def _text(result) -> str:
    return " ".join(result.output.split())  # rich wraps long lines


def test_evs_cli_errors_are_one_line(tmp_path):
    result = runner.invoke(app, ["benchmarks", "build", "nope", str(tmp_path / "x")])
    assert result.exit_code == 2 and "unknown benchmark 'nope'" in _text(result)
    result = runner.invoke(app, ["eval", "pairs", str(tmp_path / "e")])
    assert result.exit_code == 2 and "needs benchmark=FOLDER tokenizer=FOLDER model=FOLDER" in _text(result)
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2 and "nothing to report" in _text(result)
    result = runner.invoke(app, ["benchmarks", "build", "swuggy", str(tmp_path / "w"), "num_wrds=3"])
    assert result.exit_code == 2 and "unknown config key(s) num_wrds" in _text(result)


def test_evs_cli_help_explains_commands():
    for command in (["benchmarks", "build"], ["eval", "pairs"], ["eval", "generate"], ["report"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output
