"""Features of a trained supervised phone classifier: its phone posteriorgram or its BiGRU bottleneck.

A supervised, speaker-invariant teacher for the mixed tokenizer (distilled into
codebook 1, as CosyVoice's supervised tokens are ASR-derived) and a feature
stream for k-means. It reads the folder of a phone tokenizer (``spokenlm
train-tokenizer`` with ``type: phone``); a saved encoder folder holds our
``config.json`` and a copy of that folder in ``phone_tokenizer/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from spokenlm.checkpoint import save_module
from spokenlm.config import from_dict
from spokenlm.encoders.base import ENCODERS, Encoder, check_waveform
from spokenlm.encoders.phone_model import PhoneClassifier, load_phone_classifier
from spokenlm.errors import ConfigError

PHONE_TOKENIZER_DIR = "phone_tokenizer"


@dataclass
class PhoneFeaturesConfig:
    """Which phone classifier, and which of its outputs.

    Attributes:
        tokenizer: folder of a phone tokenizer (``spokenlm train-tokenizer`` with ``type: phone``).
        output: ``posteriors`` (softmax over the phone set and a CTC classifier's blank, ``[T, P]``) or
            ``bottleneck`` (BiGRU states, ``[T, 2·hidden]``).
    """

    tokenizer: str = ""
    output: Literal["posteriors", "bottleneck"] = "posteriors"


@ENCODERS.register("phone-classifier")
class PhoneClassifierEncoder(Encoder):
    """Posteriors or bottleneck ``[T, D]`` of a :class:`PhoneClassifier` at its frame rate (50 Hz by default).

    ``folder_config`` is the phone tokenizer folder's ``config.json``, kept so that a saved copy reads as that tokenizer.
    """

    type_name = "phone-classifier"
    config_class = PhoneFeaturesConfig
    config: PhoneFeaturesConfig

    def __init__(self, config: PhoneFeaturesConfig, model: PhoneClassifier | None = None, folder_config: dict | None = None) -> None:
        if model is None:
            if not config.tokenizer:
                raise ConfigError("phone-classifier encoder needs 'tokenizer': the folder of a trained phone tokenizer")
            model, folder_config = load_phone_classifier(config.tokenizer)
        super().__init__(config)
        self.model = model.eval()
        self.folder_config = folder_config or {}

    @property
    def sample_rate(self) -> int:
        return self.model.config.sample_rate

    @property
    def frame_rate(self) -> float:
        return self.model.config.frame_rate

    @property
    def dim(self) -> int:
        model = self.model.config
        return model.outputs if self.config.output == "posteriors" else 2 * model.hidden

    def extract(self, wav: np.ndarray) -> torch.Tensor:
        return self.extract_batch([wav])[0]

    def extract_batch(self, wavs: list[np.ndarray]) -> list[torch.Tensor]:
        outputs = self.model.frame_outputs([check_waveform(w) for w in wavs])
        if self.config.output == "posteriors":
            return [logits.softmax(dim=-1) for logits, _ in outputs]
        return [hidden.contiguous() for _, hidden in outputs]

    def save_pretrained(self, directory: str | Path) -> Path:
        directory = Path(directory)
        save_module(directory / PHONE_TOKENIZER_DIR, self.model, self.folder_config)
        return super().save_pretrained(directory)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], directory: Path | None = None) -> PhoneClassifierEncoder:
        config = from_dict(PhoneFeaturesConfig, spec)
        if directory is None:
            return cls(config)
        model, folder_config = load_phone_classifier(directory / PHONE_TOKENIZER_DIR)
        return cls(config, model, folder_config)
