"""Mel tokenizers (dMel bins, residual mel k-means): hand-worked quantizers, real-speech round trips, resynthesis without a vocoder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from spokenlm.audio.io import load_audio
from spokenlm.cli.main import app
from spokenlm.errors import SpokenLMError
from spokenlm.tokenizers.base import load_tokenizer
from spokenlm.tokenizers.mel import MelTokenizer, mel_frames
from spokenlm.tokenizers.mel_quantizers import ChannelBinQuantizer, ResidualKMeansQuantizer
from spokenlm.tokenizers.mel_train import MelTokenizerRecipe, fit_mel_tokenizer
from spokenlm.tokens import Tokens

SR = 22050


@pytest.fixture(scope="module")
def lj_wavs(ljspeech_clips: list[Path]) -> list[np.ndarray]:
    return [load_audio(p, SR)[0] for p in ljspeech_clips[:8]]


def test_tok_mel_bins_hand_worked() -> None:
    q = ChannelBinQuantizer(torch.tensor([0.0, -2.0]), torch.tensor([4.0, 2.0]), bins=4)  # steps 1.0 in both channels
    frames = torch.tensor([[2.3, -2.0], [-1.0, 1.99], [10.0, 0.5]])  # [T=3, C=2]
    ids = q.quantize(frames)
    assert ids.tolist() == [[2, 0, 3], [0, 3, 2]]  # [C, T]; out-of-range values go to the end bins
    assert q.dequantize(ids).tolist() == [[2.5, -1.5], [0.5, 1.5], [3.5, 0.5]]


def test_tok_mel_residual_kmeans_hand_worked() -> None:
    q = ResidualKMeansQuantizer(torch.tensor([[[0.0], [10.0]], [[-1.0], [1.0]]]))  # K=2 codebooks, V=2, C=1
    ids = q.quantize(torch.tensor([[9.2], [0.7]]))
    assert ids.tolist() == [[1, 0], [0, 1]]  # 9.2 → 10 then residual -0.8 → -1; 0.7 → 0 then 0.7 → 1
    assert q.dequantize(ids).flatten().tolist() == [9.0, 1.0]
    assert q.dequantize(ids[:1]).flatten().tolist() == [10.0, 0.0]
    with pytest.raises(SpokenLMError, match="1..2 codebooks"):
        q.dequantize(torch.zeros(3, 2, dtype=torch.long))


def test_tok_mel_bins_error_bounded_on_real_speech(lj_wavs: list[np.ndarray]) -> None:
    tokenizer = fit_mel_tokenizer(MelTokenizerRecipe(quantizer="bins", bins=16, name="dmel16"), lj_wavs[:6])
    frames = mel_frames(lj_wavs[7])
    tokens = tokenizer.encode(lj_wavs[7], SR)[0]
    assert tokens.ids.shape == (80, frames.shape[0]) and tokens.ids.max() < 16 and tokenizer.bitrate == pytest.approx(80 * 4 * SR / 256)
    q = tokenizer.quantizer
    inside = (frames >= q.low) & (frames < q.high)
    error = (tokenizer.decode_mel(tokens).T - frames).abs()
    assert inside.float().mean() > 0.95
    assert bool((error[inside] <= (q.step.expand_as(frames)[inside] / 2 + 1e-5)).all())


def test_tok_mel_rvq_more_codebooks_less_error(lj_wavs: list[np.ndarray], tmp_path: Path) -> None:
    tokenizer = fit_mel_tokenizer(MelTokenizerRecipe(quantizer="rvq", codebooks=3, codebook_size=64, name="rvq"), lj_wavs[:6])
    frames = mel_frames(lj_wavs[7])
    errors = []
    for k in (1, 2, 3):
        coder = tokenizer.with_num_codebooks(k)
        tokens = coder.encode(lj_wavs[7], SR)[0]
        assert tokens.ids.shape == (k, frames.shape[0]) and coder.bitrate == pytest.approx(k * 6 * SR / 256)
        errors.append(float((coder.decode_mel(tokens).T - frames).abs().mean()))
    assert errors[0] > errors[1] > errors[2]
    with pytest.raises(SpokenLMError, match=r"ids must lie in 0..63"):
        tokenizer.decode_mel(Tokens(np.array([[3, 64]]), tokenizer.frame_rate))
    deduplicated = tokenizer.encode(lj_wavs[7], SR)[0].deduplicated()
    assert torch.equal(tokenizer.decode_mel(deduplicated), tokenizer.decode_mel(tokenizer.encode(lj_wavs[7], SR)[0]))


def test_tok_mel_trainer_saved_loaded_by_another_process(tmp_path: Path, ljspeech_clips: list[Path]) -> None:
    broken = tmp_path / "broken.flac"
    broken.write_bytes(b"not audio")
    out = tmp_path / "tok"
    result = CliRunner().invoke(app, ["train-tokenizer", "-c", "recipes/tokenizer-mel-rvq.yaml", "-o", str(out),
                                      f"data.audio=[{ljspeech_clips[0]}, {ljspeech_clips[1]}, {broken}]", "codebooks=2", "codebook_size=32"])
    assert result.exit_code == 0, result.output
    assert "broken.flac" in result.output.replace("\n", "")
    config = json.loads((out / "config.json").read_text())
    assert config["type"] == "mel" and config["quantizer"] == "rvq" and config["num_streams"] == 2
    tokenizer = load_tokenizer(out)
    wav = load_audio(ljspeech_clips[5], SR)[0]
    here = tokenizer.encode(wav, SR)[0].ids
    script = (f"import numpy as np; from spokenlm.tokenizers.base import load_tokenizer; from spokenlm.audio.io import load_audio;"
              f"t = load_tokenizer({str(out)!r}); np.save({str(tmp_path / 'ids.npy')!r}, t.encode(load_audio({str(ljspeech_clips[5])!r}, {SR})[0], {SR})[0].ids)")
    subprocess.run([sys.executable, "-c", script], check=True)
    assert np.array_equal(here, np.load(tmp_path / "ids.npy"))


def test_tok_mel_decodes_real_speech_and_resynth_needs_no_vocoder(tmp_path: Path, ljspeech_clips: list[Path], lj_wavs: list[np.ndarray]) -> None:
    tokenizer = fit_mel_tokenizer(MelTokenizerRecipe(quantizer="bins", bins=16, name="dmel16"), lj_wavs[:6])
    assert tokenizer.mel_vocoder_name == "hifigan-universal"
    tokens = tokenizer.encode(lj_wavs[7], SR)[0]
    wav = tokenizer.with_mel_vocoder("griffin-lim").decode(tokens)
    assert wav.shape == (len(tokens) * 256,) and np.isfinite(wav).all() and 0.01 < np.abs(wav).max() < 2.0
    tokenizer.save_pretrained(tmp_path / "dmel")
    assert isinstance(load_tokenizer(tmp_path / "dmel"), MelTokenizer) and load_tokenizer(tmp_path / "dmel").has_decoder

    runner = CliRunner()
    audio = f"data.audio=[{ljspeech_clips[30]}, {ljspeech_clips[31]}]"
    result = runner.invoke(app, ["eval", "resynth", str(tmp_path / "ev"), f"tokenizer={tmp_path / 'dmel'}", audio,
                                 f"references={ljspeech_clips[0].parent / 'metadata.csv'}", "mel_vocoder=griffin-lim", "dnsmos=false", "f0=false", "speaker_similarity=false"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "ev" / "summary.json").read_text())
    assert summary["utterances"] == 2 and summary["wer_resynth"] <= 0.5  # Griffin-Lim on 16-bin dMel stays intelligible
    assert sorted(p.name for p in (tmp_path / "ev" / "audio").iterdir()) == [f"{c.stem}.wav" for c in ljspeech_clips[30:]]

    result = runner.invoke(app, ["resynth", str(tmp_path / "re"), f"tokenizer={tmp_path / 'dmel'}", audio, "codebooks=2"])
    assert result.exit_code != 0 and "num_codebooks=2 needs a residual k-means quantizer" in result.output.replace("\n", " ")


def test_tok_mel_resynth_refuses_tokenizer_without_decoder(tmp_path: Path, ljspeech_clips: list[Path]) -> None:
    units = tmp_path / "units"
    result = CliRunner().invoke(app, ["train-tokenizer", "-c", "recipes/tokenizer-mfcc-km.yaml", "-o", str(units),
                                      f"data.audio=[{ljspeech_clips[0]}]", "kmeans.k=8"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["resynth", str(tmp_path / "re"), f"tokenizer={units}", f"data.audio=[{ljspeech_clips[1]}]"])
    assert result.exit_code != 0 and "has no decoder: set vocoder=<folder>" in result.output.replace("\n", " ")


def test_tok_encode_rejects_empty_and_non_finite_waveforms(lj_wavs: list[np.ndarray]) -> None:
    tokenizer = fit_mel_tokenizer(MelTokenizerRecipe(quantizer="bins", bins=4, name="dmel4"), lj_wavs[:1])
    with pytest.raises(SpokenLMError, match="dmel4: waveform 0 of the batch is empty"):
        tokenizer.encode(np.zeros(0, np.float32), SR)
    broken = lj_wavs[1].copy()
    broken[100] = np.nan
    with pytest.raises(SpokenLMError, match="waveform 1 of the batch has NaN or infinite samples"):
        tokenizer.encode([lj_wavs[0], broken], SR)
