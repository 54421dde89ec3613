"""The vocoder-kind and mel-vocoder registries: every kind builds, validates and says whether it streams; unknown names list the known ones."""

import pytest
import torch

from spokenlm.errors import ConfigError, SpokenLMError
from spokenlm.vocoders.kinds import VOCODER_KINDS
from spokenlm.vocoders.mel_vocoders import MEL_VOCODERS, build_mel_vocoder
from spokenlm.vocoders.model import VocoderModelConfig, VocoderNet


@pytest.mark.parametrize("kind", VOCODER_KINDS.names())
def test_every_kind_builds_a_net_that_synthesizes(kind: str) -> None:
    config = VocoderModelConfig(kind=kind, sample_rate=22050 if VOCODER_KINDS.get(kind).outputs_mel else 16000)
    config.conditioning.vocab_size, config.conditioning.dim = 8, 16
    config.kind_spec.fit_to_rate(config)
    if kind == "unit-hifigan":
        config.hifigan.upsample_rates, config.hifigan.upsample_kernel_sizes, config.hifigan.upsample_initial_channel = [5, 4, 4, 4], [10, 8, 8, 8], 16
        config.hifigan.causal = True  # as recipes/vocoder-unit-hifigan-tiny.yaml
    net = VocoderNet(config.validate()).eval()
    ids = torch.randint(0, 8, (1, 1, 10))
    out = net.acoustic(ids)
    assert out.shape == ((1, 80, 10) if config.kind_spec.outputs_mel else (1, 1, 10 * config.hop_length))
    assert config.streamable == (not config.kind_spec.outputs_mel)  # causal direct generators stream; unit→mel is non-causal


def test_unknown_kind_and_mel_vocoder_name_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"model.kind 'unit-wavenet' is not one of \['unit-hifigan', 'unit-istft', 'unit-mel'\]"):
        VocoderModelConfig(kind="unit-wavenet").validate()
    with pytest.raises(ConfigError, match="model.mel_vocoder 'waveglow' is not one of"):
        VocoderModelConfig(kind="unit-mel", sample_rate=22050, mel_vocoder="waveglow").validate()
    with pytest.raises(SpokenLMError, match="unknown mel vocoder 'waveglow'; known: griffin-lim, hifigan-universal"):
        build_mel_vocoder("waveglow")
    assert MEL_VOCODERS.get("hifigan-universal").lookahead_streamable and not MEL_VOCODERS.get("griffin-lim").lookahead_streamable


def test_griffin_lim_by_name_voices_a_mel() -> None:
    wav = build_mel_vocoder("griffin-lim")(torch.full((1, 80, 20), -2.0))
    assert wav.shape == (1, 20 * 256) and bool(torch.isfinite(wav).all())
