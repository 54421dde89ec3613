"""Speech+text LM training on the one loop: word-aligned corpus + units → formatted documents; skips counted; cold and warm start."""

from __future__ import annotations

import numpy as np
import pytest

from spokenlm.align.formats import with_words
from spokenlm.align.words import WordSegment
from spokenlm.config import load_config
from spokenlm.data.manifests import make_recording, make_supervision, write_corpus
from spokenlm.data.shards import ShardWriter
from spokenlm.errors import ConfigError
from spokenlm.models import UnitLM
from spokenlm.tokenizers.text import TextTokenizer
from spokenlm.tokens import Tokens
from spokenlm.train.tasks.lm import LMTrainConfig, read_metrics, train
from helpers.paths import ASSETS, REPO

WORDS = ["the", "dog", "ran", "home", "cat", "sat"]
RATE = 50.0  # Hz; each word is 3 units of 2 frames (0.12 s)
AUDIO = ASSETS / "librivox" / "sense_and_sensibility_01_austen_64kb-0870.wav"


def _utterance(words: list[str]) -> tuple[Tokens, list[WordSegment]]:
    units = [3 * WORDS.index(w) + k for w in words for k in range(3)]
    segments = [WordSegment(w, 0.12 * i, 0.12 * (i + 1)) for i, w in enumerate(words)]
    return Tokens(np.array([units]), RATE, durations=np.full(len(units), 2)), segments


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """60 aligned utterances, plus one without a transcript, one without a word tier and one the tokenizer cannot encode."""
    root = tmp_path_factory.mktemp("speech_text")
    rng = np.random.default_rng(0)
    items = []
    with ShardWriter(root / "tokens", "test", RATE, 18) as writer:
        for n in range(63):
            words = [WORDS[i] for i in rng.integers(0, len(WORDS), rng.integers(4, 8))]
            tokens, segments = _utterance(words)
            cut = f"u{n:02d}"
            writer.add(cut, tokens)
            text = {60: "", 62: " ".join(words) + " café"}.get(n, " ".join(words))
            if n == 62:
                segments.append(WordSegment("café", segments[-1].end, segments[-1].end + 0.05))
            sup = make_supervision(cut, cut, 0.0, tokens.duration_seconds, text, "spk", "train")
            items.append((make_recording(AUDIO, cut), [sup if n in (60, 61) else with_words(sup, segments)]))
    write_corpus(root / "corpus", items)
    TextTokenizer.train([" ".join(WORDS)] * 5, vocab_size=40).save(root / "bpe")
    return root


def _config(data, out, *extra) -> LMTrainConfig:
    return load_config(LMTrainConfig, REPO / "recipes" / "spiritlm-tiny.yaml", [
        f"data.train={data / 'tokens'}", f"data.text.corpus={data / 'corpus'}", f"data.text.tokenizer={data / 'bpe'}", f"out_dir={out}",
        "model.n_units=18", "model.dim=32", "model.n_heads=4", "model.max_seq_len=64", "data.seq_len=32", "optim.batch_size=4",
        "optim.max_steps=40", "optim.warmup_steps=5", "eval_every=40", "save_every=40", "log_every=1", *extra])


@pytest.mark.slow
def test_cold_start_learns_and_reports_skipped_cuts(data, tmp_path) -> None:
    summary = train(_config(data, tmp_path / "run"))
    assert summary["skipped_cuts"]["counts"] == {"no_transcript": 1, "not_aligned": 1, "text_unencodable": 1}
    assert any(e.startswith("u62: the text tokenizer cannot encode") and "'é'" in e for e in summary["skipped_cuts"]["examples"])
    assert set(summary["formats"]) == {"interleave", "speech", "text", "speech_text", "text_speech"}
    losses = [r["loss"] for r in read_metrics(tmp_path / "run") if r["split"] == "train"]
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])
    model = UnitLM.from_pretrained(tmp_path / "run" / "model")
    assert model.vocab.n_units == 18 and model.vocab.n_text == TextTokenizer.load(tmp_path / "run" / "model").vocab_size


@pytest.mark.slow
def test_warm_start_from_a_text_lm_with_its_tokenizer(data, tmp_path) -> None:
    from spokenlm.models.tiny_text_lm import write_tiny_llama

    lm = write_tiny_llama(tmp_path / "llama", vocab_size=48, dim=32, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=64)
    TextTokenizer.load(data / "bpe").save(lm)
    config = _config(data, tmp_path / "warm", f"init.text_lm={lm}", "init.keep_text=true", "data.text.tokenizer=", "optim.max_steps=10")
    summary = train(config)
    model = UnitLM.from_pretrained(tmp_path / "warm" / "model")
    assert model.vocab.n_text == 48 and summary["skipped_cuts"]["counts"]["text_unencodable"] == 1
    with pytest.raises(ConfigError, match="keeps its text tokens: set init.keep_text=true"):
        train(_config(data, tmp_path / "drop", f"init.text_lm={lm}", "init.keep_text=false"))
    with pytest.raises(ConfigError, match="leave data.num_streams at 0"):
        train(_config(data, tmp_path / "multi", "data.num_streams=1"))
