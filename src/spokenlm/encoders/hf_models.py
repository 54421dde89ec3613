"""Shared base of encoders that wrap a ``transformers`` model read from a local folder (never a hub).

A saved encoder folder holds our ``config.json`` (with ``"type"``) and the
wrapped model's own ``save_pretrained`` output in ``model/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


from spokenlm.config import from_dict
from spokenlm.errors import ConfigError, MissingDependencyError
from spokenlm.encoders.base import Encoder

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


class HFModelEncoder(Encoder):
    """An encoder around a local ``transformers`` model; its config has ``model_dir`` and ``layer``."""

    def __init__(self, config: Any, model: Any | None = None) -> None:
        super().__init__(config)
        self.model = model if model is not None else load_local_model(config.model_dir)
        self.check_model()

    def check_model(self) -> None:
        """Reject models of the wrong family or layers out of range (subclasses override)."""

    def save_pretrained(self, directory: str | Path) -> Path:
        directory = Path(directory)
        self.model.save_pretrained(str(directory / HF_MODEL_DIR))
        return super().save_pretrained(directory)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], directory: Path | None = None) -> HFModelEncoder:
        if directory is not None:
            spec = {**spec, "model_dir": str(directory / HF_MODEL_DIR)}
        return cls(from_dict(cls.config_class, spec))
