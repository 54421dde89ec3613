"""HF ``transformers`` HuBERT / wav2vec 2.0 / WavLM / data2vec-audio features from a local checkpoint folder."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from spokenlm.errors import ConfigError
from spokenlm.encoders.base import ENCODERS, check_waveform, pad_to_receptive_field, receptive_field
from spokenlm.encoders.hf_models import HFModelEncoder

SSL_MODEL_TYPES = ("hubert", "wav2vec2", "wavlm", "data2vec-audio")


@dataclass
class HFSSLConfig:
    """A self-supervised speech encoder saved with ``save_pretrained``.

    Attributes:
        model_dir: local folder of the model (``config.json`` + weights).
        layer: hidden state index (0 = transformer input, ``l`` = output of block ``l``).
        normalize_input: zero-mean unit-variance waveform normalisation (wav2vec2-large/WavLM preprocessors do it).
    """

    model_dir: str = ""
    layer: int = 6
    normalize_input: bool = False


@ENCODERS.register("hf-ssl")
class HFSSLEncoder(HFModelEncoder):
    """Hidden state ``layer`` ``[T, hidden_size]`` at ``16000 / prod(conv_stride)`` Hz (50 Hz for the published models)."""

    type_name = "hf-ssl"
    config_class = HFSSLConfig
    config: HFSSLConfig

    def check_model(self) -> None:
        kind = self.model.config.model_type
        if kind not in SSL_MODEL_TYPES:
            raise ConfigError(f"{self.config.model_dir}: model_type {kind!r} is not one of {SSL_MODEL_TYPES}")
        if not 0 <= self.config.layer <= self.model.config.num_hidden_layers:
            raise ConfigError(f"layer {self.config.layer} is outside 0..{self.model.config.num_hidden_layers}")

    @property
    def sample_rate(self) -> int:
        return 16000

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / math.prod(self.model.config.conv_stride)

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    @torch.no_grad()
    def extract(self, wav: np.ndarray) -> torch.Tensor:
        wav = check_waveform(wav)
        if self.config.normalize_input:
            wav = (wav - wav.mean()) / np.sqrt(wav.var() + 1e-7)
        config = self.model.config
        wav = pad_to_receptive_field(wav, receptive_field(config.conv_kernel, config.conv_stride))
        output = self.model(torch.from_numpy(wav)[None].to(self.device), output_hidden_states=True)
        return output.hidden_states[self.config.layer][0].float().cpu().contiguous()
