"""The one training loop, for every task: SIGKILL and resume reproduce the losses, 2-process DDP (and FSDP for the LM)
matches one process for the same global batch, and the loop is the only place that calls backward."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.paths import ASSETS, REPO
from helpers.synthetic_units import write_synthetic_corpus

GOLDEN_TOKENIZER = REPO / "tests" / "golden" / "checkpoints" / "mfcc-km"
GOLDEN_CODEC = REPO / "tests" / "golden" / "checkpoints" / "codec"
TIMING = re.compile(r".*_per_s$|^mfu$")
STEPS, SAVE_EVERY = 20, 5


def env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def lm_run(work: Path) -> list[str]:
    corpus = work / "units"
    if not corpus.exists():
        write_synthetic_corpus(corpus, n_units=50, n_utterances=120, seed=1)
    return ["train", f"data.train={corpus}", "out_dir={out}", "model.n_units=50", "model.dim=32", "model.n_layers=2", "model.n_heads=4",
            "model.max_seq_len=64", "data.seq_len=32", "optim.batch_size=4", "optim.warmup_steps=5", "optim.lr=3e-3", "eval_every=5"]


def codec_lm_run(work: Path, *shape: str) -> list[str]:
    """An LM over the 4 codebooks of a small codec's tokens of real speech (the corpus clips)."""
    tokens = work / "codec-tokens"
    if not tokens.exists():
        run(["tokenize", str(work / "corpus" / "cuts.jsonl.gz"), "-t", str(GOLDEN_CODEC), "-o", str(tokens)])
    return ["train", f"data.train={tokens}", "out_dir={out}", "data.num_streams=4", "model.dim=32", "model.n_layers=2", "model.n_heads=4",
            "model.max_seq_len=64", "data.seq_len=16", "data.val_fraction=0.2", "optim.batch_size=4", "optim.warmup_steps=5",
            "optim.lr=3e-3", "eval_every=5", *shape]


def delay_lm_run(work: Path) -> list[str]:
    return codec_lm_run(work, "data.delays=[0, 1, 1, 1]")


def depth_lm_run(work: Path) -> list[str]:
    return codec_lm_run(work, "model.head=depth", "model.tie_embeddings=false", "model.depth.dim=16", "model.depth.layers=1",
                        "model.depth.heads=2")


def codec_run(work: Path) -> list[str]:
    return ["train-tokenizer", "-c", "recipes/tokenizer-codec-tiny.yaml", "-o", "{out}", f"data.audio=['{ASSETS}/ljspeech/LJ001-000[1-4].flac']",
            "model.channels=4", "model.dimension=16", "model.num_codebooks=3", "model.codebook_size=16", "segment_seconds=0.32",
            "optim.batch_size=4", "adversarial_weight=1.0", "discriminator_start=2", "discriminator_channels=4",
            "discriminator_fft_sizes=[128, 256]", "precision=fp32"]


def hubert_run(work: Path) -> list[str]:
    return ["train-tokenizer", "-c", "recipes/tokenizer-hubert-tiny.yaml", "-o", "{out}", f"data.audio=['{ASSETS}/fsdd/[0-3]_*_0.flac']",
            "model.dim=32", "model.layers=2", "model.heads=2", "model.ffn_dim=64", "model.final_dim=16", "model.pos_conv_kernel=16",
            "model.pos_conv_groups=4", "model.layer=1", "iterations=1", "target_clusters=[8]", "kmeans.k=8", "train.optim.batch_size=4",
            "train.crop_seconds=0.5", "train.optim.warmup_steps=3", "train.precision=fp32"]


def phone_run(work: Path) -> list[str]:
    return ["train-tokenizer", "-c", "recipes/tokenizer-phone.yaml", "-o", "{out}", f"data.manifest={work}/corpus/cuts.jsonl.gz", "data.split=null",
            "model.channels=16", "model.hidden=16", "model.conv_layers=1", "optim.batch_size=4", "segment_seconds=1.0"]


def vocoder_run(work: Path) -> list[str]:
    return ["train-vocoder", "{out}", "-c", "recipes/vocoder-unit-istft-tiny.yaml", f"tokenizer={GOLDEN_TOKENIZER}",
            f"data.audio=['{ASSETS}/fsdd/[0-3]_*_0.flac']", "model.conditioning.dim=16", "model.conditioning.f0_bins=8", "model.istft.dim=16",
            "model.istft.intermediate_dim=32", "model.istft.num_layers=2", "speaker=table", "discriminator.channels=2",
            "discriminator.periods=[2, 3]", "discriminator.num_scales=1", "adversarial_start=2", "optim.batch_size=4", "segment_frames=8",
            "precision=fp32"]


