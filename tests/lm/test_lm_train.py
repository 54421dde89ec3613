"""Trainer: optimizer state without pickle, exact SIGKILL resume, DDP/FSDP under torchrun, CLI end to end."""

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
from spokenlm.train.config import TrainConfig
from spokenlm.train.state import flatten_optimizer_state, unflatten_optimizer_state
from spokenlm.train.synthetic import write_synthetic_corpus
from spokenlm.train.trainer import read_metrics, train

TINY = ["model.n_units=50", "model.dim=32", "model.n_layers=2", "model.n_heads=4", "model.max_seq_len=64",
        "data.seq_len=32", "optim.batch_size=4", "optim.warmup_steps=5", "optim.lr=3e-3", "log_every=1"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_synthetic_corpus(tmp_path_factory.mktemp("lm") / "corpus", n_units=50, n_utterances=120, seed=1)


def overrides(corpus, out_dir, *extra):
    return [f"data.train={corpus}", f"out_dir={out_dir}", *TINY, *extra]


def losses(out_dir, split="train"):
    return [(r["step"], r["loss"]) for r in read_metrics(out_dir) if r["split"] == split]


def test_optimizer_state_round_trip():
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    state = {"state": {f"p{i}": v for i, v in optimizer.state_dict()["state"].items()},
             "param_groups": [{**g, "params": [f"p{i}" for i in g["params"]]} for g in optimizer.state_dict()["param_groups"]]}
    tensors, structure = flatten_optimizer_state(state)
    json.dumps(structure)
    back = unflatten_optimizer_state(tensors, structure)
    assert back["param_groups"] == state["param_groups"]
    for name, values in state["state"].items():
        for key, value in values.items():
            assert torch.equal(back["state"][name][key], value)


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


@pytest.mark.slow
def test_sigkill_and_resume_reproduces_losses(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # same thread count in every run, so the same float reductions
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    args = overrides(corpus, "{out}", "optim.max_steps=40", "save_every=5", "eval_every=5", "keep_checkpoints=1")
    reference = tmp_path / "reference"
    try:
        train(load_config(TrainConfig, None, [a.format(out=reference) for a in args]))
    finally:
        torch.set_num_threads(threads)
    killed = tmp_path / "killed"
    command = [sys.executable, "-m", "spokenlm.train", *[a.format(out=killed) for a in args]]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        steps = [step for step, _ in losses(killed)] if (killed / "metrics.jsonl").exists() else []
        if (killed / "checkpoints" / "latest").exists() and steps and steps[-1] % 5 > 2:
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.005)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (killed / "summary.json").exists()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for split in ("train", "val"):
        assert losses(killed, split) == losses(reference, split)  # exact equality


# fp32, so the comparison checks the distributed arithmetic to 1e-5 (bf16 autocast, the default on
# AMX CPUs, rounds differently when the batch is split across processes)
EXACT = ("optim.max_steps=6", "eval_every=3", "save_every=3", "precision=fp32")


def torchrun(corpus, out_dir, *extra):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "spokenlm.train", *overrides(corpus, out_dir, *EXACT, *extra)]
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def single_run(corpus, tmp_path_factory):
    single = tmp_path_factory.mktemp("single") / "run"
    train(load_config(TrainConfig, None, overrides(corpus, single, *EXACT)))
    return single


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["ddp", "fsdp"])
def test_two_process_training_matches_single_process(corpus, single_run, tmp_path, mode):
    single = single_run
    torchrun(corpus, tmp_path / mode, f"distributed={mode}")
    for split in ("train", "val"):
        ours, theirs = losses(tmp_path / mode, split), losses(single, split)
        assert [s for s, _ in ours] == [s for s, _ in theirs]
        assert [loss for _, loss in ours] == pytest.approx([loss for _, loss in theirs], abs=1e-5)
    # the distributed checkpoint resumes in one process
    shutil.rmtree(tmp_path / mode / "model")
    train(load_config(TrainConfig, None, overrides(corpus, tmp_path / mode, "optim.max_steps=7", "eval_every=0", "save_every=0")))
    assert [s for s, _ in losses(tmp_path / mode)] == list(range(1, 8))


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


@pytest.mark.parametrize("recipe", sorted(p.name for p in (Path(__file__).parents[2] / "recipes").glob("*.yaml") if p.name.startswith(("gslm-", "twist-"))))
def test_recipes_load(recipe):
    config = load_config(TrainConfig, Path(__file__).parents[2] / "recipes" / recipe)
    assert config.optim.batch_size % config.optim.grad_accum == 0


def test_twist_tiny_recipe_warm_starts(corpus, tmp_path):
    pytest.importorskip("transformers")
    from spokenlm.models.tiny_text_lm import write_tiny_llama

    write_tiny_llama(tmp_path / "llama", vocab_size=64, dim=32, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=64)
    recipe = Path(__file__).parents[2] / "recipes" / "twist-tiny.yaml"
    config = load_config(TrainConfig, recipe, [f"init.text_lm={tmp_path / 'llama'}", f"data.train={corpus}", f"out_dir={tmp_path / 'run'}",
                                               "model.n_units=50", "data.seq_len=32", "optim.batch_size=4", "optim.max_steps=3", "eval_every=0", "save_every=3"])
    train(config)
    model = UnitLM.from_pretrained(tmp_path / "run" / "model")
    assert model.config.n_kv_heads == 2 and model.vocab.size == 55
    saved = (tmp_path / "run" / "config.yaml").read_text()
    assert "n_kv_heads: 2" in saved  # the resolved config records the warm-started shape
