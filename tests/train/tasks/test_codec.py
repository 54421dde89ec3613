"""The codec and mixed tasks on real speech: outputs, resume reproduces losses, bad files skipped, GAN phases, bf16."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from spokenlm.audio.io import load_audio
from spokenlm.errors import ConfigError
from spokenlm.tokenizers.base import load_tokenizer
from spokenlm.tokenizers.codec.tokenizer import MixedTokenizer
from spokenlm.train.tokenizer_recipes import TOKENIZER_RECIPES

TINY = [
    "model.channels=4", "model.dimension=16", "model.num_codebooks=3", "model.codebook_size=16",
    "segment_seconds=0.32", "optim.batch_size=2", "log_every=1",
]  # fmt: skip


def _audio(data_dir: Path) -> str:
    return f"data.audio=['{data_dir}/ljspeech/LJ001-000[1-4].flac']"


def _losses(out_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (out_dir / "metrics.jsonl").read_text().splitlines()]


def test_codec_trainer_writes_a_loadable_tokenizer_and_resume_reproduces_losses(tmp_path: Path, data_dir: Path) -> None:
    train = TOKENIZER_RECIPES.get("codec")
    straight = tmp_path / "straight"
    run = [*TINY, _audio(data_dir), "mel_weight=1.0", "save_every=2"]
    train(None, [*run, "optim.max_steps=4"], straight)
    resumed = tmp_path / "resumed"
    train(None, [*run, "optim.max_steps=2"], resumed)
    tokenizer = train(None, [*run, "optim.max_steps=4"], resumed)
    a, b = _losses(straight), _losses(resumed)
    assert [row["step"] for row in a] == [row["step"] for row in b] == [1, 2, 3, 4]
    assert all(row["mel"] > 0 for row in a)
    for row_a, row_b in zip(a, b):
        assert row_a["num_codebooks"] == row_b["num_codebooks"]
        np.testing.assert_allclose(row_a["loss"], row_b["loss"], rtol=1e-5)
    assert (resumed / "config.yaml").is_file()
    loaded = load_tokenizer(resumed)
    wav, _ = load_audio(data_dir / "librivox" / "sense_and_sensibility_01_austen_64kb-0880.wav", 16000)
    np.testing.assert_array_equal(loaded.encode(wav, 16000)[0].ids, tokenizer.encode(wav, 16000)[0].ids)


def test_mixed_trainer_distils_a_teacher_and_skips_bad_files(tmp_path: Path, data_dir: Path, capsys) -> None:
    broken = tmp_path / "broken.flac"
    broken.write_bytes(b"not audio at all")
    silent = tmp_path / "silent.flac"
    from spokenlm.audio.io import save_audio

    save_audio(silent, np.zeros(16000, dtype=np.float32), 16000)
    audio = f"data.audio=['{data_dir}/ljspeech/LJ001-000[1-2].flac', '{tmp_path}/*.flac']"
    tokenizer = TOKENIZER_RECIPES.get("mixed")(None, [*TINY, audio, "optim.max_steps=3", "teacher={type: mfcc, n_mfcc: 5}"], tmp_path / "out")
    assert "skipped 2 bad file(s)" in " ".join(capsys.readouterr().err.split())
    assert isinstance(tokenizer, MixedTokenizer) and tokenizer.config.semantic_dim == 15  # 5 MFCC + deltas
    rows = _losses(tmp_path / "out")
    assert all(0.0 <= row["semantic"] <= 2.0 for row in rows)
    assert isinstance(load_tokenizer(tmp_path / "out"), MixedTokenizer)


def test_mixed_trainer_distils_phone_posteriors(tmp_path: Path, data_dir: Path) -> None:
    from spokenlm.tokenizers.phone import PhoneTokenizer
    from spokenlm.encoders.phone_model import PhoneClassifier, PhoneClassifierConfig

    torch.manual_seed(0)
    PhoneTokenizer(PhoneClassifier(PhoneClassifierConfig(channels=8, hidden=8))).save_pretrained(tmp_path / "phones")
    teacher = f"teacher={{type: phone-classifier, tokenizer: {tmp_path / 'phones'}}}"
    tokenizer = TOKENIZER_RECIPES.get("mixed")(None, [*TINY, _audio(data_dir), "optim.max_steps=2", teacher], tmp_path / "out")
    assert tokenizer.config.semantic_dim == 40  # SIL + 39 ARPAbet posteriors
    assert load_tokenizer(tmp_path / "out").teacher["type"] == "phone-classifier"
    assert all(0.0 <= row["semantic"] <= 2.0 for row in _losses(tmp_path / "out"))


def test_trainer_rejects_a_recipe_of_another_type(tmp_path: Path, data_dir: Path) -> None:
    with pytest.raises(ConfigError, match="recipe type 'mixed'"):
        TOKENIZER_RECIPES.get("codec")(None, ["type=mixed", _audio(data_dir)], tmp_path)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_adversarial_training_step_runs_and_logs_gan_losses(tmp_path: Path, data_dir: Path, precision: str) -> None:
    gan = ["adversarial_weight=1.0", "discriminator_channels=4", "discriminator_fft_sizes=[128,256]", f"precision={precision}"]
    TOKENIZER_RECIPES.get("codec")(None, [*TINY, _audio(data_dir), "optim.max_steps=2", *gan], tmp_path)
    rows = _losses(tmp_path)
    assert {"discriminator", "adversarial", "feature_matching"} <= set(rows[-1])
    assert all(np.isfinite(value) for row in rows for value in row.values() if not isinstance(value, str))


def test_bf16_autocast_training_tracks_fp32_and_keeps_the_codebooks_fp32(tmp_path: Path, data_dir: Path) -> None:
    train = TOKENIZER_RECIPES.get("codec")
    runs = {p: train(None, [*TINY, _audio(data_dir), "optim.max_steps=3", f"precision={p}"], tmp_path / p) for p in ("fp32", "bf16")}
    fp32, bf16 = _losses(tmp_path / "fp32"), _losses(tmp_path / "bf16")
    np.testing.assert_allclose([r["stft"] for r in bf16], [r["stft"] for r in fp32], rtol=0.05)
    for level in runs["bf16"].model.quantizer.levels:
        assert level.embedding.dtype == level.embed_sum.dtype == torch.float32
