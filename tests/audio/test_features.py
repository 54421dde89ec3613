"""Mel and MFCC features match librosa with the same explicit parameters."""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
import pytest
import torch

from spokenlm.audio.features import MelConfig, SpecAugmentConfig, log_mel, mel_spectrogram, mfcc, spec_augment
from spokenlm.audio.io import load_audio

CONFIGS = [
    MelConfig(),
    MelConfig(sample_rate=22050, n_fft=1024, hop_length=256, n_mels=80, fmin=0.0, fmax=8000.0),
    MelConfig(sample_rate=16000, n_fft=512, win_length=400, hop_length=320, n_mels=40, fmin=20.0, fmax=7600.0, power=1.0),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_mel_matches_librosa(ljspeech_clips: list[Path], config: MelConfig) -> None:
    wav, _ = load_audio(ljspeech_clips[3], sr=config.sample_rate)
    ours = mel_spectrogram(wav, config).numpy()
    ref = librosa.feature.melspectrogram(
        y=wav, sr=config.sample_rate, n_fft=config.n_fft, win_length=config.win_length, hop_length=config.hop_length,
        n_mels=config.n_mels, fmin=config.fmin, fmax=config.fmax, power=config.power, center=True, pad_mode="constant",
    )
    assert ours.shape == ref.shape == (config.n_mels, 1 + len(wav) // config.hop_length)
    np.testing.assert_allclose(ours, ref, atol=1e-5 * ref.max(), rtol=1e-3)


def test_mfcc_matches_librosa(fsdd_clips: list[Path]) -> None:
    config = MelConfig(sample_rate=16000, n_fft=400, hop_length=160, n_mels=40)
    wav, _ = load_audio(fsdd_clips[10], sr=16000)
    ours = mfcc(wav, config, n_mfcc=20).numpy()
    ref = librosa.feature.mfcc(y=wav, sr=16000, n_mfcc=20, n_fft=400, hop_length=160, n_mels=40, pad_mode="constant")
    np.testing.assert_allclose(ours, ref, atol=2e-3 * np.abs(ref).max())


def test_batched_equals_single(ljspeech_clips: list[Path]) -> None:
    config = MelConfig()
    a, _ = load_audio(ljspeech_clips[0], sr=16000, duration=1.0)
    b, _ = load_audio(ljspeech_clips[1], sr=16000, duration=1.0)
    batch = log_mel(torch.from_numpy(np.stack([a, b])), config)
    assert batch.shape == (2, 80, 101)
    torch.testing.assert_close(batch[1], log_mel(b, config))
    assert config.frame_rate == 100.0


def test_spec_augment_zeroes_whole_bands_and_spans_within_their_widths() -> None:
    frames = torch.randn(80, 200) + 5.0  # no zeros before masking
    config = SpecAugmentConfig(freq_masks=1, freq_width=12, time_masks=1, time_width=10)
    before = frames.clone()
    masked = spec_augment(frames, config, torch.Generator().manual_seed(3))
    assert torch.equal(frames, before)  # the input is untouched
    zero = masked == 0
    bands, spans = zero.all(dim=1), zero.all(dim=0)
    assert 0 < int(bands.sum()) <= 12 and 0 < int(spans.sum()) <= 10
    assert bool((zero == (bands[:, None] | spans[None, :])).all())  # nothing but those bands and spans is zero
    assert torch.equal(masked[~zero], frames[~zero])
    assert torch.equal(spec_augment(frames, SpecAugmentConfig(), torch.Generator()), frames)  # no masks: a copy
    again = spec_augment(frames, config, torch.Generator().manual_seed(3))
    assert torch.equal(again, masked)
