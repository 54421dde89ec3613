"""End to end: a published sLM21 release → `benchmarks import` → `eval pairs` with a TWIST/Slam model and a saved unit
tokenizer → ZR2021 breakdown and submission files, with the commands the README shows."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from helpers.published_replicas import write_slm21
from spokenlm.cli import app
from spokenlm.encoders.spectral import MfccConfig, MfccEncoder
from spokenlm.tokenizers.quantizer import KMeansConfig, KMeansQuantizer
from spokenlm.tokenizers.units import UnitTokenizer

pytest.importorskip("transformers")
runner = CliRunner()


@pytest.mark.parametrize("family", ["twist", "slam"])
def test_published_slm21_scored_by_a_published_lm(tmp_path, family):
    from helpers.hf_unit_lms import write_slam, write_twist

    (write_twist if family == "twist" else write_slam)(tmp_path / "lm", num_units=16)
    encoder = MfccEncoder(MfccConfig())
    torch.manual_seed(0)
    UnitTokenizer(encoder, KMeansQuantizer(torch.randn(16, encoder.dim), KMeansConfig(k=16)), "mfcc-km16", dedup=True).save_pretrained(tmp_path / "tok")
    release = write_slm21(tmp_path / "sLM21-dataset")
    result = runner.invoke(app, ["benchmarks", "import", "slm21", str(release), str(tmp_path / "bench")])
    assert result.exit_code == 0, result.output
    args = ["eval", "pairs", str(tmp_path / "eval"), f"benchmark={tmp_path / 'bench'}", f"tokenizer={tmp_path / 'tok'}", f"model={tmp_path / 'lm'}"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert results["pairs"] == 13 and set(results["reference"]) == {"summed", "normalized"}
    assert set(results["reference"]["summed"]) == {"lexical_dev", "lexical_test", "syntactic_dev"}
    for variant in ("summed", "normalized"):
        lines = (tmp_path / "eval" / "submission" / variant / "lexical" / "dev.txt").read_text().splitlines()
        assert len(lines) == 12 and all(len(line.split()) == 2 for line in lines)
