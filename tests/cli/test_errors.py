"""Every command: an unreadable checkpoint or an output folder that cannot be created is one line naming the path, exit 2."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from spokenlm.cli import app
from spokenlm.models.config import UnitLMConfig
from spokenlm.models.unit_lm import UnitLM

runner = CliRunner()
NOWHERE = "/proc/nope/out"  # /proc takes no new folders, even for root
UNREADABLE = "unreadable weights, truncated or not a safetensors file"


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:7])


@pytest.fixture(scope="module")
def parts(tmp_path_factory, tiny_tokenizer_dir: Path, asr_clips: list[Path]) -> dict[str, Path]:
    """A tiny unit LM and unit tokenizer, each also as a copy with truncated weights; a prompt file and a folder of real speech."""
    root = tmp_path_factory.mktemp("parts")
    torch.manual_seed(0)
    UnitLM(UnitLMConfig(n_units=16, dim=32, n_layers=1, n_heads=4, max_seq_len=64)).save_pretrained(root / "lm")
    shutil.copytree(root / "lm", root / "bad_lm")
    truncate(root / "bad_lm" / "model.safetensors")
    shutil.copytree(tiny_tokenizer_dir, root / "bad_tokenizer")
    for weights in (root / "bad_tokenizer").rglob("*.safetensors"):
        truncate(weights)
    (root / "prompts.txt").write_text("1 2 3 4\n")
    (root / "audio").mkdir()
    shutil.copy(asr_clips[0], root / "audio" / asr_clips[0].name)
    return {"root": root, "lm": root / "lm", "bad_lm": root / "bad_lm", "tokenizer": tiny_tokenizer_dir,
            "bad_tokenizer": root / "bad_tokenizer", "prompts": root / "prompts.txt", "audio": root / "audio"}


def said(result) -> str:
    return " ".join(result.output.split())  # rich wraps long lines


def assert_one_line_error(result, *words: str) -> None:
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output and said(result).count("error:") == 1
    for word in words:
        assert word in said(result), (word, said(result))


UNREADABLE_CHECKPOINTS = {
    "generate": lambda p: ["generate", f"model={p['bad_lm']}", f"prompts={p['prompts']}", f"out_dir={p['root'] / 'g'}"],
    "eval pairs (model)": lambda p: ["eval", "pairs", str(p["root"] / "e"), f"benchmark={p['root']}", f"tokenizer={p['tokenizer']}", f"model={p['bad_lm']}"],
    "eval pairs (tokenizer)": lambda p: ["eval", "pairs", str(p["root"] / "e"), f"benchmark={p['root']}", f"tokenizer={p['bad_tokenizer']}", f"model={p['lm']}"],
    "eval generate": lambda p: ["eval", "generate", str(p["root"] / "eg"), f"prompts={p['audio']}", f"tokenizer={p['tokenizer']}", f"model={p['bad_lm']}"],
    "export-hf": lambda p: ["export-hf", str(p["bad_lm"]), str(p["root"] / "hf")],
    "eval resynth": lambda p: ["eval", "resynth", str(p["root"] / "r"), f"tokenizer={p['bad_tokenizer']}", f"data.audio=[{p['audio']}/*.wav]"],
    "train-vocoder": lambda p: ["train-vocoder", str(p["root"] / "v"), f"tokenizer={p['bad_tokenizer']}", f"data.audio=[{p['audio']}/*.wav]"],
}


@pytest.mark.parametrize("command", list(UNREADABLE_CHECKPOINTS))
def test_an_unreadable_checkpoint_is_one_line_naming_the_file(parts, command) -> None:
    argv = UNREADABLE_CHECKPOINTS[command](parts)
    bad = "bad_lm" if any("bad_lm" in a for a in argv) else "bad_tokenizer"
    assert_one_line_error(runner.invoke(app, argv), str(parts[bad]), ".safetensors:", UNREADABLE)


UNWRITABLE_OUTPUTS = {
    "quickstart": lambda p: ["quickstart", NOWHERE],
    "generate": lambda p: ["generate", f"model={p['lm']}", f"prompts={p['prompts']}", f"out_dir={NOWHERE}", "max_new_tokens=2"],
    "eval pairs": lambda p: ["eval", "pairs", NOWHERE, f"benchmark={p['root']}", f"tokenizer={p['tokenizer']}", f"model={p['lm']}"],
    "eval generate": lambda p: ["eval", "generate", NOWHERE, f"prompts={p['audio']}", f"tokenizer={p['tokenizer']}", f"model={p['lm']}"],
    "eval resynth": lambda p: ["eval", "resynth", NOWHERE, f"tokenizer={p['tokenizer']}", f"data.audio=[{p['audio']}/*.wav]"],
    "export-hf": lambda p: ["export-hf", str(p["lm"]), NOWHERE],
    "tiny-text-lm": lambda p: ["tiny-text-lm", NOWHERE],
    "benchmarks build": lambda p: ["benchmarks", "build", "swuggy", NOWHERE, "num_words=3"],
    "data synth": lambda p: ["data", "synth", NOWHERE],
    "train-tokenizer": lambda p: ["train-tokenizer", "--out", NOWHERE, "type=kmeans", f"data.audio=[{p['audio']}/*.wav]"],
    "train-vocoder": lambda p: ["train-vocoder", NOWHERE, f"tokenizer={p['tokenizer']}", f"data.audio=[{p['audio']}/*.wav]"],
    "train": lambda p: ["train", f"out_dir={NOWHERE}", f"data.train={p['root']}"],
    "train-salm": lambda p: ["train-salm", f"out_dir={NOWHERE}"],
}


@pytest.mark.parametrize("command", list(UNWRITABLE_OUTPUTS))
def test_an_output_folder_that_cannot_be_made_is_one_line_naming_it(parts, command) -> None:
    result = runner.invoke(app, UNWRITABLE_OUTPUTS[command](parts))
    assert_one_line_error(result, "/proc/nope")
    assert any(problem in said(result).lower() for problem in ("cannot create", "cannot be read or written")), said(result)


MISSING_INPUTS = {
    "data align": lambda p: ["data", "align", str(p["root"] / "no-corpus")],
    "ask": lambda p: ["ask", str(p["lm"]), str(next(p["audio"].iterdir())), "Transcribe the audio."],
}


@pytest.mark.parametrize("command", list(MISSING_INPUTS))
def test_an_input_folder_of_the_wrong_kind_is_one_line_naming_it(parts, command) -> None:
    result = runner.invoke(app, MISSING_INPUTS[command](parts))
    assert_one_line_error(result, str(parts["root"]))
    assert "not a" in said(result), said(result)


def test_the_installed_command_prints_no_traceback(parts) -> None:
    """As a user runs it: ``spokenlm generate`` on a truncated model.safetensors, ``spokenlm quickstart /proc/nope``."""
    for argv, words in (
        (["generate", f"model={parts['bad_lm']}", f"prompts={parts['prompts']}", f"out_dir={parts['root'] / 'g2'}"], [UNREADABLE]),
        (["quickstart", "/proc/nope"], ["/proc/nope: cannot create the folder (no such file or directory)"]),
    ):
        out = subprocess.run([sys.executable, "-m", "spokenlm", *argv], capture_output=True, text=True, timeout=120)
        lines = [line for line in out.stderr.splitlines() if line.strip()]
        assert out.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), out.stderr
        assert "Traceback" not in out.stderr + out.stdout and all(w in " ".join(out.stderr.split()) for w in words), out.stderr
