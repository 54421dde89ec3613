"""A TTS voice by engine and name, and the error a failing engine raises."""

from __future__ import annotations

from dataclasses import dataclass

from spokenlm.errors import SpokenLMError


# Debian voices recorded from the same person, offered by more than one engine.
_RECORDED_SPEAKER = {
    "kal": "kal", "kal16": "kal", "kal_diphone": "kal", "slt": "slt", "cmu_us_slt_arctic_hts": "slt",
    "awb": "awb", "rms": "rms", "ked_diphone": "ked",
}


class TTSError(SpokenLMError):
    """A TTS engine failed on one input; the message names the engine, the voice and the text."""

    def __init__(self, voice: str, text: str, reason: str) -> None:
        self.voice = voice
        self.text = text
        self.reason = reason
        shown = text if len(text) <= 80 else text[:77] + "..."
        super().__init__(f"{voice}: {reason} (text: {shown!r})")


@dataclass(frozen=True)
class Voice:
    """One voice of one engine, e.g. ``Voice("espeak-ng", "en-us+m3")``.

    Attributes:
        engine: ``espeak-ng``, ``flite``, ``festival`` or ``piper``.
        name: the engine's own voice name (espeak ``accent+variant``, flite ``slt``,
            festival ``kal_diphone``, piper model file stem).
        language: BCP-47-ish language code of the voice.
    """

    engine: str
    name: str
    language: str = "en"

    @property
    def id(self) -> str:
        """``engine:name``, the speaker id used in manifests."""
        return f"{self.engine}:{self.name}"

    @property
    def slug(self) -> str:
        """The id made safe for file and cut names (``espeak-ng:en-us+m3`` → ``espeak-ng_en-us_m3``)."""
        return self.id.replace(":", "_").replace("+", "_").replace("/", "_")

    @property
    def identity(self) -> str:
        """Who speaks: the recorded person behind a flite/festival voice (``flite:slt`` and
        ``festival:cmu_us_slt_arctic_hts`` are both ``slt``), the variant of an espeak-ng voice
        (``m3`` in every accent), else the voice id. Train and test speakers differ in identity."""
        if self.engine == "espeak-ng":
            return "espeak-ng:" + (self.name.partition("+")[2] or "default")
        if self.engine in ("flite", "festival") and self.name in _RECORDED_SPEAKER:
            return _RECORDED_SPEAKER[self.name]
        return self.id

    @classmethod
    def parse(cls, spec: "str | Voice") -> "Voice":
        """``"espeak-ng:en-us+m3"`` → ``Voice("espeak-ng", "en-us+m3")``; a Voice is returned as is."""
        if isinstance(spec, Voice):
            return spec
        engine, sep, name = spec.partition(":")
        if not sep or not engine or not name:
            raise SpokenLMError(f"voice {spec!r} is not of the form engine:name (e.g. espeak-ng:en-us+m3)")
        return cls(engine, name)

    def __str__(self) -> str:
        return self.id
