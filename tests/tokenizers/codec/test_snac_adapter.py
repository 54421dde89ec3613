"""SNAC adapter: a tiny SNAC built here (random weights), its own folder layout, our round trip."""

from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("snac")
pytest.importorskip("einops")

from spokenlm.audio.io import load_audio  # noqa: E402
from spokenlm.errors import SpokenLMError  # noqa: E402
from spokenlm.tokenizers.base import load_tokenizer  # noqa: E402
from spokenlm.tokenizers.codec.snac_adapter import SnacTokenizer  # noqa: E402
from spokenlm.tokens import Tokens  # noqa: E402

TINY = dict(sampling_rate=16000, encoder_dim=8, encoder_rates=[2, 4, 5], decoder_dim=32, decoder_rates=[5, 4, 2],
            attn_window_size=None, codebook_size=64, codebook_dim=4, vq_strides=[4, 2, 1], noise=False, depthwise=True)  # fmt: skip


@pytest.fixture(scope="module")
def snac_folder(tmp_path_factory) -> Path:
    """A SNAC model folder in SNAC's own layout, as a user would have downloaded it."""
    from snac import SNAC

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("snac")
    (folder / "config.json").write_text(__import__("json").dumps(TINY))
    torch.save(SNAC(**TINY).state_dict(), folder / "pytorch_model.bin")
    return folder


def test_snac_tokens_put_every_level_on_the_fine_grid_and_decode(snac_folder: Path, data_dir: Path) -> None:
    tokenizer = SnacTokenizer.from_snac_folder(snac_folder)
    assert tokenizer.frame_rate == 16000 / 40 and tokenizer.num_streams == 3
    wav, _ = load_audio(data_dir / "fsdd" / "7_jackson_2.flac", 16000)
    tokens = tokenizer.encode(wav, 16000)[0]
    assert tokens.ids.shape[0] == 3 and tokens.ids.shape[1] % 4 == 0 and tokens.ids.shape[1] * 40 >= len(wav)
    np.testing.assert_array_equal(tokens.ids[0], np.repeat(tokens.ids[0, ::4], 4))  # coarse codes repeat
    np.testing.assert_array_equal(tokens.ids[1], np.repeat(tokens.ids[1, ::2], 2))
    audio = tokenizer.decode(tokens)
    with torch.no_grad():
        codes = tokenizer.model.encode(torch.from_numpy(wav)[None, None])
        direct = tokenizer.model.decode(codes)[0, 0].numpy()
    np.testing.assert_allclose(audio, direct, atol=1e-5)
    with pytest.raises(SpokenLMError, match="multiple of 4"):
        tokenizer.decode(Tokens(tokens.ids[:, :6], tokenizer.frame_rate))


def test_snac_save_load_round_trip(snac_folder: Path, data_dir: Path, tmp_path: Path) -> None:
    tokenizer = SnacTokenizer.from_snac_folder(snac_folder, name="snac-tiny")
    tokenizer.save_pretrained(tmp_path / "ours")
    loaded = load_tokenizer(tmp_path / "ours")
    wav, _ = load_audio(data_dir / "fsdd" / "2_lucas_0.flac", 16000)
    assert isinstance(loaded, SnacTokenizer) and loaded.name == "snac-tiny"
    np.testing.assert_array_equal(loaded.encode(wav, 16000)[0].ids, tokenizer.encode(wav, 16000)[0].ids)


def test_missing_snac_folder_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(SpokenLMError, match="config.json: missing"):
        SnacTokenizer.from_snac_folder(tmp_path)
