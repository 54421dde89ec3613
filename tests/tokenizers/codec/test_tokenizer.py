"""CodecTokenizer / MixedTokenizer: the SpeechTokenizer contract, save → load round trips, bad input."""

from pathlib import Path

import numpy as np
import pytest
import torch

from spokenlm.audio.io import load_audio
from spokenlm.errors import SpokenLMError
from spokenlm.tokenizers.base import TOKENIZERS, load_tokenizer
from spokenlm.tokenizers.codec import CodecConfig, CodecModel, CodecTokenizer, MixedTokenizer
from spokenlm.tokens import Tokens

CONFIG = dict(channels=8, dimension=32, num_codebooks=4, codebook_size=32, ratios=[4, 4, 5])  # hop 80 samples: 200 Hz at 16 kHz


@pytest.fixture(scope="module")
def clip(data_dir) -> tuple[np.ndarray, int]:
    return load_audio(data_dir / "ljspeech" / "LJ001-0002.flac", None)  # 22.05 kHz


def _model(semantic_dim: int = 0) -> CodecModel:
    torch.manual_seed(0)
    model = CodecModel(CodecConfig(semantic_dim=semantic_dim, **CONFIG)).train()
    with torch.no_grad():
        model(torch.randn(2, 1, 8000) * 0.1)
    return model.eval()


def test_registered_under_codec_and_mixed() -> None:
    assert TOKENIZERS.get("codec") is CodecTokenizer and TOKENIZERS.get("mixed") is MixedTokenizer


def test_encode_resamples_and_gives_k_streams_at_the_frame_rate(clip) -> None:
    wav, sr = clip
    tokenizer = CodecTokenizer(_model(), name="tiny")
    tokens = tokenizer.encode(wav, sr)[0]
    assert tokenizer.frame_rate == 16000 / 80 and tokenizer.hop_length == 80
    samples_16k = round(len(wav) * 16000 / sr)
    assert tokens.ids.shape == (4, -(-samples_16k // 80))
    assert tokens.frame_rate == 200.0 and tokens.tokenizer == "tiny"
    assert tokens.ids.min() >= 0 and tokens.ids.max() < 32
    assert abs(tokens.duration_seconds - len(wav) / sr) < 1 / 200 + 1e-3
    audio = tokenizer.decode(tokens)
    assert audio.shape == (len(tokens) * 80,) and audio.dtype == np.float32


def test_fewer_codebooks_are_a_prefix_and_lower_the_bitrate(clip) -> None:
    wav, sr = clip
    full = CodecTokenizer(_model())
    two = full.with_num_codebooks(2)
    assert two.num_streams == 2 and two.bitrate == full.bitrate / 2 == 2 * 5 * 200
    np.testing.assert_array_equal(two.encode(wav, sr)[0].ids, full.encode(wav, sr)[0].ids[:2])
    assert two.decode(two.encode(wav, sr)[0]).shape[0] > 0
    with pytest.raises(SpokenLMError, match="num_codebooks"):
        full.with_num_codebooks(5)


@pytest.mark.parametrize("semantic_dim", [0, 6])
def test_save_load_round_trip_gives_identical_tokens_and_audio(tmp_path: Path, clip, semantic_dim: int) -> None:
    wav, sr = clip
    tokenizer = MixedTokenizer(_model(6), "mix", teacher={"type": "mfcc"}) if semantic_dim else CodecTokenizer(_model(), "plain")
    tokenizer.save_pretrained(tmp_path / "tok")
    loaded = load_tokenizer(tmp_path / "tok")
    assert type(loaded) is type(tokenizer) and loaded.name == tokenizer.name
    before, after = tokenizer.encode(wav, sr)[0], loaded.encode(wav, sr)[0]
    np.testing.assert_array_equal(before.ids, after.ids)
    np.testing.assert_allclose(tokenizer.decode(before), loaded.decode(after), atol=1e-6)
    if semantic_dim:
        assert loaded.teacher == {"type": "mfcc"}
        np.testing.assert_array_equal(loaded.semantic_tokens(wav, sr).ids, before.ids[:1])


def test_decode_rejects_foreign_tokens() -> None:
    tokenizer = CodecTokenizer(_model())
    with pytest.raises(SpokenLMError, match="streams"):
        tokenizer.decode(Tokens(np.zeros((5, 3), dtype=np.int64), 200.0))
    with pytest.raises(SpokenLMError, match="ids must lie"):
        tokenizer.decode(Tokens(np.full((2, 3), 32), 200.0))


def test_mixed_needs_a_semantic_head_and_load_checks_the_type(tmp_path: Path) -> None:
    with pytest.raises(SpokenLMError, match="semantic_dim"):
        MixedTokenizer(_model(0))
    CodecTokenizer(_model()).save_pretrained(tmp_path / "plain")
    with pytest.raises(SpokenLMError, match="not 'mixed'"):
        MixedTokenizer.from_pretrained(tmp_path / "plain")
    with pytest.raises(SpokenLMError, match="missing"):
        CodecTokenizer.from_pretrained(tmp_path / "nowhere")
