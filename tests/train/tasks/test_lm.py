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


@pytest.mark.parametrize("recipe", sorted(p.name for p in (REPO / "recipes").glob("*.yaml") if p.name.startswith(("gslm-", "twist-", "spiritlm-", "slamming-"))))
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


# ---------------------------------------------------------------------------------------------- several streams
@pytest.fixture(scope="module")
def codec_tokens(tmp_path_factory):
    """Real speech (FSDD clips) through the golden 4-codebook codec, written as token shards with its stream specs."""
    import numpy as np

    from helpers.paths import ASSETS
    from spokenlm.audio.io import load_audio
    from spokenlm.data.shards import ShardWriter
    from spokenlm.tokenizers.base import load_tokenizer

    codec = load_tokenizer(REPO / "tests" / "golden" / "checkpoints" / "codec")
    out = tmp_path_factory.mktemp("codec-tokens") / "corpus"
    with ShardWriter(out / "shard-00000", codec.name, codec.frame_rate, codec.vocab_size, codec.num_streams, codec.streams) as writer:
        for path in sorted((ASSETS / "fsdd").glob("[0-4]_*.flac")):
            wav = load_audio(path, codec.sample_rate)[0]
            writer.add(path.stem, codec.encode(wav, codec.sample_rate)[0])
    return out, np.stack([codec.encode(load_audio(ASSETS / "fsdd" / "5_george_0.flac", 16000)[0], 16000)[0].ids])[0]


@pytest.mark.parametrize("shape", [("data.delays=[0, 1, 1, 1]",), ("model.head=depth", "model.tie_embeddings=false", "model.depth.dim=16"),
                                   ("model.head=depth", "model.tie_embeddings=false", "model.depth.dim=16", "model.depth.weights_per_step=true"),
                                   ("data.flatten=true",)], ids=["delay", "depth", "depth-per-step", "flat"])
def test_multi_stream_shapes_learn_real_codec_tokens_and_score_and_generate(codec_tokens, tmp_path, shape):
    import math

    from spokenlm.generate import sample
    from spokenlm.models.scoring import unit_log_likelihood

    corpus, held_out = codec_tokens
    args = [f"data.train={corpus}", f"out_dir={tmp_path / 'run'}", "data.num_streams=4", "model.dim=32", "model.n_layers=2",
            "model.n_heads=4", "model.max_seq_len=256", "data.seq_len=32", "optim.batch_size=8", "optim.max_steps=40",
            "optim.lr=3e-3", "optim.warmup_steps=5", "data.val_fraction=0.2", *shape]
    summary = train(load_config(TrainConfig, None, args))
    model = UnitLM.from_pretrained(tmp_path / "run" / "model")
    if "data.flatten=true" in shape:
        assert model.config.layout == "flat" and model.vocab.n_units == 4 * 64
        assert summary["val_loss"] < math.log(model.vocab.size) - 1.0
    else:
        assert len(summary["val_losses"]) == 4
        assert all(loss < math.log(v.size) - 1.0 for loss, v in zip(summary["val_losses"], model.vocabs))  # far under uniform
    totals, counts = unit_log_likelihood(model, [held_out, held_out[:, ::-1].copy()])
    assert counts.tolist() == [held_out.size] * 2 and bool(torch.isfinite(totals).all())
    new = sample(model, [model.encode_frames(held_out[:, :10])], 6 * model.tokens_per_frame, temperature=0, eos_id=-1, units_only=True)[0]
    frames = model.decode_frames(new)
    assert frames.shape == (4, 6) and int(frames.min()) >= 0 and int(frames.max()) < 64
    per_stream = [] if "data.flatten=true" in shape else ["streams=[{temperature: 0}, {temperature: 0.5}, {top_k: 3}, {}]"]
    result = CliRunner().invoke(app, ["generate", f"model={tmp_path / 'run' / 'model'}", f"prompts={corpus}", f"out_dir={tmp_path / 'gen'}",
                                      "max_new_tokens=5", "prompt_units=8", *per_stream])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in (tmp_path / "gen" / "generations.jsonl").read_text().splitlines()]
    assert all(len(line["prompt"]) == 4 and len(line["continuation"]) == 4 and len(line["continuation"][0]) <= 5 for line in lines)
    shard = open_token_corpus(tmp_path / "gen" / "tokens")[0]
    assert [s.role for s in shard.streams] == ["acoustic"] * 4 and all(s.delay == 0 for s in shard.streams)


def test_target_weights_leave_out_delay_padding_and_weight_chosen_units():
    from spokenlm.models.config import TokenWeight
    from spokenlm.train.tasks.lm import target_weights

    # stream 0: BOS u3 u7 u3 EOS; stream 1 (delayed by 1): pad BOS u2 u2 u0 — model ids are units + 5
    ids = torch.tensor([[[1, 8, 12, 8, 2], [0, 1, 7, 7, 5]]])
    weights = target_weights(ids, [TokenWeight(stream=0, unit=3, weight=0.5), TokenWeight(stream=1, unit=0, weight=0.0)])
    assert weights.tolist() == [[[0.5, 1.0, 0.5, 1.0], [1.0, 1.0, 1.0, 0.0]]]
    assert target_weights(ids[:, 0], []).tolist() == [[[1.0, 1.0, 1.0, 1.0]]]  # one stream, [B, T+1]
