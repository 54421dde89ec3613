"""ASR, speaker similarity, DNSMOS and F0 metrics on real speech."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spokenlm.audio.io import load_audio
from spokenlm.errors import SpokenLMError
from spokenlm.eval.asr import load_asr
from spokenlm.eval.dnsmos import dnsmos
from spokenlm.audio.f0 import extract_f0
from spokenlm.eval.prosody import f0_correlation
from spokenlm.eval.speaker import speaker_similarity
from spokenlm.eval.textnorm import normalize
from spokenlm.eval.wer import error_rates

JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."


@pytest.mark.slow
def test_voc_whisper_transcribes_jfk(data_dir: Path) -> None:
    wav, sr = load_audio(data_dir / "jfk.flac", 44100)  # 44.1 kHz stereo → mono; resampled inside
    text = load_asr("whisper").transcribe(wav, sr)
    assert error_rates([JFK], [text])["wer"] <= 0.05, text


@pytest.mark.slow
def test_voc_pocketsphinx_fallback_returns_text(data_dir: Path) -> None:
    wav, sr = load_audio(data_dir / "librivox" / "sense_and_sensibility_01_austen_64kb-0870.wav", 16000)
    reference = (data_dir / "librivox" / "sense_and_sensibility_01_austen_64kb-0870.txt").read_text()
    text = load_asr("pocketsphinx").transcribe(wav[: int(2.5 * sr)], sr)
    assert isinstance(text, str)
    assert set(normalize(text).split()) & set(normalize(reference).split()[:10])  # recognises some of the first words


def test_voc_unknown_asr_backend() -> None:
    with pytest.raises(SpokenLMError, match="unknown ASR backend 'kaldi'"):
        load_asr("kaldi")


def test_voc_speaker_similarity_orders_speakers(ljspeech_clips: list[Path], data_dir: Path) -> None:
    a, sr = load_audio(ljspeech_clips[1], 16000)
    b, _ = load_audio(ljspeech_clips[3], 16000, duration=3.0)
    other, _ = load_audio(data_dir / "jfk.flac", 16000, duration=3.0)
    same, different = speaker_similarity(a, b, sr), speaker_similarity(a, other, sr)
    assert -1.0 <= different < same <= 1.0
    assert speaker_similarity(a, a, sr) == pytest.approx(1.0, abs=1e-5)


def test_voc_batched_speaker_embeddings_equal_resemblyzer_one_by_one(ljspeech_clips: list[Path], fsdd_clips: list[Path]) -> None:
    from resemblyzer import VoiceEncoder, preprocess_wav

    from spokenlm.audio.speaker import speaker_embeddings

    wavs = [load_audio(p, 16000)[0] for p in [*ljspeech_clips[:2], *fsdd_clips[:3]]]  # 1.6 s partials: long and short clips
    batched = speaker_embeddings(wavs, 16000)
    encoder = VoiceEncoder("cpu", verbose=False)
    reference = np.stack([encoder.embed_utterance(preprocess_wav(w)) for w in wavs])
    assert batched.shape == (5, 256)
    np.testing.assert_allclose(batched, reference, atol=1e-4)
    assert speaker_embeddings([], 16000).shape == (0, 256)


def test_voc_dnsmos_prefers_clean_speech(ljspeech_clips: list[Path]) -> None:
    clean, sr = load_audio(ljspeech_clips[2], 16000)
    noisy = np.clip(clean + 0.1 * np.random.default_rng(0).standard_normal(len(clean)).astype(np.float32), -1, 1)
    clean_scores, noisy_scores = dnsmos(clean, sr), dnsmos(noisy, sr)
    assert set(clean_scores) == {"ovrl", "sig", "bak", "p808"}
    assert all(1.0 <= v <= 5.0 for v in clean_scores.values())
    assert clean_scores["ovrl"] > noisy_scores["ovrl"] + 0.5


def test_voc_f0_of_a_tone() -> None:
    sr = 16000
    t = np.arange(sr) / sr
    tone = (0.5 * np.sin(2 * np.pi * 200.0 * t)).astype(np.float32)
    silence = np.zeros(sr // 2, np.float32)
    f0 = extract_f0(np.concatenate([tone, silence]), sr, frame_rate=100.0)
    assert len(f0) == 1 + (len(tone) + len(silence)) // 160
    assert np.median(f0[10:90]) == pytest.approx(200.0, rel=0.02)
    assert np.all(f0[-20:] == 0.0)  # unvoiced silence


def test_voc_f0_correlation_hand_worked() -> None:
    ref = np.array([0, 100, 200, 400, 0, 0], dtype=np.float32)
    hyp = np.array([0, 200, 400, 800, 300, 0], dtype=np.float32)  # an octave up: log-F0 perfectly correlated
    out = f0_correlation(ref, hyp)
    assert out["pearson"] == pytest.approx(1.0)
    assert out["voiced_frames"] == 3
    assert out["voicing_agreement"] == pytest.approx(5 / 6)
    assert np.isnan(f0_correlation(ref[:2], hyp[:2])["pearson"])  # fewer than 3 voiced frames
