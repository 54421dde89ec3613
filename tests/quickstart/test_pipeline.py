"""The quickstart end to end at the micro scale: every stage runs, caches, and writes the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spokenlm.cli import app
from spokenlm.quickstart.pipeline import cmudict_word_share

STAGES = ["corpus", "tokenizer", "tokenize", "lm", "vocoder", "resynth", "benchmarks", "pairs", "generation", "report"]


def test_cmudict_word_share_by_hand() -> None:
    assert cmudict_word_share(["the cat sat", "blorptz the"]) == pytest.approx(4 / 5)
    assert cmudict_word_share([]) == 0.0


def golden_tolerance(key: str) -> tuple[float, float]:
    """(relative, absolute) tolerance of a headline number against the golden micro run (measured: only lm.val_loss
    moved, by 7e-5 relative, on AVX2 against AVX-512)."""
    if key.startswith(("tokenize.units", "lm.val_loss", "lm.unigram_entropy")):
        return 0.01, 0.0  # float training and ≥ 99 % identical tokens
    if key.startswith(("pairs.", "resynth.", "generation.")):
        return 0.0, 0.2  # accuracies on 6-8 pairs, WER of 2 clips: one pair or word apart
    return 0.0, 1e-9  # counts, settings and corpus statistics: exact


@pytest.mark.slow
def test_quickstart_micro_end_to_end_and_cached_rerun(tmp_path: Path, goldens, golden_meta: dict) -> None:
    runner = CliRunner()
    run_dir = tmp_path / "qs"
    result = runner.invoke(app, ["quickstart", str(run_dir), "--scale", "micro"])
    assert result.exit_code == 0, result.output
    state = json.loads((run_dir / "state.json").read_text())
    assert list(state) == STAGES
    assert state["corpus"]["results"]["voices"] >= 4 and state["corpus"]["results"]["failed"] == 0
    assert state["tokenize"]["results"]["units"] > 0
    lm = state["lm"]["results"]
    assert lm["steps"] == 30 and lm["val_loss"] > 0
    assert state["benchmarks"]["results"]["swuggy_pairs"] > 0
    for key in ("swuggy", "swuggy_untrained", "tstorycloze", "tstorycloze_untrained"):
        assert key in state["pairs"]["results"]
    generation = json.loads((run_dir / "generation" / "results.json").read_text())
    assert generation["prompts"] >= 2 and 0.0 <= generation["cmudict_word_share"] <= 1.0
    said = state["generation"]["results"]
    assert said["phone_temperature"] == 0.8 and said["phone_continuations"] >= 0  # meant vs said, at the fixed temperature
    assert all(entry["threads"] >= 1 for entry in state.values())  # threads set again before each stage
    machine = json.loads((run_dir / "machine.json").read_text())
    assert machine["cpu_model"] and machine["gemm_gflops"] > 0 and "machine: " in result.output
    html = (run_dir / "report.html").read_text()
    assert "<audio" in html and ("<img" in html or "<svg" in html)
    body = html[html.index("<body>"):]
    assert body.index("<td>corpus</td>") < body.index("<h2>") and body.index("<audio") < body.index("<h2>")  # summary + players first
    assert (run_dir / "config.yaml").exists()
    headline, golden = goldens.quickstart_headline(run_dir), golden_meta["quickstart_micro"]
    assert set(headline) >= set(golden), f"missing headline numbers: {sorted(set(golden) - set(headline))}"
    for key, value in golden.items():
        rel, absolute = golden_tolerance(key)
        assert headline[key] == pytest.approx(value, rel=rel, abs=absolute), f"{key}: {headline[key]} vs golden {value}"

    # A rerun finds every stage cached; --from reruns that stage and the later ones only.
    again = runner.invoke(app, ["quickstart", str(run_dir), "--scale", "micro", "--from", "report"])
    assert again.exit_code == 0, again.output
    assert again.output.count(": cached (") == len(STAGES) - 1
    assert "[10/10] report: done" in again.output
