"""HF codec adapter: tiny random EnCodec / DAC / Mimi models saved here in transformers' layout, on real speech."""

from pathlib import Path

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")

from spokenlm.audio.io import load_audio  # noqa: E402
from spokenlm.errors import ConfigError, SpokenLMError  # noqa: E402
from spokenlm.tokenizers.base import load_tokenizer  # noqa: E402
from spokenlm.tokenizers.codec.hf_codec_adapter import HFCodecTokenizer  # noqa: E402
from spokenlm.tokens import Tokens  # noqa: E402


def _encodec():
    config = transformers.EncodecConfig(
        target_bandwidths=[1.2, 2.4], sampling_rate=16000, audio_channels=1, normalize=False, chunk_length_s=None, hidden_size=16,
        num_filters=4, num_residual_layers=1, upsampling_ratios=[8, 5, 4, 2], codebook_size=64, num_lstm_layers=1, codebook_dim=16,
    )  # fmt: skip
    return transformers.EncodecModel(config)


def _dac():
    config = transformers.DacConfig(
        encoder_hidden_size=4, downsampling_ratios=[2, 4, 5, 8], decoder_hidden_size=16, n_codebooks=4, codebook_size=64,
        codebook_dim=4, hidden_size=32, sampling_rate=16000,
    )  # fmt: skip
    return transformers.DacModel(config)


def _mimi():
    config = transformers.MimiConfig(
        sampling_rate=16000, frame_rate=None, hidden_size=16, num_filters=4, num_residual_layers=1, upsampling_ratios=[8, 5, 4, 2],
        codebook_size=64, codebook_dim=16, vector_quantization_hidden_dimension=16, num_quantizers=4, num_semantic_quantizers=1,
        num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2, head_dim=8, intermediate_size=32, sliding_window=50,
        use_conv_shortcut=False, upsample_groups=16,
    )  # fmt: skip
    return transformers.MimiModel(config)


# family -> (builder, frame rate in Hz, codebooks)
FAMILIES = {"encodec": (_encodec, 50.0, 8), "dac": (_dac, 50.0, 4), "mimi": (_mimi, 25.0, 4)}


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def hf_folder(request, tmp_path_factory) -> tuple[str, Path]:
    """A codec folder in transformers' own layout, as a user would have downloaded it."""
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp(request.param)
    FAMILIES[request.param][0]().save_pretrained(str(folder))
    return request.param, folder


@pytest.fixture(scope="module")
def speech(data_dir: Path) -> np.ndarray:
    wav, _ = load_audio(data_dir / "speechbrain" / "ASR" / "spk1_snt1.wav", 16000)
    return wav[:16000]


def test_hf_codec_tokens_have_the_model_rate_and_decode_like_the_model(hf_folder, speech: np.ndarray) -> None:
    family, folder = hf_folder
    _, frame_rate, codebooks = FAMILIES[family]
    tokenizer = HFCodecTokenizer.from_hf_folder(folder)
    assert (tokenizer.family, tokenizer.frame_rate, tokenizer.num_streams, tokenizer.vocab_size) == (family, frame_rate, codebooks, 64)
    assert tokenizer.bitrate == codebooks * 6 * frame_rate
    tokens = tokenizer.encode(speech, 16000)[0]
    assert tokens.ids.shape == (codebooks, int(np.ceil(len(speech) / 16000 * frame_rate)))
    assert tokens.frame_rate == frame_rate and tokens.ids.min() >= 0 and tokens.ids.max() < 64
    assert [s.role for s in tokens.streams] == ["semantic" if family == "mimi" and k == 0 else "acoustic" for k in range(codebooks)]
    audio = tokenizer.decode(tokens)
    assert audio.ndim == 1 and abs(len(audio) - len(speech)) <= 16000 / frame_rate and np.isfinite(audio).all()


def test_fewer_codebooks_are_the_leading_codes_and_still_decode(hf_folder, speech: np.ndarray) -> None:
    family, folder = hf_folder
    full = HFCodecTokenizer.from_hf_folder(folder)
    low = full.with_num_codebooks(2)
    ids = low.encode(speech, 16000)[0].ids
    np.testing.assert_array_equal(ids, full.encode(speech, 16000)[0].ids[:2])
    assert low.bitrate == full.bitrate * 2 / full.num_streams
    assert np.isfinite(low.decode(Tokens(ids, low.frame_rate))).all()


def test_hf_codec_save_load_round_trip(hf_folder, speech: np.ndarray, tmp_path: Path) -> None:
    family, folder = hf_folder
    tokenizer = HFCodecTokenizer.from_hf_folder(folder, name=f"{family}-tiny", num_codebooks=3)
    tokenizer.save_pretrained(tmp_path / "ours")
    loaded = load_tokenizer(tmp_path / "ours")
    assert isinstance(loaded, HFCodecTokenizer) and loaded.name == f"{family}-tiny" and loaded.num_streams == 3
    tokens = loaded.encode(speech, 16000)[0]
    np.testing.assert_array_equal(tokens.ids, tokenizer.encode(speech, 16000)[0].ids)
    np.testing.assert_allclose(loaded.decode(tokens), tokenizer.decode(tokens), atol=1e-6)


def test_load_tokenizer_opens_the_downloaded_folder_itself(hf_folder, speech: np.ndarray) -> None:
    family, folder = hf_folder
    opened = load_tokenizer(folder)
    assert isinstance(opened, HFCodecTokenizer) and opened.name == family
    np.testing.assert_array_equal(opened.encode(speech, 16000)[0].ids, HFCodecTokenizer.from_hf_folder(folder).encode(speech, 16000)[0].ids)


def test_bad_tokens_and_folders_are_clear_errors(hf_folder, tmp_path: Path) -> None:
    _, folder = hf_folder
    tokenizer = HFCodecTokenizer.from_hf_folder(folder)
    with pytest.raises(SpokenLMError, match="ids must lie in 0..63"):
        tokenizer.decode(Tokens(np.full((1, 5), 64), tokenizer.frame_rate))
    with pytest.raises(SpokenLMError, match="streams"):
        tokenizer.decode(Tokens(np.zeros((9, 5), dtype=np.int64), tokenizer.frame_rate))
    with pytest.raises(ConfigError, match="no config.json"):
        HFCodecTokenizer.from_hf_folder(tmp_path / "nowhere")


def test_non_codec_models_and_chunked_encodec_are_refused() -> None:
    bert = transformers.BertModel(transformers.BertConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8))
    with pytest.raises(SpokenLMError, match="not a supported codec"):
        HFCodecTokenizer(bert)
    stereo = _encodec()
    stereo.config.audio_channels = 2
    with pytest.raises(SpokenLMError, match="mono, unchunked"):
        HFCodecTokenizer(stereo)
