"""Features of a trained supervised phone tokenizer: its phone posteriorgram or its BiGRU bottleneck.

A supervised, speaker-invariant teacher for the mixed tokenizer (distilled into
codebook 1, as CosyVoice's supervised tokens are ASR-derived) and a feature
stream for k-means. A saved extractor folder holds our ``config.json`` and a
copy of the phone tokenizer in ``phone_tokenizer/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from spokenlm.config import from_dict
from spokenlm.errors import ConfigError
from spokenlm.tokenizers.extractors.base import EXTRACTORS, FeatureExtractor, check_waveform
from spokenlm.tokenizers.phone import PhoneTokenizer

PHONE_TOKENIZER_DIR = "phone_tokenizer"


@dataclass
class PhoneFeaturesConfig:
    """Which phone tokenizer, and which of its outputs.

    Attributes:
        tokenizer: folder of a phone tokenizer (``spokenlm train-tokenizer`` with ``type: phone``).
        output: ``posteriors`` (softmax over the phone set, ``[T, P]``) or
            ``bottleneck`` (BiGRU states, ``[T, 2·hidden]``).
    """

    tokenizer: str = ""
    output: Literal["posteriors", "bottleneck"] = "posteriors"


@EXTRACTORS.register("phone-classifier")
class PhoneClassifierExtractor(FeatureExtractor):
    """Posteriors or bottleneck ``[T, D]`` of a :class:`PhoneTokenizer` at its frame rate (50 Hz by default)."""

    type_name = "phone-classifier"
    config_class = PhoneFeaturesConfig
    config: PhoneFeaturesConfig

    def __init__(self, config: PhoneFeaturesConfig, tokenizer: PhoneTokenizer | None = None) -> None:
        if tokenizer is None:
            if not config.tokenizer:
                raise ConfigError("phone-classifier extractor needs 'tokenizer': the folder of a trained phone tokenizer")
            tokenizer = PhoneTokenizer.from_pretrained(config.tokenizer)
        super().__init__(config)
        self.tokenizer = tokenizer

    @property
    def sample_rate(self) -> int:
        return self.tokenizer.sample_rate

    @property
    def frame_rate(self) -> float:
        return self.tokenizer.frame_rate

    @property
    def dim(self) -> int:
        model = self.tokenizer.model.config
        return model.num_phones if self.config.output == "posteriors" else 2 * model.hidden

    def extract(self, wav: np.ndarray) -> torch.Tensor:
        return self.extract_batch([wav])[0]

    def extract_batch(self, wavs: list[np.ndarray]) -> list[torch.Tensor]:
        wavs = [check_waveform(w) for w in wavs]
        if self.config.output == "posteriors":
            return self.tokenizer.features(wavs, self.sample_rate)
        return [hidden.contiguous() for _, hidden in self.tokenizer.frame_outputs(wavs)]

    def save_pretrained(self, directory: str | Path) -> Path:
        directory = Path(directory)
        self.tokenizer.save_pretrained(directory / PHONE_TOKENIZER_DIR)
        return super().save_pretrained(directory)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], directory: Path | None = None) -> PhoneClassifierExtractor:
        config = from_dict(PhoneFeaturesConfig, spec)
        if directory is None:
            return cls(config)
        return cls(config, PhoneTokenizer.from_pretrained(directory / PHONE_TOKENIZER_DIR))
