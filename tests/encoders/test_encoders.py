"""Feature extractors: frame counts and rates on real speech, layer choice, save → load gives identical features."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from spokenlm.audio.io import load_audio
from spokenlm.errors import ConfigError, MissingDependencyError, SpokenLMError
from spokenlm.encoders import build_encoder, load_encoder
from helpers.paths import ASSETS


@pytest.mark.parametrize("kind, dim", [("mfcc", 39), ("log-mel", 80)])
def test_tok_spectral_frames_rate_and_round_trip(kind, dim, lj_wav, tmp_path):
    extractor = build_encoder({"type": kind})
    features = extractor.extract(lj_wav)
    assert extractor.frame_rate == 50.0 and extractor.dim == dim
    assert features.shape == (1 + lj_wav.size // 320, dim)
    assert torch.allclose(features.mean(0), torch.zeros(dim), atol=1e-4)  # per-utterance normalisation
    extractor.save_pretrained(tmp_path / "x")
    assert torch.equal(load_encoder(tmp_path / "x").extract(lj_wav), features)


def test_tok_spectral_batch_equals_single(fsdd_wavs):
    extractor = build_encoder({"type": "mfcc", "normalize": False})
    batch = extractor.extract_batch(fsdd_wavs[:3])
    for wav, features in zip(fsdd_wavs[:3], batch):
        assert torch.equal(extractor.extract(wav), features)


def _tiny_ssl(model_type: str, directory):
    import transformers

    classes = {"hubert": "Hubert", "wav2vec2": "Wav2Vec2", "wavlm": "WavLM"}[model_type]
    config = getattr(transformers, f"{classes}Config")(
        hidden_size=32, num_hidden_layers=3, num_attention_heads=2, intermediate_size=64,
        conv_dim=(16,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
    )
    torch.manual_seed(0)
    getattr(transformers, f"{classes}Model")(config).save_pretrained(directory)
    return directory


@pytest.mark.parametrize("model_type", ["hubert", "wav2vec2", "wavlm"])
def test_tok_hf_ssl_layers_and_round_trip(model_type, lj_wav, tmp_path):
    model_dir = _tiny_ssl(model_type, tmp_path / "hf")
    wav = lj_wav[:16000]
    extractor = build_encoder({"type": "hf-ssl", "model_dir": str(model_dir), "layer": 2})
    features = extractor.extract(wav)
    assert extractor.frame_rate == 50.0 and extractor.dim == 32
    assert features.shape == (49, 32)  # (16000 - 400) // 320 + 1
    extractor.save_pretrained(tmp_path / "saved")
    assert torch.allclose(load_encoder(tmp_path / "saved").extract(wav), features)
    other = load_encoder(tmp_path / "saved", layer=3).extract(wav)
    assert other.shape == features.shape and not torch.allclose(other, features)
    with pytest.raises(ConfigError, match="layer 9"):
        build_encoder({"type": "hf-ssl", "model_dir": str(model_dir), "layer": 9})


def test_tok_hf_ssl_refuses_non_local_dir(tmp_path):
    with pytest.raises(ConfigError, match="nothing is downloaded"):
        build_encoder({"type": "hf-ssl", "model_dir": "facebook/hubert-base-ls960"})


@pytest.fixture(scope="module")
def tiny_whisper_dir(tmp_path_factory):
    from transformers import WhisperConfig, WhisperModel

    config = WhisperConfig(
        d_model=32, encoder_layers=2, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=64, decoder_ffn_dim=64, num_mel_bins=80, vocab_size=100, max_target_positions=32,
        pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=1, suppress_tokens=[], begin_suppress_tokens=[],
    )
    torch.manual_seed(0)
    directory = tmp_path_factory.mktemp("whisper") / "hf"
    WhisperModel(config).save_pretrained(directory)
    return directory


def test_tok_hf_whisper_keeps_real_frames_per_utterance(tiny_whisper_dir, fsdd_wavs, tmp_path):
    extractor = build_encoder({"type": "hf-whisper", "model_dir": str(tiny_whisper_dir), "layer": 1})
    a, b = fsdd_wavs[0], fsdd_wavs[7]
    features = extractor.extract_batch([a, b])
    assert [f.shape for f in features] == [(math.ceil(a.size / 320), 32), (math.ceil(b.size / 320), 32)]
    # each utterance is encoded on its own: batching with another does not change it
    assert torch.allclose(features[0], extractor.extract(a))
    assert extractor.layer == 1 and build_encoder({"type": "hf-whisper", "model_dir": str(tiny_whisper_dir)}).layer == 2
    extractor.save_pretrained(tmp_path / "saved")
    assert torch.allclose(load_encoder(tmp_path / "saved").extract(a), features[0])


def test_tok_hf_whisper_windows_long_audio(tiny_whisper_dir):
    extractor = build_encoder({"type": "hf-whisper", "model_dir": str(tiny_whisper_dir)})
    long = np.random.default_rng(0).normal(0, 0.1, 31 * 16000).astype(np.float32)
    assert extractor.extract(long).shape == (1500 + 50, 32)


@pytest.mark.slow
def test_tok_ct2_whisper_bundled_base(tmp_path):
    from spokenlm.encoders.whisper import BUNDLED_WHISPER_BASE

    wav = load_audio(ASSETS / "jfk.flac", 16000)[0]  # 11 s, 44.1 kHz stereo
    try:
        extractor = build_encoder({"type": "ct2-whisper", "model_dir": BUNDLED_WHISPER_BASE})
    except MissingDependencyError as err:  # faster-whisper and the bundled weights are the `asr` extra
        pytest.skip(str(err))
    features = extractor.extract(wav)
    assert features.shape == (math.ceil(wav.size / 320), 512) and torch.isfinite(features).all()
    extractor.save_pretrained(tmp_path / "saved")
    assert torch.equal(load_encoder(tmp_path / "saved").extract(wav[:16000]), extractor.extract(wav[:16000]))


@pytest.mark.parametrize("output, dim", [("posteriors", 40), ("bottleneck", 32)])
def test_tok_phone_classifier_outputs_batching_and_round_trip(output, dim, fsdd_wavs, tmp_path):
    from spokenlm.tokenizers.phone import PhoneTokenizer
    from spokenlm.encoders.phone_model import PhoneClassifier, PhoneClassifierConfig

    torch.manual_seed(0)
    tokenizer = PhoneTokenizer(PhoneClassifier(PhoneClassifierConfig(channels=16, hidden=16)))
    tokenizer.save_pretrained(tmp_path / "phones")
    extractor = build_encoder({"type": "phone-classifier", "tokenizer": str(tmp_path / "phones"), "output": output})
    wavs = fsdd_wavs[:3]
    batch = extractor.extract_batch(wavs)
    assert extractor.frame_rate == 50.0 and extractor.dim == dim
    for wav, features in zip(wavs, batch):
        assert features.shape == (tokenizer.model.config.output_frames(wav.size), dim)
        assert torch.allclose(extractor.extract(wav), features, atol=1e-5)  # padding never leaks
    if output == "posteriors":
        assert torch.allclose(batch[0].sum(-1), torch.ones(len(batch[0])), atol=1e-5)
        ids = tokenizer.encode(wavs[0], 16000)[0].ids[0]
        np.testing.assert_array_equal(batch[0].argmax(-1).numpy(), ids)  # the tokens are the posteriors' argmax
    extractor.save_pretrained(tmp_path / "saved")
    (tmp_path / "phones" / "model.safetensors").unlink()  # the saved folder keeps its own copy
    assert torch.equal(load_encoder(tmp_path / "saved").extract(wavs[0]), extractor.extract(wavs[0]))
    with pytest.raises(ConfigError, match="not one of"):
        build_encoder({"type": "phone-classifier", "tokenizer": str(tmp_path / "saved" / "phone_tokenizer"), "output": "logits"})
    with pytest.raises(ConfigError, match="needs 'tokenizer'"):
        build_encoder({"type": "phone-classifier"})
    with pytest.raises(SpokenLMError, match="missing"):
        build_encoder({"type": "phone-classifier", "tokenizer": str(tmp_path / "missing")})
    with pytest.raises(SpokenLMError, match="mono"):
        extractor.extract(np.stack([wavs[0], wavs[0]]))


def test_encoders_are_modules_that_move_freeze_and_run_padded_batches(fsdd_wavs, tmp_path):
    """An encoder with weights is an nn.Module (parameters, requires_grad_, state_dict); forward on a padded batch equals extract."""
    from spokenlm.encoders.hubert import HubertEncoder
    from spokenlm.encoders.hubert_model import HubertConfig, HubertModel
    from spokenlm.encoders.spectral import MfccConfig, MfccEncoder

    torch.manual_seed(0)
    config = HubertConfig(frontend="mel", dim=32, layers=2, heads=2, ffn_dim=64, pos_conv_kernel=8, pos_conv_groups=4, final_dim=16, layer=1)
    encoder = HubertEncoder.from_model(HubertModel(config), layer=1)
    assert isinstance(encoder, torch.nn.Module) and sum(p.numel() for p in encoder.parameters()) > 0
    encoder.requires_grad_(False)
    assert not any(p.requires_grad for p in encoder.parameters()) and encoder.device.type == "cpu"
    assert set(encoder.state_dict()) == {f"model.{k}" for k in encoder.model.state_dict()}
    wavs = fsdd_wavs[:3]
    lengths = torch.tensor([len(w) for w in wavs])
    padded = torch.zeros(len(wavs), int(lengths.max()))
    for row, wav in enumerate(wavs):
        padded[row, : len(wav)] = torch.from_numpy(wav)
    for module in (encoder, MfccEncoder(MfccConfig())):
        features, frames = module(padded, lengths)
        for row, wav in enumerate(wavs):
            alone = module.extract(wav)
            assert int(frames[row]) == len(alone)
            assert torch.allclose(features[row, : len(alone)], alone, atol=1e-5) and not features[row, len(alone) :].any()
    assert list(MfccEncoder(MfccConfig()).parameters()) == [] and MfccEncoder(MfccConfig()).device.type == "cpu"
