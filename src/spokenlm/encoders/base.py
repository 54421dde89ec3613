"""The encoder contract: waveform ``[samples]`` → frame features ``[T, D]`` at a known frame rate.

Every encoder (MFCC, log-mel, our own HuBERT, a phone classifier, HF SSL models, Whisper)
is an ``nn.Module`` implementing :class:`Encoder`: a typed config dataclass (``config_class``),
``extract``/``extract_batch`` for waveforms, ``forward`` for padded batches, and a folder
format whose ``config.json`` has a ``"type"`` key naming the class in :data:`ENCODERS`.
Being modules, encoders with weights move with ``.to(device)``, freeze with
``.requires_grad_(False)`` and expose ``.parameters()``, so the same object serves a
k-means tokenizer (features for clustering) and a speech-aware text LM (an encoder in front
of an adapter). :func:`load_encoder` opens any saved folder and :func:`build_encoder`
makes one from a recipe mapping (``{"type": "mfcc", ...}``).
"""

from __future__ import annotations

import dataclasses
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from spokenlm.atomic import atomic_write_json
from spokenlm.config import from_dict, to_dict
from spokenlm.errors import ConfigError, SpokenLMError
from spokenlm.registry import Registry

ENCODERS: Registry[type[Encoder]] = Registry("encoder type")


