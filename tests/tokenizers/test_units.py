"""UnitTokenizer on real speech: frame units, dedup durations, BPE, and save → load in another process."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from spokenlm.tokenizers import TOKENIZERS, load_tokenizer
from spokenlm.encoders import build_encoder
from spokenlm.tokenizers.fitting import fit_unit_tokenizer
from spokenlm.tokenizers.quantizer import KMeansConfig
from spokenlm.tokenizers.units import UnitTokenizer


@pytest.fixture(scope="module")
def mfcc_tokenizer(fsdd_wavs) -> UnitTokenizer:
    kmeans = KMeansConfig(k=20, algorithm="full", n_init=1)
    return fit_unit_tokenizer(build_encoder({"type": "mfcc"}), fsdd_wavs, kmeans, "mfcc-km20", dedup=True)


def test_tok_units_frame_level_and_dedup(mfcc_tokenizer, fsdd_wavs):
    assert "units" in TOKENIZERS and mfcc_tokenizer.frame_rate == 50.0 and mfcc_tokenizer.vocab_size == 20
    frames = mfcc_tokenizer.frame_units(fsdd_wavs[:4], 16000)
    tokens = mfcc_tokenizer.encode(fsdd_wavs[:4], 16000)
    for wav, frame, token in zip(fsdd_wavs[:4], frames, tokens):
        assert len(frame) == 1 + wav.size // 320 and frame.durations is None
        assert token.durations.sum() == len(frame) and np.array_equal(token.expanded().ids, frame.ids)
        assert np.all(token.ids[0, 1:] != token.ids[0, :-1])  # no repeated neighbours after dedup
        assert token.tokenizer == "mfcc-km20" and 0 <= token.ids.min() and token.ids.max() < 20


def test_tok_units_resample_input_rate(mfcc_tokenizer, fsdd_wavs):
    from spokenlm.audio.io import resample

    at_8k = resample(fsdd_wavs[0], 16000, 8000)
    assert len(mfcc_tokenizer.frame_units(at_8k[None], 8000)[0]) == 1 + resample(at_8k, 8000, 16000).size // 320


def test_tok_saved_tokenizer_gives_identical_tokens_in_another_process(mfcc_tokenizer, fsdd_wavs, tmp_path):
    directory = tmp_path / "tok"
    mfcc_tokenizer.save_pretrained(directory)
    wav_path = tmp_path / "wav.npy"
    np.save(wav_path, fsdd_wavs[5])
    script = (
        "import json, sys, numpy as np\n"
        "from spokenlm.tokenizers import load_tokenizer\n"
        "t = load_tokenizer(sys.argv[1]).encode(np.load(sys.argv[2]), 16000)[0]\n"
        "print(json.dumps({'ids': t.ids.tolist(), 'durations': t.durations.tolist(), 'name': t.tokenizer}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(directory), str(wav_path)], capture_output=True, text=True, check=True)
    other = json.loads(result.stdout.strip().splitlines()[-1])
    mine = mfcc_tokenizer.encode(fsdd_wavs[5], 16000)[0]
    assert other == {"ids": mine.ids.tolist(), "durations": mine.durations.tolist(), "name": "mfcc-km20"}
    assert isinstance(load_tokenizer(directory), UnitTokenizer)


def test_tok_units_with_bpe_round_trip(fsdd_wavs, tmp_path):
    kmeans = KMeansConfig(k=12, algorithm="full", n_init=1)
    tokenizer = fit_unit_tokenizer(build_encoder({"type": "log-mel"}), fsdd_wavs, kmeans, "mel-bpe", True, bpe_vocab_size=30)
    assert tokenizer.vocab_size == 30
    tokens = tokenizer.encode(fsdd_wavs[:3], 16000)
    frames = tokenizer.frame_units(fsdd_wavs[:3], 16000)
    for token, frame in zip(tokens, frames):
        deduplicated = frame.deduplicated()
        assert np.array_equal(tokenizer.bpe.decode(token.ids[0]), deduplicated.ids[0])
        assert token.durations.sum() == len(frame) and len(token) <= len(deduplicated)
    tokenizer.save_pretrained(tmp_path / "bpe")
    again = load_tokenizer(tmp_path / "bpe").encode(fsdd_wavs[:3], 16000)
    assert all(np.array_equal(a.ids, b.ids) and np.array_equal(a.durations, b.durations) for a, b in zip(tokens, again))
