"""``PhoneTokenizer``: supervised phone-like tokens (CosyVoice-style), argmax of a frame phone classifier.

Ids index :data:`~spokenlm.align.phones.PHONE_SET` (0 = ``SIL``, then the 39
ARPAbet phones), at the classifier's frame rate (50 Hz by default); with
``dedup`` repeated ids collapse into one token with a duration, which brings
the rate to roughly the phone rate. ``switch_penalty`` (nats per phone change) decodes the most likely
segmentation instead of the frame argmax, which removes one-frame flicker on unfamiliar voices. Folder: ``model.safetensors`` + ``config.json``
(``"type": "phone"``, written last, so a folder with it is complete).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from spokenlm.align.phones import PHONE_SET
from spokenlm.audio.io import resample
from spokenlm.checkpoint import save_module
from spokenlm.config import to_dict
from spokenlm.errors import SpokenLMError
from spokenlm.tokenizers.base import TOKENIZERS, SpeechTokenizer
from spokenlm.encoders.phone_model import PhoneClassifier, load_phone_classifier
from spokenlm.tokens import Tokens


@TOKENIZERS.register("phone")
class PhoneTokenizer(SpeechTokenizer):
    """Waveform → phone ids ``[1, T]`` at :attr:`frame_rate` Hz (deduplicated with durations when ``dedup``).

    Args:
        model: a trained :class:`PhoneClassifier` (its outputs index ``phones``).
        name: stored in every ``Tokens``.
        dedup: collapse runs of the same phone.
        phones: the label of each id.
        switch_penalty: log-probability (nats) a phone change costs when decoding the frames (0: the frame argmax).
    """

    num_streams = 1
    semantic_codebooks = 1

    def __init__(
        self, model: PhoneClassifier, name: str = "phone", dedup: bool = False, phones: Sequence[str] = PHONE_SET,
        switch_penalty: float = 0.0,
    ) -> None:
        if len(phones) != model.config.num_phones:
            raise SpokenLMError(f"{len(phones)} phone labels for a classifier with {model.config.num_phones} outputs")
        self.model = model.eval()
        self.name = name
        self.dedup = dedup
        self.phones = tuple(phones)
        self.switch_penalty = float(switch_penalty)
        self.sample_rate = model.config.sample_rate
        self.frame_rate = model.config.frame_rate
        self.vocab_size = model.config.num_phones

    def features(self, wavs: Sequence[np.ndarray], sr: int) -> list[torch.Tensor]:
        """Phone posteriors ``[T_i, outputs]`` (a posteriorgram; the CTC blank last when there is one) at :attr:`frame_rate` of mono waveforms at ``sr`` Hz."""
        batch = [resample(np.asarray(w, np.float32), sr, self.sample_rate) for w in wavs]
        return [logits.softmax(dim=-1) for logits, _ in self.model.frame_outputs(batch)]

    def frame_units(self, wavs: Sequence[np.ndarray], sr: int) -> list[Tokens]:
        """Frame-level phone ids (never deduplicated): ``ids [1, T]`` at :attr:`frame_rate` Hz."""
        batch = [resample(np.asarray(w, np.float32), sr, self.sample_rate) for w in wavs]
        return self._frame_units(batch)

    def _frame_units(self, wavs: list[np.ndarray]) -> list[Tokens]:
        return [Tokens(self.model.frame_phones(logits, self.switch_penalty).numpy()[None, :], self.frame_rate, self.name) for logits, _ in self.model.frame_outputs(wavs)]

    def _encode_batch(self, wavs: list[np.ndarray]) -> list[Tokens]:
        tokens = self._frame_units(wavs)
        return [t.deduplicated() for t in tokens] if self.dedup else tokens

    def phone_labels(self, tokens: Tokens) -> list[str]:
        """The phone name of each id of one-stream ``tokens``."""
        return [self.phones[i] for i in tokens.ids[0]]

    def config_dict(self) -> dict:
        return {"type": "phone", "name": self.name, "dedup": self.dedup, "phones": list(self.phones),
                "switch_penalty": self.switch_penalty, "model": to_dict(self.model.config)}

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``model.safetensors`` then ``config.json`` (each atomically; the folder may hold other files)."""
        return save_module(directory, self.model, self.config_dict(), replace=False)

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> PhoneTokenizer:
        model, config = load_phone_classifier(directory)
        return cls(model, name=config["name"], dedup=bool(config["dedup"]), phones=config["phones"],
                   switch_penalty=float(config.get("switch_penalty", 0.0)))
