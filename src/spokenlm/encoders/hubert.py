"""Our own HuBERT-style encoder (:mod:`spokenlm.encoders.hubert_model`) read at a chosen layer."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spokenlm.checkpoint import load_state, save_module
from spokenlm.config import from_dict
from spokenlm.errors import ConfigError
from spokenlm.encoders.base import ENCODERS, HopEncoder, check_waveform, pad_to_receptive_field, receptive_field
from spokenlm.encoders.hubert_model import HubertConfig, HubertModel


@ENCODERS.register("hubert")
class HubertEncoder(HopEncoder):
    """Hidden state ``layer`` (0 = transformer input, ``l`` = block ``l``) of a :class:`HubertModel`: ``[T, dim]`` at 50 Hz by default."""

    type_name = "hubert"
    config_class = HubertConfig
    config: HubertConfig

    def __init__(self, config: HubertConfig, model: HubertModel | None = None) -> None:
        if not 0 <= config.layer <= config.layers:
            raise ConfigError(f"hubert layer {config.layer} is outside 0..{config.layers}")
        super().__init__(config)
        self.model = (model or HubertModel(config)).eval()

    @property
    def dim(self) -> int:
        return self.config.dim

    @torch.no_grad()
    def extract(self, wav: np.ndarray) -> torch.Tensor:
        wav = check_waveform(wav)
        c = self.config
        wav = pad_to_receptive_field(wav, c.mel_window if c.frontend == "mel" else receptive_field(c.conv_kernels, c.conv_strides))
        states = self.model.hidden_states(torch.from_numpy(wav)[None].to(self.device), upto=self.config.layer)
        return states[self.config.layer][0].cpu().contiguous()

    def save_pretrained(self, directory: str | Path) -> Path:
        return save_module(directory, self.model, self.config_dict())

    @classmethod
    def from_spec(cls, spec: dict[str, Any], directory: Path | None = None) -> HubertEncoder:
        config = from_dict(HubertConfig, spec)
        if directory is None:
            return cls(config)
        saved, state = load_state(directory)
        saved.pop("type", None)
        model = HubertModel(from_dict(HubertConfig, saved))
        model.load_state_dict(state)
        return cls(config, model)

    @classmethod
    def from_model(cls, model: HubertModel, layer: int) -> HubertEncoder:
        """Wrap a trained model, reading features from ``layer``."""
        return cls(dataclasses.replace(model.config, layer=layer), model)
