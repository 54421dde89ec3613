"""fairseq / speech-resynthesis / textlesslib unit HiFi-GAN (``config.json`` + generator checkpoint) → our ``unit-hifigan``.

The published vocoders are speech-resynthesis's ``CodeGenerator`` (Polyak et al. 2021): a unit
embedding ``dict`` ``[num_embeddings, embedding_dim]`` followed by the HiFi-GAN V1 generator
(``conv_pre``, ``ups.i``, ``resblocks.j.convs{1,2}.k``, ``conv_post``, all weight-normalised) —
the same network as :class:`~spokenlm.vocoders.model.DirectUnitGenerator` over a one-stream
:class:`~spokenlm.vocoders.conditioning.UnitConditioner`. The checkpoint (``g_00500000`` …,
``{"generator": state_dict}``) is read with ``torch.load(weights_only=True)`` (tensors only),
weight norm is folded, and every tensor must land on a tensor of the same shape.

Speaker (``multispkr``) and F0 (``f0``) conditioned vocoders concatenate their inputs where ours
add them, and ``resblock: "2"`` is another block; those configs are refused with a clear error.
A duration predictor (``dur_predictor.*``, S2ST vocoders) is not mapped: voice deduplicated units
with their durations.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch

from spokenlm.errors import SpokenLMError
from spokenlm.vocoders.conditioning import ConditioningConfig
from spokenlm.vocoders.hifigan import HiFiGANConfig, fold_weight_norm
from spokenlm.vocoders.model import VocoderModelConfig
from spokenlm.vocoders.vocoder import UnitVocoder

UNSUPPORTED = {"multispkr": "speaker-conditioned", "f0": "F0-conditioned", "lambda_commit_code": "VQ-code"}
DROPPED_PREFIXES = ("dur_predictor.",)
GENERATOR_PREFIX = "acoustic.generator."


def _read_config(path: Path) -> dict[str, Any]:
    try:
        config = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise SpokenLMError(f"{path}: not a readable vocoder config.json ({err})") from err
    if not isinstance(config, dict):
        raise SpokenLMError(f"{path}: expected a JSON object")
    return config


def vocoder_config(path: str | Path, tokenizer: str = "") -> VocoderModelConfig:
    """Our :class:`VocoderModelConfig` for a speech-resynthesis ``config.json`` (errors name the file and the key)."""
    path = Path(path)
    h = _read_config(path)
    for key, what in UNSUPPORTED.items():
        if h.get(key):
            raise SpokenLMError(f"{path}: {what} unit HiFi-GANs ({key}) are not supported; only unit-only vocoders map onto ours")
    if str(h.get("resblock", "1")) != "1":
        raise SpokenLMError(f"{path}: resblock {h['resblock']!r} is not supported (only HiFi-GAN ResBlock1, resblock \"1\")")
    try:
        dim = int(h["embedding_dim"])
        if int(h.get("model_in_dim", dim)) != dim:
            raise SpokenLMError(f"{path}: model_in_dim {h['model_in_dim']} != embedding_dim {dim} (extra conditioning is not supported)")
        sample_rate = int(h["sampling_rate"])
        hop = math.prod(int(r) for r in h["upsample_rates"])
        return VocoderModelConfig(
            kind="unit-hifigan",
            sample_rate=sample_rate,
            frame_rate=sample_rate / int(h.get("code_hop_size", hop)),
            tokenizer=tokenizer,
            conditioning=ConditioningConfig(vocab_size=int(h["num_embeddings"]), dim=dim),
            hifigan=HiFiGANConfig(
                in_channels=dim,
                upsample_rates=[int(r) for r in h["upsample_rates"]],
                upsample_kernel_sizes=[int(k) for k in h["upsample_kernel_sizes"]],
                upsample_initial_channel=int(h["upsample_initial_channel"]),
                resblock_kernel_sizes=[int(k) for k in h["resblock_kernel_sizes"]],
                resblock_dilation_sizes=[[int(d) for d in ds] for ds in h["resblock_dilation_sizes"]],
            ),
        ).validate()
    except KeyError as err:
        raise SpokenLMError(f"{path}: missing key {err.args[0]!r}") from err
    except (TypeError, ValueError) as err:
        raise SpokenLMError(f"{path}: malformed value ({err})") from err


def _generator_state(path: Path) -> dict[str, torch.Tensor]:
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)  # tensors and containers only, no code
    except FileNotFoundError as err:
        raise SpokenLMError(f"{path}: generator checkpoint not found") from err
    except Exception as err:  # noqa: BLE001 - torch raises many kinds for a foreign or truncated file
        raise SpokenLMError(f"{path}: not a readable generator checkpoint ({type(err).__name__}: {str(err).splitlines()[0]})") from err
    state = checkpoint.get("generator", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise SpokenLMError(f"{path}: expected {{'generator': state_dict}} of tensors")
    return fold_weight_norm(state)


def map_state(state: dict[str, torch.Tensor], expected: dict[str, torch.Tensor], path: Path) -> dict[str, torch.Tensor]:
    """speech-resynthesis ``CodeGenerator`` keys → our ``VocoderNet`` keys; the first mismatch raises naming the tensor."""
    mapped = {}
    for key, value in state.items():
        if key.startswith(DROPPED_PREFIXES):
            continue
        ours = "acoustic.conditioner.units.0.weight" if key == "dict.weight" else GENERATOR_PREFIX + key
        if ours not in expected:
            raise SpokenLMError(f"{path}: tensor {key!r} has no place in our unit HiFi-GAN (does config.json describe this checkpoint?)")
        if tuple(value.shape) != tuple(expected[ours].shape):
            raise SpokenLMError(f"{path}: tensor {key!r} has shape {list(value.shape)}, the config gives {list(expected[ours].shape)}")
        mapped[ours] = value
    missing = [k for k in expected if k.startswith("acoustic.") and k not in mapped]
    if missing:
        theirs = "dict.weight" if missing[0].startswith("acoustic.conditioner") else missing[0].removeprefix(GENERATOR_PREFIX)
        raise SpokenLMError(f"{path}: tensor {theirs!r} is missing from the checkpoint")
    return mapped


def load_fairseq_hifigan(config_path: str | Path, checkpoint_path: str | Path, tokenizer: str = "") -> UnitVocoder:
    """A :class:`UnitVocoder` (kind ``unit-hifigan``) with the weights of a speech-resynthesis unit HiFi-GAN, in eval mode."""
    config = vocoder_config(config_path, tokenizer)
    vocoder = UnitVocoder(config)
    expected = vocoder.net.state_dict()
    mapped = map_state(_generator_state(Path(checkpoint_path)), expected, Path(checkpoint_path))
    vocoder.net.load_state_dict({**expected, **mapped})
    vocoder.net.eval()
    return vocoder
