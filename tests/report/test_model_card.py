"""Model cards: README.md beside an exported LM and a saved tokenizer, with recipe, data and benchmark table."""

from __future__ import annotations

import math

import pytest
import torch
from typer.testing import CliRunner

from helpers.eval_toys import EnergyTokenizer, UnigramScorer
from helpers.published_replicas import write_storycloze
from spokenlm.benchmarks.published import import_published
from spokenlm.cli import app
from spokenlm.encoders.spectral import MfccConfig, MfccEncoder
from spokenlm.eval.pairs import PairEvalConfig, evaluate_pairs
from spokenlm.models.config import UnitLMConfig
from spokenlm.models.unit_lm import UnitLM
from spokenlm.tokenizers.quantizer import KMeansConfig, KMeansQuantizer
from spokenlm.tokenizers.units import UnitTokenizer


@pytest.fixture(scope="module")
def storycloze_results(tmp_path_factory):
    root = tmp_path_factory.mktemp("card")
    import_published("sstorycloze", write_storycloze(root / "sSC", ["win", "lose", "win", "win"]), root / "sSC-bench")
    evaluate_pairs(PairEvalConfig(benchmark=str(root / "sSC-bench"), dedup=False), UnigramScorer([math.exp(-1.0)] * 8), EnergyTokenizer(), root / "eval")
    return root / "eval"


def test_export_hf_writes_a_model_card_with_recipe_data_and_benchmarks(tmp_path, storycloze_results):
    pytest.importorskip("transformers")
    torch.manual_seed(0)
    UnitLM(UnitLMConfig(n_units=16, dim=32, n_layers=1, n_heads=2, max_seq_len=64)).save_pretrained(tmp_path / "run" / "model")
    (tmp_path / "run" / "config.yaml").write_text("data:\n  train: tokens/libri\noptim:\n  lr: 0.001\n")  # what `spokenlm train` writes
    result = CliRunner().invoke(app, ["export-hf", str(tmp_path / "run" / "model"), str(tmp_path / "hf"), "--results", str(storycloze_results)])
    assert result.exit_code == 0, result.output
    card = (tmp_path / "hf" / "README.md").read_text()
    assert "AutoModelForCausalLM.from_pretrained" in card and "unit `u` is id `u + 5`" in card
    assert "- `data.train`: `tokens/libri`" in card and "## Recipe (`config.yaml`, resolved)" in card
    assert "| sSC-bench | all | 4 | 75.0 [" in card and "| sSC-bench | sstorycloze (reference) | | 75.0 | 50.0 |" in card


def test_model_card_for_a_tokenizer_folder_and_bad_results(tmp_path):
    encoder = MfccEncoder(MfccConfig())
    UnitTokenizer(encoder, KMeansQuantizer(torch.randn(4, encoder.dim), KMeansConfig(k=4)), "mfcc-km4").save_pretrained(tmp_path / "tok")
    result = CliRunner().invoke(app, ["model-card", str(tmp_path / "tok")])
    assert result.exit_code == 0 and "load_tokenizer" in (tmp_path / "tok" / "README.md").read_text()
    (tmp_path / "results.json").write_text("{}")
    result = CliRunner().invoke(app, ["model-card", str(tmp_path / "tok"), "--results", str(tmp_path / "results.json")])
    assert result.exit_code == 2 and "not an `eval pairs` results.json" in " ".join(result.output.split())
