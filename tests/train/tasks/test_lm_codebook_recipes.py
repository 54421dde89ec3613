"""recipes/lm-delay-tiny.yaml and recipes/lm-depth-tiny.yaml train on 8 mel-RVQ codebooks of real speech and continue a prompt."""

import math

import numpy as np
import pytest

from helpers.paths import ASSETS, REPO
from spokenlm.config import load_config
from spokenlm.models import UnitLM
from spokenlm.train.tasks.lm import LMTrainConfig, train

CODEBOOK_SIZE = 16


@pytest.fixture(scope="module")
def mel_rvq_tokens(tmp_path_factory):
    """Four LJSpeech clips through an 8 × 16 mel-RVQ fitted on them, as a token shard with the tokenizer's stream specs."""
    from spokenlm.audio.io import load_audio
    from spokenlm.data.shards import ShardWriter
    from spokenlm.tokenizers.mel_train import MelTokenizerRecipe, fit_mel_tokenizer

    wavs = [load_audio(path, 22050)[0] for path in sorted((ASSETS / "ljspeech").glob("LJ001-000[1-4].flac"))]
    tokenizer = fit_mel_tokenizer(MelTokenizerRecipe(codebooks=8, codebook_size=CODEBOOK_SIZE, max_frames=4000), wavs)
    out = tmp_path_factory.mktemp("mel-rvq-tokens") / "corpus"
    shard = out / "shard-00000"
    with ShardWriter(shard, tokenizer.name, tokenizer.frame_rate, tokenizer.vocab_size, tokenizer.num_streams, tokenizer.streams) as writer:
        for i, tokens in enumerate(tokenizer.encode(wavs, 22050)):
            writer.add(f"clip-{i}", tokens)
    return out


@pytest.mark.parametrize("recipe", ["lm-delay-tiny.yaml", "lm-depth-tiny.yaml"])
def test_codebook_lm_recipe_learns_every_codebook_and_continues(mel_rvq_tokens, tmp_path, recipe):
    from spokenlm.eval.generative import UnitLMContinuer

    config = load_config(LMTrainConfig, REPO / "recipes" / recipe, [
        f"data.train={mel_rvq_tokens}", f"out_dir={tmp_path / 'run'}", "data.seq_len=64", "data.val_fraction=0.25", "optim.batch_size=4",
        "optim.max_steps=30", "optim.warmup_steps=5", "eval_every=30", "save_every=0", "device=cpu"])
    summary = train(config)
    model = UnitLM.from_pretrained(tmp_path / "run" / "model")
    assert model.config.num_streams == 8 and len(summary["val_losses"]) == 8
    assert all(loss < math.log(v.size) for loss, v in zip(summary["val_losses"], model.vocabs))  # under uniform, every codebook
    assert summary["val_losses"][0] < summary["unigram_entropies"][0] - 0.3  # the coarse codebook learns the speech's dynamics
    prompt = np.zeros((8, 5), dtype=np.int64)
    continuation = UnitLMContinuer(model).continue_units([prompt], 7, temperature=1.0, seed=0)[0]
    assert continuation.shape == (8, 7) and 0 <= continuation.min() and continuation.max() < CODEBOOK_SIZE
