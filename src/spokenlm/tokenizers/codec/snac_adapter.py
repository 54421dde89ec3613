"""Adapter to SNAC (multi-scale neural audio codec, ``pip install snac``) as a SpeechTokenizer ("snac").

SNAC quantizes at several rates (``vq_strides``, coarse to fine). Tokens put each
level on the finest frame grid, ``ids [K, T]`` at ``sample_rate / hop_length`` Hz,
a coarse code repeated over the ``stride`` fine frames it covers; ``decode`` reads
every ``stride``-th frame back. Weights are read only from a local folder (SNAC's
own layout ``config.json`` + ``pytorch_model.bin``, as downloaded once by the user)
or from our ``save_pretrained`` folder (``config.json`` + ``model.safetensors``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spokenlm.checkpoint import load_state, save_module
from spokenlm.errors import MissingDependencyError, SpokenLMError
from spokenlm.tokenizers.base import TOKENIZERS, SpeechTokenizer
from spokenlm.tokens import Tokens


def _snac_class() -> Any:
    try:
        from snac import SNAC
    except ImportError as err:
        raise MissingDependencyError("snac", purpose="the SNAC codec adapter (also needs einops)") from err
    return SNAC


@TOKENIZERS.register("snac")
class SnacTokenizer(SpeechTokenizer):
    """A SNAC model behind the tokenizer contract.

    Args:
        model: a ``snac.SNAC`` module.
        snac_config: the keyword arguments it was built from (saved with it).
        name: stored in every ``Tokens``.
    """

    semantic_codebooks = 0

    def __init__(self, model: Any, snac_config: dict[str, Any], name: str = "snac") -> None:
        self.model = model.eval()
        self.snac_config = dict(snac_config)
        self.name = name
        self.sample_rate = int(model.sampling_rate)
        self.strides = [int(s) for s in model.vq_strides]
        self.frame_rate = self.sample_rate / model.hop_length
        self.vocab_size = int(self.snac_config.get("codebook_size", 4096))
        self.num_streams = len(self.strides)

    @classmethod
    def from_snac_folder(cls, directory: str | Path, name: str = "snac") -> SnacTokenizer:
        """Load SNAC's own layout (``config.json`` + ``pytorch_model.bin``) from a local folder."""
        directory = Path(directory)
        config_path, weights_path = directory / "config.json", directory / "pytorch_model.bin"
        for path in (config_path, weights_path):
            if not path.is_file():
                raise SpokenLMError(f"{path}: missing (not a SNAC model folder)")
        snac_config = json.loads(config_path.read_text())
        model = _snac_class()(**snac_config)
        model.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
        return cls(model, snac_config, name)

    @torch.no_grad()
    def _encode_batch(self, wavs: list[np.ndarray]) -> list[Tokens]:
        out = []
        for wav in wavs:  # SNAC pads each input to its own window multiple
            codes = self.model.encode(torch.from_numpy(wav)[None, None])  # K x [1, T_k]
            fine = codes[-1].shape[-1] * self.strides[-1]
            ids = np.stack([np.repeat(c[0].numpy(), s)[:fine] for c, s in zip(codes, self.strides)])
            out.append(Tokens(ids, self.frame_rate, self.name))
        return out

    @torch.no_grad()
    def decode(self, tokens: Tokens) -> np.ndarray:
        """Waveform ``[samples]`` at :attr:`sample_rate` from ``ids [K, T]`` (T a multiple of the coarsest stride)."""
        ids = tokens.expanded().ids
        if ids.shape[0] != self.num_streams or ids.shape[1] % max(self.strides):
            raise SpokenLMError(f"{self.name}: tokens must be [{self.num_streams}, T] with T a multiple of {max(self.strides)}, got {list(ids.shape)}")
        codes = [torch.from_numpy(np.ascontiguousarray(ids[k, :: s]))[None] for k, s in enumerate(self.strides)]
        return self.model.decode(codes)[0, 0].numpy()

    def save_pretrained(self, directory: str | Path) -> Path:
        return save_module(directory, self.model, {"type": "snac", "name": self.name, "snac": self.snac_config})

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> SnacTokenizer:
        config, state = load_state(directory)
        model = _snac_class()(**config["snac"])
        model.load_state_dict(state)
        return cls(model, config["snac"], config["name"])
