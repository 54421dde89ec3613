"""Shared base of extractors that wrap a ``transformers`` model read from a local folder (never a hub).

A saved extractor folder holds our ``config.json`` (with ``"type"``) and the
wrapped model's own ``save_pretrained`` output in ``model/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from spokenlm.config import from_dict
from spokenlm.errors import ConfigError, MissingDependencyError
from spokenlm.tokenizers.extractors.base import FeatureExtractor

HF_MODEL_DIR = "model"


def load_local_model(model_dir: str | Path) -> Any:
    """``transformers.AutoModel`` from a local folder in eval mode; hub names are refused."""
    try:
        import transformers
    except ImportError as err:
        raise MissingDependencyError("transformers", "hf", "HF speech encoders") from err
    path = Path(model_dir)
    if not (path / "config.json").is_file():
        raise ConfigError(f"{path}: not a local transformers model folder (no config.json); nothing is downloaded")
    return transformers.AutoModel.from_pretrained(str(path), local_files_only=True).eval()


class HFModelExtractor(FeatureExtractor):
    """An extractor around a local ``transformers`` model; its config has ``model_dir`` and ``layer``."""

    def __init__(self, config: Any, model: Any | None = None) -> None:
        super().__init__(config)
        self.model = model if model is not None else load_local_model(config.model_dir)
        self.check_model()

    def to(self, device: str | torch.device) -> HFModelExtractor:
        self.model.to(device)
        return self

    @property
    def device(self) -> torch.device:
        """Where the wrapped model's weights are."""
        return next(self.model.parameters()).device

    def check_model(self) -> None:
        """Reject models of the wrong family or layers out of range (subclasses override)."""

    def save_pretrained(self, directory: str | Path) -> Path:
        directory = Path(directory)
        self.model.save_pretrained(str(directory / HF_MODEL_DIR))
        return super().save_pretrained(directory)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], directory: Path | None = None) -> HFModelExtractor:
        if directory is not None:
            spec = {**spec, "model_dir": str(directory / HF_MODEL_DIR)}
        return cls(from_dict(cls.config_class, spec))
