"""UnitVocoder: round trips, durations, conditioning, streaming of every causal kind, and bad inputs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from spokenlm.errors import ConfigError, SpokenLMError
from spokenlm.tokens import Tokens
from spokenlm.vocoders import UnitVocoder, load_vocoder
from spokenlm.vocoders.conditioning import ConditioningConfig, quantize_f0
from spokenlm.vocoders.hifigan import HiFiGANConfig
from spokenlm.vocoders.istft import ISTFTConfig
from spokenlm.vocoders.model import VocoderModelConfig
from spokenlm.vocoders.unit2mel import UnitToMelConfig

VOCAB = 12


def tiny_config(kind: str, **conditioning: object) -> VocoderModelConfig:
    """A small vocoder of ``kind`` at 16 kHz / 50 Hz tokens (unit-mel: 22.05 kHz, Griffin-Lim)."""
    cond = ConditioningConfig(vocab_size=VOCAB, dim=16, **conditioning)
    return VocoderModelConfig(
        kind=kind,
        sample_rate=22050 if kind == "unit-mel" else 16000,
        frame_rate=50.0,
        conditioning=cond,
        istft=ISTFTConfig(dim=16, intermediate_dim=32, num_layers=2, hop_length=320, n_fft=1280),
        hifigan=HiFiGANConfig(upsample_rates=[5, 4, 4, 4], upsample_kernel_sizes=[10, 8, 8, 8], upsample_initial_channel=32,
                              resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3]], causal=True),
        unit_to_mel=UnitToMelConfig(dim=16, intermediate_dim=32, num_layers=2),
        mel_vocoder="griffin-lim",
    )


def random_tokens(frames: int = 40, seed: int = 0) -> Tokens:
    ids = np.random.default_rng(seed).integers(0, VOCAB, (1, frames))
    return Tokens(np.repeat(ids, 2, axis=1)[:, :frames], 50.0, "test")  # runs of 2 so deduplication matters


@pytest.fixture(params=["unit-istft", "unit-hifigan", "unit-mel"])
def vocoder(request: pytest.FixtureRequest) -> UnitVocoder:
    torch.manual_seed(0)
    return UnitVocoder(tiny_config(request.param, num_speakers=2, f0_bins=8))


def test_voc_output_length_and_range(vocoder: UnitVocoder) -> None:
    tokens = random_tokens()
    wav = vocoder(tokens)
    expected = 40 * 320 if vocoder.config.kind != "unit-mel" else round(40 * 22050 / 256 / 50) * 256
    assert wav.dtype == np.float32 and wav.shape == (expected,)
    assert np.all(np.abs(wav) <= 1.0) and np.all(np.isfinite(wav))


def test_voc_save_load_round_trip(vocoder: UnitVocoder, tmp_path: Path) -> None:
    tokens, f0 = random_tokens(), np.linspace(100, 200, 40)
    before = vocoder(tokens, speaker=1, f0=f0)
    vocoder.save_pretrained(tmp_path / "voc")
    loaded = load_vocoder(tmp_path / "voc")
    assert loaded.config == vocoder.config
    np.testing.assert_array_equal(loaded(tokens, speaker=1, f0=f0), before)


def test_voc_deduplicated_tokens_with_durations_equal_frames(vocoder: UnitVocoder) -> None:
    tokens = random_tokens()
    np.testing.assert_array_equal(vocoder(tokens.deduplicated()), vocoder(tokens))


def test_voc_predicted_durations_voice_every_token(vocoder: UnitVocoder) -> None:
    dedup = random_tokens().deduplicated()
    predicted = vocoder.net.duration.predict(Tokens(dedup.ids, dedup.frame_rate))
    assert predicted.durations.shape == (len(dedup),) and predicted.durations.min() >= 1
    wav = vocoder(Tokens(dedup.ids, dedup.frame_rate), predict_durations=True)
    assert len(wav) == len(vocoder(predicted))


def test_voc_conditioning_changes_output(vocoder: UnitVocoder) -> None:
    tokens = random_tokens()
    plain = vocoder(tokens)
    assert not np.allclose(vocoder(tokens, speaker=0), plain)
    assert not np.allclose(vocoder(tokens, f0=np.full(40, 220.0)), plain)


def test_voc_quantize_f0() -> None:
    bins = quantize_f0(np.array([0.0, 60.0, 500.0, 1000.0, 173.2]), bins=9, f0_min=60.0, f0_max=500.0)
    assert bins.tolist()[:4] == [0, 1, 8, 8]  # unvoiced, lowest, highest, clipped
    assert 1 < bins[4] < 8


@pytest.mark.parametrize("kind", ["unit-istft", "unit-hifigan"])
@pytest.mark.parametrize("chunk", [1, 7])
def test_voc_stream_equals_offline(kind: str, chunk: int) -> None:
    torch.manual_seed(0)
    vocoder = UnitVocoder(tiny_config(kind, num_speakers=2, f0_bins=8))
    tokens, f0 = random_tokens(23).deduplicated(), np.linspace(90, 260, 23)
    offline = vocoder(tokens, speaker=1, f0=f0)
    pieces = list(vocoder.stream(tokens, chunk_frames=chunk, speaker=1, f0=f0))
    assert len(pieces) == -(-23 // chunk)
    np.testing.assert_allclose(np.clip(np.concatenate(pieces), -1, 1), offline, atol=1e-5)


@pytest.mark.parametrize("kind", ["unit-istft", "unit-hifigan"])
@pytest.mark.parametrize("chunk", [1, 2, 7])
def test_voc_lookahead_hears_coming_units_and_streams_like_offline(kind: str, chunk: int) -> None:
    """3 frames of look-ahead: a frame's audio changes with the unit 3 frames later, not 4; the stream runs 3 frames
    late (a chunk of 2 frames first gives nothing) and the flush brings it to the offline waveform."""
    torch.manual_seed(0)
    config = replace(tiny_config(kind, num_speakers=2, f0_bins=8), lookahead_frames=3)
    vocoder = UnitVocoder(config)
    tokens, f0 = random_tokens(23), np.linspace(90, 260, 23)
    offline = vocoder(tokens, speaker=1, f0=f0)
    assert offline.shape == (23 * 320,)
    for later, heard in ((3, True), (4, False)):
        changed = tokens.ids.copy()
        changed[0, 10 + later] = (changed[0, 10 + later] + 1) % VOCAB
        other = vocoder(Tokens(changed, tokens.frame_rate), speaker=1, f0=f0)
        assert heard != np.allclose(other[10 * 320 : 11 * 320], offline[10 * 320 : 11 * 320], atol=1e-6)
    pieces = list(vocoder.stream(tokens, chunk_frames=chunk, speaker=1, f0=f0))
    assert sum(map(len, pieces[:-1])) == (23 - 3) * 320 and len(pieces[-1]) == 3 * 320  # late by 3 frames, then flushed
    np.testing.assert_allclose(np.clip(np.concatenate(pieces), -1, 1), offline, atol=1e-5)
    with pytest.raises(ConfigError, match="direct kinds"):
        replace(tiny_config("unit-mel"), lookahead_frames=2).validate()


@pytest.mark.slow
def test_voc_unit_mel_hifigan_streams_with_bounded_lookahead() -> None:
    """Non-causal unit→mel + HiFi-GAN: chunk joins match offline within 1e-4 (look-ahead 16 mel frames ≈ 0.19 s per stage)."""
    torch.manual_seed(0)
    vocoder = UnitVocoder(replace(tiny_config("unit-mel", f0_bins=8), mel_vocoder="hifigan-universal"))
    tokens, f0 = random_tokens(36), np.linspace(90, 260, 36)
    offline = vocoder(tokens, f0=f0)
    pieces = list(vocoder.stream(tokens, chunk_frames=10, f0=f0, lookahead=16))
    assert len(pieces) >= 2
    streamed = np.clip(np.concatenate(pieces), -1, 1)
    assert streamed.shape == offline.shape
    np.testing.assert_allclose(streamed, offline, atol=1e-4)


def test_voc_non_causal_kinds_refuse_to_stream() -> None:
    vocoder = UnitVocoder(tiny_config("unit-mel"))
    with pytest.raises(SpokenLMError, match="cannot stream"):
        next(vocoder.stream(random_tokens()))


def test_voc_bad_inputs_raise_one_line_errors() -> None:
    vocoder = UnitVocoder(tiny_config("unit-istft", num_speakers=2))
    with pytest.raises(SpokenLMError, match="tokens are at 25.0 Hz"):
        vocoder(Tokens(np.zeros((1, 5)), 25.0))
    with pytest.raises(SpokenLMError, match=r"token ids must be in \[0, 12\)"):
        vocoder(Tokens(np.full((1, 5), VOCAB), 50.0))
    with pytest.raises(SpokenLMError, match="empty token sequence"):
        vocoder(Tokens(np.zeros((1, 0)), 50.0))
    with pytest.raises(SpokenLMError, match="2 streams"):
        vocoder(Tokens(np.zeros((2, 5)), 50.0))
    with pytest.raises(SpokenLMError, match="unknown speaker 'bob'"):
        vocoder(random_tokens(), speaker="bob")
    with pytest.raises(SpokenLMError, match="outside the table"):
        vocoder(random_tokens(), speaker=5)
    with pytest.raises(SpokenLMError, match="not trained with d-vectors"):
        vocoder(random_tokens(), speaker=np.zeros(256, np.float32))


def test_voc_config_validation() -> None:
    with pytest.raises(ConfigError, match="generator hop 640"):
        VocoderModelConfig(kind="unit-istft", istft=ISTFTConfig(hop_length=640)).validate()
    with pytest.raises(ConfigError, match="kind 'wavenet'"):
        VocoderModelConfig(kind="wavenet").validate()
    with pytest.raises(ConfigError, match="22050 Hz"):
        VocoderModelConfig(kind="unit-mel", sample_rate=16000).validate()


def test_voc_load_vocoder_errors(tmp_path: Path) -> None:
    with pytest.raises(SpokenLMError, match="not a vocoder folder"):
        load_vocoder(tmp_path)
    (tmp_path / "config.json").write_text('{"type": "units"}')
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(SpokenLMError, match="not a spokenlm vocoder"):
        load_vocoder(tmp_path)