# task -> (argv builder, where its run writes metrics and checkpoints, relative to the run folder)
TASKS = {
    "lm": (lm_run, "."),
    "lm-delay": (delay_lm_run, "."),
    "lm-depth": (depth_lm_run, "."),
    "codec": (codec_run, "."),
    "hubert": (hubert_run, "train/iter1"),
    "phone": (phone_run, "."),
    "vocoder": (vocoder_run, "."),
}


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Scratch shared by the runs, with a small paired corpus: 12 FSDD clips of 6 speakers and their digit words."""
    import shutil

    work = tmp_path_factory.mktemp("loop")
    clips = work / "fsdd"
    clips.mkdir()
    for path in sorted((ASSETS / "fsdd").glob("[0-1]_*_0.flac")):
        shutil.copy(path, clips / path.name)
    run(["data", "import", "fsdd", str(clips), str(work / "corpus")])
    return work


def command(task: str, work: Path, out: Path, *extra: str) -> list[str]:
    build, _ = TASKS[task]
    argv = [arg.replace("{out}", str(out)) for arg in build(work)]
    prefix = "train." if task == "hubert" else ""
    return [*argv, f"{prefix}optim.max_steps={STEPS}", f"{prefix}save_every={SAVE_EVERY}", f"{prefix}log_every=1", f"{prefix}keep_checkpoints=1", *extra]


def records(out: Path, task: str) -> list[dict]:
    path = out / TASKS[task][1] / "metrics.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [{k: v for k, v in row.items() if not TIMING.match(k)} for row in rows]


def start(argv: list[str], launcher: list[str] | None = None, output: int = subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen([*(launcher or [sys.executable]), "-m", "spokenlm", *argv], cwd=REPO, env=env(), stdout=output,
                            stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen) -> None:
    output, _ = process.communicate()
    assert process.returncode == 0, output[-3000:]


def run(argv: list[str], launcher: list[str] | None = None) -> None:
    finish(start(argv, launcher))


@pytest.mark.slow
@pytest.mark.parametrize("task", sorted(TASKS))
def test_sigkill_and_resume_reproduce_every_logged_value(task: str, work: Path, tmp_path: Path) -> None:
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    uninterrupted = start(command(task, work, reference))  # one thread each: the reference runs beside the killed run
    argv = command(task, work, killed)
    process = start(argv, output=subprocess.DEVNULL)
    latest = killed / TASKS[task][1] / "checkpoints" / "latest"
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        steps = [r["step"] for r in records(killed, task) if r.get("split", "train") == "train"]
        if latest.exists() and steps and steps[-1] % SAVE_EVERY >= 2:  # between two checkpoints: some logged steps will be redone
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.002)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    finish(uninterrupted)
    run(argv)
    ours, theirs = records(killed, task), records(reference, task)
    assert [r["step"] for r in ours] == [r["step"] for r in theirs] and ours[-1]["step"] == STEPS
    assert ours == theirs  # exact: the same floats, every logged term


# fp32, so the comparison checks the distributed arithmetic (bf16 autocast rounds differently when the batch is split)
DDP_STEPS = ("optim.max_steps=6", "save_every=3", "log_every=1")
# Loss terms normalised over the whole batch (spectral convergence, masked means over a varying number of frames, feature
# matching relative to the real features' mean) give a different number on half a batch, so the mean over two ranks is not
# the one-process value; those terms are weighted 0 here so that what is compared is the distributed arithmetic itself.
DDP_DECOMPOSABLE = {"codec": ("stft_weight=0", "feature_matching_weight=0"), "vocoder": ("stft_weight=0", "duration_weight=0")}


@pytest.mark.slow
@pytest.mark.parametrize("task, mode", [("lm", "ddp"), ("lm", "fsdp"), ("lm-delay", "ddp"), ("lm-depth", "ddp"), ("codec", "ddp"), ("vocoder", "ddp")])
def test_two_processes_match_one_for_the_same_global_batch(task: str, mode: str, work: Path, tmp_path: Path) -> None:
    build, _ = TASKS[task]
    fp32 = ["precision=fp32"] if task.startswith("lm") else list(DDP_DECOMPOSABLE[task])
    single, double = (tmp_path / "single", tmp_path / "double")
    run([arg.replace("{out}", str(single)) for arg in build(work)] + [*DDP_STEPS, *fp32])
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    run([arg.replace("{out}", str(double)) for arg in build(work)] + [*DDP_STEPS, *fp32, f"distributed={mode}"], launcher)
    ours, theirs = records(double, task), records(single, task)
    assert [r["step"] for r in ours] == [r["step"] for r in theirs]
    for a, b in zip(ours, theirs):
        for key in ("loss", "loss_0", "loss_3", "discriminator", "mel", "l1", "adversarial"):
            if key in b:
                assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-5), f"step {b['step']} {key}"
    if task == "lm":  # the distributed checkpoint resumes in one process
        run([arg.replace("{out}", str(double)) for arg in build(work)] + ["optim.max_steps=7", "save_every=0", "log_every=1", "eval_every=0"])
        assert [r["step"] for r in records(double, task) if r["split"] == "train"] == list(range(1, 8))


def test_only_the_loop_calls_backward() -> None:
    calls = [f"{path.relative_to(REPO)}:{number}" for path in sorted((REPO / "src").rglob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1) if ".backward(" in line]
    assert calls and all(call.startswith("src/spokenlm/train/loop.py:") for call in calls), calls
