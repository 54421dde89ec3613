"""Audio loading, saving and validation on real speech, one test per bad-input case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from spokenlm.audio.io import audio_info, load_audio, save_audio
from spokenlm.audio.validate import ValidationConfig, load_valid_audio, validate_waveform
from spokenlm.errors import AudioError


def _error(path: Path, **kwargs) -> AudioError:
    with pytest.raises(AudioError) as info:
        load_valid_audio(path, **kwargs)
    return info.value


def test_load_resamples_real_flac_to_requested_rate(ljspeech_clips: list[Path]) -> None:
    clip = ljspeech_clips[0]
    native, native_sr = load_audio(clip, sr=None)
    wav, sr = load_audio(clip, sr=16000)
    assert native_sr == 22050 and sr == 16000
    assert wav.dtype == np.float32 and wav.ndim == 1
    assert abs(len(wav) / 16000 - len(native) / 22050) < 1e-3
    # Resampling keeps the speech energy.
    assert abs(np.sqrt(np.mean(wav**2)) / np.sqrt(np.mean(native**2)) - 1) < 0.05


def test_stereo_44k_is_mixed_to_mono(data_dir: Path) -> None:
    sr, frames, channels = audio_info(data_dir / "jfk.flac")
    assert (sr, channels) == (44100, 2)
    wav, _ = load_audio(data_dir / "jfk.flac", sr=16000)
    assert wav.ndim == 1 and abs(len(wav) - frames * 16000 / 44100) <= 2


def test_8k_fsdd_upsampled(fsdd_clips: list[Path]) -> None:
    wav, sr = load_audio(fsdd_clips[0], sr=16000)
    assert sr == 16000 and len(wav) > 1000


@pytest.mark.parametrize("suffix", [".flac", ".wav"])
def test_save_load_round_trip(tmp_path: Path, ljspeech_clips: list[Path], suffix: str) -> None:
    wav, _ = load_audio(ljspeech_clips[1], sr=16000)
    path = save_audio(tmp_path / f"x{suffix}", wav, 16000)
    back, sr = load_audio(path, sr=None)
    assert sr == 16000 and len(back) == len(wav)
    assert np.max(np.abs(back - wav)) < 1e-3  # 16-bit PCM quantisation


def test_load_segment_by_seconds(ljspeech_clips: list[Path]) -> None:
    full, _ = load_audio(ljspeech_clips[2], sr=None)
    part, _ = load_audio(ljspeech_clips[2], sr=None, start=0.5, duration=0.25)
    start = int(round(0.5 * 22050))
    np.testing.assert_array_equal(part, full[start : start + len(part)])


def test_missing_file(tmp_path: Path) -> None:
    err = _error(tmp_path / "nope.wav")
    assert err.reason == "missing" and "nope.wav" in str(err)


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.flac"
    path.write_bytes(b"fLaC" + bytes(range(256)) * 4)
    err = _error(path)
    assert err.reason == "unreadable" and "corrupt.flac" in str(err)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), 16000)
    err = _error(path)
    assert err.reason == "empty" and "empty.wav" in str(err)


def test_too_short(tmp_path: Path, ljspeech_clips: list[Path]) -> None:
    wav, _ = load_audio(ljspeech_clips[0], sr=16000)
    path = save_audio(tmp_path / "short.wav", wav[8000:8800], 16000)
    err = _error(path, config=ValidationConfig(min_duration=0.1))
    assert err.reason == "too-short" and "short.wav" in str(err) and "0.050 s" in str(err)


def test_all_silent(tmp_path: Path) -> None:
    path = save_audio(tmp_path / "silent.flac", np.zeros(16000, dtype=np.float32), 16000)
    err = _error(path)
    assert err.reason == "silent" and "silent.flac" in str(err)


def test_nan_and_inf(tmp_path: Path, ljspeech_clips: list[Path]) -> None:
    wav, _ = load_audio(ljspeech_clips[0], sr=16000)
    wav = wav.copy()
    wav[100] = np.nan
    wav[200] = np.inf
    path = tmp_path / "nan.wav"
    sf.write(path, wav, 16000, subtype="FLOAT")
    err = _error(path)
    assert err.reason == "non-finite" and "nan.wav" in str(err) and "2 NaN/inf" in str(err)


def test_heavily_clipped(tmp_path: Path, ljspeech_clips: list[Path]) -> None:
    wav, _ = load_audio(ljspeech_clips[0], sr=16000)
    loud = np.clip(wav * 50, -1, 1)
    path = save_audio(tmp_path / "clipped.wav", loud, 16000)
    err = _error(path)
    assert err.reason == "clipped" and "clipped.wav" in str(err)


def test_real_speech_passes_validation(ljspeech_clips: list[Path], fsdd_clips: list[Path]) -> None:
    for clip in ljspeech_clips[:5] + fsdd_clips[:20]:
        assert load_valid_audio(clip).size > 0


def test_validate_waveform_names_in_memory_source() -> None:
    with pytest.raises(AudioError, match="utt-7: silent"):
        validate_waveform(np.zeros(16000, dtype=np.float32), 16000, "utt-7")
