"""Every tokenizer declares the specs of its streams, and its Tokens carry them (saved tokenizers of tests/golden, real speech)."""

from __future__ import annotations

import pytest

from spokenlm.audio.io import load_audio
from spokenlm.tokenizers.base import load_tokenizer

from helpers.paths import ASSETS, REPO

CHECKPOINTS = REPO / "tests" / "golden" / "checkpoints"


@pytest.mark.parametrize(("name", "roles"), [
    ("mfcc-km", ["semantic"]),
    ("phone", ["semantic"]),
    ("codec", ["acoustic"] * 4),
    ("mixed", ["semantic", "acoustic", "acoustic", "acoustic"]),
    ("mel-rvq", ["acoustic"] * 2),
])
def test_tokens_carry_the_tokenizers_stream_specs(name: str, roles: list[str]) -> None:
    tokenizer = load_tokenizer(CHECKPOINTS / name)
    wav, sr = load_audio(ASSETS / "speechbrain" / "ASR" / "spk1_snt1.wav")
    tokens = tokenizer.encode(wav[: sr // 2], sr)[0]
    assert tokens.streams == tokenizer.streams
    assert [s.role for s in tokens.streams] == roles
    assert [s.codebook for s in tokens.streams] == list(range(len(roles)))
    assert {(s.vocab_size, s.frame_rate, s.channel, s.delay) for s in tokens.streams} == {(tokenizer.vocab_size, tokenizer.frame_rate, "model", 0)}


def test_fewer_codebooks_of_a_mixed_codec_keep_the_semantic_one() -> None:
    tokenizer = load_tokenizer(CHECKPOINTS / "mixed").with_num_codebooks(2)
    assert [s.role for s in tokenizer.streams] == ["semantic", "acoustic"]
    assert [s.role for s in tokenizer.with_num_codebooks(1).streams] == ["semantic"]
