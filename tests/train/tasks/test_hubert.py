"""Our HuBERT-style encoder and its task: shapes, masking, an iteration on the loop, two iterations end to end."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from spokenlm.tokenizers import load_tokenizer
from spokenlm.encoders import load_encoder
from spokenlm.encoders.hubert import HubertEncoder
from spokenlm.encoders.hubert_model import HubertConfig, HubertModel, span_mask
from spokenlm.train.config import OptimConfig
from spokenlm.train.tasks.hubert import HubertTrainConfig, train_hubert_tokenizer, train_iteration
from helpers.paths import REPO

TINY = HubertConfig(
    conv_channels=16, dim=32, layers=2, heads=2, ffn_dim=64, pos_conv_kernel=8, pos_conv_groups=4,
    final_dim=16, num_targets=8, mask_prob=0.1, mask_length=3, layer=1,
)
TINY_OVERRIDES = [
    "model.conv_channels=16", "model.dim=32", "model.layers=2", "model.heads=2", "model.ffn_dim=64",
    "model.pos_conv_kernel=8", "model.pos_conv_groups=4", "model.final_dim=16", "model.mask_length=3", "model.layer=2",
]


def test_tok_hubert_shapes_and_frame_rate():
    model = HubertModel(TINY)
    states = model.hidden_states(torch.zeros(2, 16000))
    assert len(states) == TINY.layers + 1 and states[-1].shape == (2, 49, 32)
    assert model.num_frames(16000) == 49 and TINY.hop_length == 320


def test_tok_hubert_mel_frontend_frames_match_conv_and_survive_save_load(tmp_path, fsdd_wavs):
    mel = dataclasses.replace(TINY, frontend="mel", mel_bins=24)
    model = HubertModel(mel)
    for samples in (400, 8000, 16000, 16319):
        assert model.num_frames(samples) == HubertModel(TINY).num_frames(samples)
        assert model.hidden_states(torch.zeros(1, samples))[-1].shape[1] == model.num_frames(samples)
    frames = model.waveform_encoder(torch.from_numpy(fsdd_wavs[0][None]))  # [1, T, 24], per-band normalised
    assert frames.shape == (1, model.num_frames(len(fsdd_wavs[0])), 24)
    std = frames.std(1)[0]
    assert torch.allclose(frames.mean(1), torch.zeros(24), atol=1e-4)
    assert bool((((std - 1).abs() < 1e-3) | (std < 1e-3)).all()) and int((std > 0.5).sum()) >= 12  # bands above 4 kHz of 8 kHz audio are constant
    extractor = HubertEncoder.from_model(model, layer=1)
    extractor.save_pretrained(tmp_path / "enc")
    loaded = load_encoder(tmp_path / "enc")
    features = extractor.extract(fsdd_wavs[0])
    assert loaded.config.frontend == "mel" and torch.equal(loaded.extract(fsdd_wavs[0]), features)
    assert features.shape == (model.num_frames(len(fsdd_wavs[0])), TINY.dim)
    with pytest.raises(ValueError, match="frontend"):
        HubertConfig(frontend="fbank")


def test_tok_span_mask_covers_spans():
    mask = span_mask(3, 50, 0.0, 4, torch.Generator().manual_seed(0))
    assert mask.sum(1).tolist() == [4, 4, 4]  # exactly the one forced span per row
    row = mask[0].nonzero().flatten()
    assert (row[-1] - row[0]).item() == 3


def test_tok_hubert_iteration_learns_and_logs_every_step(fsdd_wavs, tmp_path):
    wavs = fsdd_wavs[:8]
    targets = [torch.from_numpy(np.arange(HubertModel(TINY).num_frames(w.size)) % 8) for w in wavs]
    optim = OptimConfig(lr=2e-3, schedule="cosine-to-floor", warmup_steps=2, min_lr_ratio=0.0, max_steps=12, batch_size=4,
                        weight_decay=0.01, decay_matrices_only=False, beta1=0.9, beta2=0.98, grad_clip=10.0)
    model = train_iteration(TINY, wavs, targets, HubertTrainConfig(optim=optim, crop_seconds=0.3, save_every=6, seed=1), tmp_path / "it")
    rows = [json.loads(line) for line in (tmp_path / "it" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 13)) and {"loss", "accuracy", "lr", "grad_norm"} <= set(rows[0])
    assert np.mean([r["loss"] for r in rows[-3:]]) < np.mean([r["loss"] for r in rows[:3]])
    assert rows[-1]["lr"] == 0.0  # cosine-to-floor reaches the floor at the last step
    assert not model.training and (tmp_path / "it" / "checkpoints" / "latest").is_file()


@pytest.mark.slow
def test_tok_hubert_two_iterations_to_tokenizer(tmp_path):
    overrides = [
        *TINY_OVERRIDES, f"data.audio=['{REPO}/tests/assets/fsdd/[0-2]_*_0.flac']", "train.optim.max_steps=4", "train.optim.batch_size=2",
        "train.crop_seconds=0.5", "train.optim.warmup_steps=1", "train.save_every=2", "target_clusters=[6,8]",
        "iterations=2", "target_layer=1", "target_kmeans.algorithm=full", "kmeans.algorithm=full", "kmeans.k=10", "name=hubert-test",
    ]
    out = tmp_path / "hubert"
    tokenizer = train_hubert_tokenizer(REPO / "recipes" / "tokenizer-hubert-tiny.yaml", overrides, out)
    assert (out / "recipe.yaml").exists() and (out / "train" / "iter2" / "encoder" / "config.json").exists()
    iteration2 = load_encoder(out / "train" / "iter2" / "encoder")
    assert iteration2.layer == 2 and iteration2.model.config.num_targets == 8
    loaded = load_tokenizer(out)
    wav = np.random.default_rng(0).normal(0, 0.1, 8000).astype(np.float32)
    assert loaded.name == "hubert-test" and loaded.vocab_size == 10 and loaded.frame_rate == 50.0
    assert np.array_equal(loaded.encode(wav, 16000)[0].ids, tokenizer.encode(wav, 16000)[0].ids)
    assert iteration2.config.frontend == "mel" and iteration2.config.mel_warp > 0  # the recipe's CPU-scale front-end
    np.save(tmp_path / "wav.npy", wav)
    script = (f"import numpy as np; from spokenlm.tokenizers import load_tokenizer; t = load_tokenizer({str(out)!r});"
              f"np.save({str(tmp_path / 'ids.npy')!r}, t.encode(np.load({str(tmp_path / 'wav.npy')!r}), 16000)[0].ids)")
    subprocess.run([sys.executable, "-c", script], check=True)
    assert np.array_equal(np.load(tmp_path / "ids.npy"), tokenizer.encode(wav, 16000)[0].ids)
    # rerunning finds every iteration done and only refits k-means
    train_hubert_tokenizer(REPO / "recipes" / "tokenizer-hubert-tiny.yaml", overrides, out)
    steps = [json.loads(line)["step"] for line in (out / "train" / "iter1" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]
