"""The vocoder task end to end on real speech: losses, stop and resume, export, and the resynth / eval resynth commands."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from spokenlm.cli.main import app
from spokenlm.config import load_config
from spokenlm.vocoders import load_vocoder
from spokenlm.train.tasks.vocoder import VocoderTrainConfig, train_vocoder

TINY_ISTFT = [
    "model.kind=unit-istft",
    "model.conditioning.dim=16",
    "model.conditioning.f0_bins=8",
    "model.istft.dim=16",
    "model.istft.intermediate_dim=32",
    "model.istft.num_layers=2",
    "discriminator.channels=2",
    "discriminator.periods=[2, 3]",
    "discriminator.num_scales=1",
    "optim.batch_size=2",
    "segment_frames=8",
    "log_every=1",
    "save_every=2",
    "speaker=table",
    r"speaker_pattern=^(spk\d)_",
]


def _config(tokenizer: Path, clips: list[Path], steps: int) -> VocoderTrainConfig:
    data = f"data.audio=[{', '.join(str(c) for c in clips)}]"
    return load_config(VocoderTrainConfig, None, [*TINY_ISTFT, f"tokenizer={tokenizer}", data, f"optim.max_steps={steps}"])


@pytest.mark.slow
def test_voc_train_resume_reproduces_losses(tmp_path: Path, tiny_tokenizer_dir: Path, asr_clips: list[Path]) -> None:
    """4 steps in one go == 2 steps, stop, rerun to 4 (GAN, F0 and speaker table included; the schedule is constant)."""
    clips = [asr_clips[0], asr_clips[6]]  # one clip of each speaker
    straight = train_vocoder(_config(tiny_tokenizer_dir, clips, 4), tmp_path / "a")
    train_vocoder(_config(tiny_tokenizer_dir, clips, 2), tmp_path / "b")
    resumed = train_vocoder(_config(tiny_tokenizer_dir, clips, 4), tmp_path / "b")

    rows_a = [json.loads(line) for line in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    rows_b = [json.loads(line) for line in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows_a] == [r["step"] for r in rows_b] == [1, 2, 3, 4]
    for a, b in zip(rows_a, rows_b):
        assert set(a) >= {"mel", "duration", "adversarial", "feature_matching", "discriminator"}
        numbers = [k for k, v in a.items() if k != "crops_per_s" and not isinstance(v, str)]
        assert {k: a[k] for k in numbers} == pytest.approx({k: b[k] for k in numbers}, rel=1e-4, abs=1e-6)
    for (name, p), (_, q) in zip(straight.net.state_dict().items(), resumed.net.state_dict().items()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6, msg=name)
    assert straight.config.speakers == ["spk1", "spk2"]
    exported = train_vocoder(_config(tiny_tokenizer_dir, clips, 4), tmp_path / "b")  # finished: exported, no training
    for (name, p), (_, q) in zip(resumed.net.state_dict().items(), exported.net.state_dict().items()):
        torch.testing.assert_close(p, q, msg=name)
    assert load_vocoder(tmp_path / "a").config == straight.config


@pytest.mark.slow
def test_voc_cli_train_resynth_and_eval(tmp_path: Path, tiny_tokenizer_dir: Path, asr_clips: list[Path], data_dir: Path) -> None:
    runner = CliRunner()
    audio = tmp_path / "audio"
    audio.mkdir()
    for clip in asr_clips[:2]:
        shutil.copy(clip, audio / clip.name)
    (audio / "broken.wav").write_bytes(b"RIFF not really audio")
    train_glob = f"data.audio=[{asr_clips[2]}, {asr_clips[8]}]"
    result = runner.invoke(app, [
        "train-vocoder", str(tmp_path / "voc"), "-c", "recipes/vocoder-unit-mel-tiny.yaml", f"tokenizer={tiny_tokenizer_dir}", train_glob,
        "model.mel_vocoder=griffin-lim", "model.unit_to_mel.dim=16", "model.unit_to_mel.intermediate_dim=32", "model.unit_to_mel.num_layers=1",
        "model.conditioning.dim=16", "optim.max_steps=3", "optim.batch_size=2", "save_every=2", "log_every=1",
    ])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "voc" / "config.yaml").is_file() and (tmp_path / "voc" / "vocoder" / "model.safetensors").is_file()

    common = [f"tokenizer={tiny_tokenizer_dir}", f"vocoder={tmp_path / 'voc'}", f"data.audio=[{audio}/*.wav]"]
    result = runner.invoke(app, ["resynth", str(tmp_path / "re"), *common])
    assert result.exit_code == 0, result.output
    assert "resynthesized 2 utterance(s), skipped 1" in result.output.replace("\n", " ")
    assert sorted(p.name for p in (tmp_path / "re" / "audio").iterdir()) == sorted(c.name for c in asr_clips[:2])
    assert sorted(p.name for p in (tmp_path / "re" / "original").iterdir()) == sorted(c.name for c in asr_clips[:2])  # for listening side by side

    refs = tmp_path / "refs.txt"
    annotation = json.loads((data_dir / "speechbrain" / "annotation" / "ASR_train.json").read_text())
    refs.write_text("".join(f"{key}|{value['words']}\n" for key, value in annotation.items()))
    result = runner.invoke(app, ["eval", "resynth", str(tmp_path / "ev"), *common, f"references={refs}", "dnsmos=false", "f0=false"])
    assert result.exit_code == 0, result.output
    with (tmp_path / "ev" / "resynth.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and all(r["reference"] for r in rows)
    summary = json.loads((tmp_path / "ev" / "summary.json").read_text())
    assert summary["utterances"] == 2 and summary["skipped"] == 1
    assert summary["wer_original"] < 0.35  # whisper on the real clips
    assert summary["wer_resynth"] >= 0 and -1 <= summary["speaker_similarity"] <= 1 and summary["rtf"] > 0
    low, high = json.loads(summary["wer_resynth_ci"])  # utterances resampled: the pooled WER lies inside
    assert low <= summary["wer_resynth"] <= high
    assert "broken" in summary["skipped_examples"][0]