class Encoder(nn.Module, ABC):
    """Mono waveform at :attr:`sample_rate` Hz → features ``[T, D]`` at :attr:`frame_rate` Hz.

    Subclasses set ``type_name`` (their :data:`ENCODERS` key) and
    ``config_class`` (a dataclass; a ``layer`` field where layers are
    selectable), and define the properties below. The default save/load writes
    only ``config.json``; encoders with weights extend both.

    Attributes:
        sample_rate: input rate in Hz; callers resample before :meth:`extract`.
        frame_rate: output frames per second (Hz).
        dim: D, feature size of the selected layer.
        layer: the selected layer (``None`` where the encoder has no layers).
    """

    type_name: ClassVar[str]
    config_class: ClassVar[type]

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config

    @property
    @abstractmethod
    def sample_rate(self) -> int: ...

    @property
    @abstractmethod
    def frame_rate(self) -> float: ...

    @property
    @abstractmethod
    def dim(self) -> int: ...

    @property
    def layer(self) -> int | None:
        return getattr(self.config, "layer", None)

    @property
    def device(self) -> torch.device:
        """Where the encoder's weights are (the CPU for encoders without torch weights)."""
        return next(self.parameters(), torch.empty(0)).device

    @abstractmethod
    def extract(self, wav: np.ndarray) -> torch.Tensor:
        """Features ``[T, D]`` (float32, CPU) of one mono waveform ``[samples]`` at :attr:`sample_rate`."""

    def extract_batch(self, wavs: Sequence[np.ndarray]) -> list[torch.Tensor]:
        """Features ``[T_i, D]`` of each waveform ``[samples_i]``; each utterance is processed on its own."""
        return [self.extract(wav) for wav in wavs]

    def forward(self, wavs: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded batch: waveforms ``[B, S]`` at :attr:`sample_rate` with valid ``lengths`` ``[B]`` (samples) →
        features ``[B, T, D]`` (zero after each row's frames) and frame counts ``[B]``.

        Row by row through :meth:`extract` on the CPU, so not differentiable; encoders that train
        end to end override it.
        """
        features = self.extract_batch([row[: int(n)].detach().float().cpu().numpy() for row, n in zip(wavs, lengths)])
        frames = torch.tensor([len(f) for f in features], dtype=torch.long)
        out = torch.zeros(len(features), int(frames.max()) if len(features) else 0, self.dim)
        for row, feature in enumerate(features):
            out[row, : len(feature)] = feature
        return out.to(wavs.device), frames.to(wavs.device)

    def config_dict(self) -> dict[str, Any]:
        """JSON-safe config with ``"type"``, as written to ``config.json``."""
        return {"type": self.type_name, **to_dict(self.config)}

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``config.json`` into ``directory`` (subclasses with weights add them)."""
        directory = Path(directory)
        atomic_write_json(directory / "config.json", self.config_dict())
        return directory

    @classmethod
    def from_spec(cls, spec: dict[str, Any], directory: Path | None = None) -> Encoder:
        """Build from a config mapping (recipe keys, or a saved ``config.json`` without ``"type"``)."""
        return cls(from_dict(cls.config_class, spec))

    @classmethod
    def from_pretrained(cls, directory: str | Path, layer: int | None = None) -> Encoder:
        """Load an encoder written by :meth:`save_pretrained`, optionally selecting another ``layer``."""
        directory = Path(directory)
        spec = read_config(directory)
        spec.pop("type", None)
        if layer is not None:
            if "layer" not in {f.name for f in dataclasses.fields(cls.config_class)}:
                raise ConfigError(f"{directory}: encoder {cls.type_name!r} has no selectable layer")
            spec["layer"] = layer
        return cls.from_spec(spec, directory)


class HopEncoder(Encoder):
    """An encoder whose config gives ``sample_rate`` (Hz) and ``hop_length`` (samples per frame)."""

    @property
    def sample_rate(self) -> int:
        return self.config.sample_rate

    @property
    def frame_rate(self) -> float:
        return self.config.sample_rate / self.config.hop_length


def check_waveform(wav: np.ndarray) -> np.ndarray:
    """Return ``wav`` as contiguous float32 ``[samples]``; reject other shapes with a clear error."""
    wav = np.ascontiguousarray(wav, dtype=np.float32)
    if wav.ndim != 1:
        raise SpokenLMError(f"encoders take mono [samples] waveforms, got shape {wav.shape}")
    return wav


def receptive_field(kernels: Sequence[int], strides: Sequence[int]) -> int:
    """Samples a stack of 1-D convolutions needs for one output frame (400 for HuBERT/wav2vec2's stack)."""
    field, jump = 1, 1
    for kernel, stride in zip(kernels, strides, strict=True):
        field += (kernel - 1) * jump
        jump *= stride
    return field


def pad_to_receptive_field(wav: np.ndarray, field: int) -> np.ndarray:
    """Zero-pad ``[samples]`` at the end to at least ``field`` samples, so that a clip gives at least one frame."""
    return np.pad(wav, (0, field - wav.size)) if wav.size < field else wav


def read_config(directory: str | Path) -> dict[str, Any]:
    """The ``config.json`` of an encoder folder (error naming the folder when absent)."""
    path = Path(directory) / "config.json"
    if not path.is_file():
        raise SpokenLMError(f"{directory}: not an encoder folder (no config.json)")
    return json.loads(path.read_text())


def load_encoder(directory: str | Path, layer: int | None = None) -> Encoder:
    """Open any saved encoder folder; its ``config.json`` ``"type"`` picks the class."""
    _import_builtin_encoders()
    kind = read_config(directory).get("type")
    if kind is None:
        raise SpokenLMError(f"{directory}/config.json: no 'type' key")
    return ENCODERS.get(kind).from_pretrained(directory, layer=layer)


def build_encoder(spec: dict[str, Any]) -> Encoder:
    """Make an encoder from a recipe mapping.

    ``{"type": "saved", "path": DIR, "layer": L}`` loads a saved encoder
    folder (e.g. the ``extractor/`` of a trained tokenizer), optionally at
    another layer; any other ``type`` is looked up in :data:`ENCODERS` and
    given the remaining keys as its config.
    """
    _import_builtin_encoders()
    spec = dict(spec)
    kind = spec.pop("type", None)
    if kind is None:
        raise ConfigError(f"encoder spec {spec} has no 'type'; known: saved, {', '.join(ENCODERS.names())}")
    if kind == "saved":
        if "path" not in spec or set(spec) - {"path", "layer"}:
            raise ConfigError("encoder type 'saved' takes 'path' and optionally 'layer'")
        return load_encoder(spec["path"], layer=spec.get("layer"))
    return ENCODERS.get(kind).from_spec(spec)


def _import_builtin_encoders() -> None:
    """Import the modules of this package so their encoder types register."""
    import importlib
    import pkgutil

    import spokenlm.encoders as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"spokenlm.encoders.{module.name}")
