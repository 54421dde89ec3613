"""Generators: the pretrained HiFi-GAN in our code, Griffin-Lim, and streaming == offline for causal designs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from spokenlm.audio.io import load_audio
from spokenlm.nn.streaming import StreamingModule
from spokenlm.vocoders.griffinlim import GriffinLim
from spokenlm.vocoders.hifigan import HiFiGANConfig, HiFiGANGenerator, fold_weight_norm, load_universal_hifigan
from spokenlm.vocoders.istft import ISTFTConfig, ISTFTGenerator
from spokenlm.audio.mel import HIFIGAN_MEL, vocoder_log_mel


def _copy_synthesis_error(wav: np.ndarray, vocode) -> float:  # noqa: ANN001 - a log-mel → waveform callable
    """Mean |log-mel difference| between a clip and its copy synthesis."""
    mel = vocoder_log_mel(wav)
    with torch.inference_mode():
        out = vocode(mel[None])[0].flatten()
    assert out.shape[-1] == mel.shape[-1] * HIFIGAN_MEL.hop_length
    return float((vocoder_log_mel(out)[:, : mel.shape[1]] - mel).abs().mean())


@pytest.mark.filterwarnings("ignore:.*weight_norm.*:FutureWarning")
def test_voc_fold_weight_norm_matches_torch() -> None:
    torch.manual_seed(0)
    for layer in (nn.Conv1d(4, 6, 3), nn.ConvTranspose1d(6, 4, 8, 4)):
        normed = torch.nn.utils.weight_norm(layer)
        state = {k: v.detach().clone() for k, v in normed.state_dict().items()}
        folded = fold_weight_norm(state)
        assert set(folded) == {"weight", "bias"}
        torch.testing.assert_close(folded["weight"], normed.weight.detach())


@pytest.mark.slow
def test_voc_universal_hifigan_copy_synthesis(ljspeech_clips: list[Path]) -> None:
    """The package's universal weights in our generator reproduce a real clip's mel closely."""
    wav, _ = load_audio(ljspeech_clips[1], HIFIGAN_MEL.sample_rate)
    generator = load_universal_hifigan()
    error = _copy_synthesis_error(wav, lambda mel: generator(mel))
    random_error = _copy_synthesis_error(wav, lambda mel: torch.zeros(1, mel.shape[-1] * 256) + 1e-3 * torch.randn(1, mel.shape[-1] * 256))
    assert error < 0.6, error
    assert error < random_error / 3


def test_voc_griffin_lim_copy_synthesis(ljspeech_clips: list[Path]) -> None:
    wav, _ = load_audio(ljspeech_clips[1], HIFIGAN_MEL.sample_rate)
    assert _copy_synthesis_error(wav, GriffinLim(n_iter=16)) < 0.8


class _Root(StreamingModule):
    """Wraps a generator so ``streaming()`` covers it (the generators here are StreamingModules themselves)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)


CAUSAL_GENERATORS = {
    "istft": lambda: ISTFTGenerator(ISTFTConfig(in_channels=8, dim=16, intermediate_dim=32, num_layers=2, hop_length=160, n_fft=640)),
    "hifigan": lambda: HiFiGANGenerator(
        HiFiGANConfig(in_channels=8, upsample_rates=[5, 4, 4, 2], upsample_kernel_sizes=[10, 8, 8, 4], upsample_initial_channel=32,
                      resblock_kernel_sizes=[3, 5], resblock_dilation_sizes=[[1, 3], [1, 3]], causal=True)
    ),
}


@pytest.mark.parametrize("name", sorted(CAUSAL_GENERATORS))
@pytest.mark.parametrize("chunk", [2, 5])
def test_voc_causal_generator_streams_like_offline(name: str, chunk: int) -> None:
    torch.manual_seed(0)
    generator = CAUSAL_GENERATORS[name]().eval()
    x = torch.randn(2, 8, 17)
    with torch.inference_mode():
        offline = generator(x)
        with generator.streaming(batch_size=2):
            pieces = [generator(x[..., s : s + chunk]) for s in range(0, x.shape[-1], chunk)]
    streamed = torch.cat(pieces, dim=-1)
    assert streamed.shape == offline.shape == (2, 1, 17 * 160)
    torch.testing.assert_close(streamed, offline, atol=1e-5, rtol=1e-5)


def test_voc_causal_generator_output_ignores_future() -> None:
    """Changing frames after t leaves the samples of frames ≤ t unchanged (no look-ahead)."""
    torch.manual_seed(0)
    generator = CAUSAL_GENERATORS["istft"]().eval()
    x = torch.randn(1, 8, 20)
    y = x.clone()
    y[..., 12:] = torch.randn(1, 8, 8)
    with torch.inference_mode():
        torch.testing.assert_close(generator(x)[..., : 12 * 160], generator(y)[..., : 12 * 160])
