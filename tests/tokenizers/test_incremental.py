"""Incremental tokenization of a growing waveform (overlapping windows of a non-causal tokenizer), on real speech."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spokenlm.audio.io import load_audio
from spokenlm.encoders.phone_model import PhoneClassifier, PhoneClassifierConfig
from spokenlm.tokenizers.incremental import IncrementalConfig, IncrementalEncoder
from spokenlm.tokenizers.phone import PhoneTokenizer


@pytest.fixture(scope="module")
def phone_tokenizer() -> PhoneTokenizer:
    """A random (untrained) BiGRU phone classifier, deduplicating: not causal, per-input log-mel normalisation."""
    torch.manual_seed(0)
    return PhoneTokenizer(PhoneClassifier(PhoneClassifierConfig(channels=16, hidden=16, conv_layers=1)), dedup=True)


@pytest.fixture(scope="module")
def sentence(asr_clips) -> np.ndarray:
    return load_audio(asr_clips[0], 16000)[0]


def run(encoder: IncrementalEncoder, wav: np.ndarray, chunk: int = 512) -> list[np.ndarray]:
    """Push ``wav`` in chunks (the last one through ``finish``); the units returned by each call."""
    pieces = [encoder.push(wav[start : start + chunk]) for start in range(0, len(wav) - chunk, chunk)]
    return [*pieces, encoder.finish(wav[len(pieces) * chunk :])]


def test_one_window_equals_offline_encoding(phone_tokenizer, sentence):
    encoder = IncrementalEncoder(phone_tokenizer, 16000, IncrementalConfig(step_s=60.0))
    pieces = run(encoder, sentence)
    assert all(len(p) == 0 for p in pieces[:-1])
    np.testing.assert_array_equal(pieces[-1], phone_tokenizer.encode(sentence, 16000)[0].ids[0])


@pytest.mark.parametrize("context_s", [None, 0.5])
def test_windows_commit_every_frame_once_and_deduplicate_across_windows(phone_tokenizer, sentence, context_s):
    encoder = IncrementalEncoder(phone_tokenizer, 16000, IncrementalConfig(context_s=context_s, margin_s=0.2, step_s=0.32))
    pieces = run(encoder, sentence)
    units = np.concatenate(pieces)
    offline = phone_tokenizer.encode(sentence, 16000)[0]
    assert sum(len(p) > 0 for p in pieces[:-1]) >= 4  # units were committed while the audio still arrived
    assert encoder.frames == int(offline.durations.sum())  # every frame committed exactly once
    assert len(units) and not np.any(units[1:] == units[:-1])  # no repeat, even where windows join
    assert set(units.tolist()) <= set(range(phone_tokenizer.vocab_size))


def test_a_unit_tokenizer_without_durations_gives_frame_units(tiny_tokenizer_dir, sentence):
    from spokenlm.tokenizers.base import load_tokenizer

    tokenizer = load_tokenizer(tiny_tokenizer_dir)
    encoder = IncrementalEncoder(tokenizer, 16000, IncrementalConfig(context_s=1.0, margin_s=0.2))
    units = np.concatenate(run(encoder, sentence))
    assert len(units) == len(tokenizer.encode(sentence, 16000)[0].ids[0]) == encoder.frames
