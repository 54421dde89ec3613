"""ARPAbet phone tables: espeak-ng IPA → ARPAbet, ARPAbet → espeak-ng phoneme input, festival/flite phones.

Phones are CMUdict ARPAbet (39 phones). Stress digits (0, 1, 2) are accepted on
input and removed by :func:`strip_stress`. IPA is mapped dictionary-like: a
non-rhotic accent's ``eə`` (square) becomes ``EH R`` as CMUdict spells it, so
labels agree across accents.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from spokenlm.errors import SpokenLMError

VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW")
CONSONANTS = (
    "B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N", "NG", "P", "R", "S", "SH", "T", "TH",
    "V", "W", "Y", "Z", "ZH",
)
PHONES = frozenset(VOWELS + CONSONANTS)

# One espeak-ng IPA phoneme (stress marks removed) → ARPAbet phones.
_IPA = {
    "ə": "AH", "ʌ": "AH", "ɐ": "AH", "æ": "AE", "a": "AE", "ɑː": "AA", "ɑ": "AA", "ɒ": "AA", "aː": "AA",
    "a:": "AA", "aa": "AA", "ɔː": "AO", "ɔ": "AO", "aʊ": "AW", "æʊ": "AW", "ʌʉ": "AW", "aɪ": "AY", "əɪ": "AY",
    "ɛ": "EH", "e": "EH", "ɜː": "ER", "ɜ": "ER", "ɚ": "ER", "ɝ": "ER", "əɹ": "ER", "ʌɹ": "ER", "ɜːɹ": "ER",
    "eɪ": "EY", "eː": "EY", "ei": "EY", "eʲ": "EY", "ɪ": "IH", "ᵻ": "IH", "i": "IY", "iː": "IY",
    "oʊ": "OW", "əʊ": "OW", "əu": "OW", "ʌʊ": "OW", "oː": "OW", "o": "OW", "ɔɪ": "OY", "oɪ": "OY",
    "ʊ": "UH", "uː": "UW", "u": "UW", "ʉː": "UW", "ʉ": "UW",
    "eə": "EH R", "ɛə": "EH R", "ɛɹ": "EH R", "iə": "IH R", "ɪə": "IH R", "ɪɹ": "IH R", "ʊə": "UH R",
    "ʊɹ": "UH R", "ʉɹ": "UH R", "ɔə": "AO R", "oə": "AO R", "ɔːɹ": "AO R", "oːɹ": "AO R", "ɔɹ": "AO R",
    "ɑə": "AA R", "ɑːɹ": "AA R", "ɑɹ": "AA R", "aɪə": "AY ER", "aɪɚ": "AY ER", "aʊə": "AW ER",
    "əl": "AH L", "l̩": "AH L", "n̩": "AH N", "m̩": "AH M",
    "b": "B", "tʃ": "CH", "d": "D", "ð": "DH", "f": "F", "ɡ": "G", "g": "G", "h": "HH", "x": "HH",
    "dʒ": "JH", "k": "K", "l": "L", "ɫ": "L", "ɬ": "L", "m": "M", "n": "N", "ŋ": "NG", "p": "P",
    "ɹ": "R", "r": "R", "s": "S", "ʃ": "SH", "t": "T", "ɾ": "T", "ʔ": "T", "t̪": "TH", "θ": "TH",
    "d̪": "DH", "v": "V", "w": "W", "ʍ": "W", "j": "Y", "z": "Z", "ʒ": "ZH",
}
_IPA_MARKS = re.compile("[ˈˌ‿̃]")

# ARPAbet → espeak-ng (en) phoneme mnemonics for ``[[...]]`` input; vowels: (unstressed, stressed).
_ESPEAK_VOWELS = {
    "AA": ("A:", "A:"), "AE": ("a", "a"), "AH": ("@", "V"), "AO": ("O:", "O:"), "AW": ("aU", "aU"),
    "AY": ("aI", "aI"), "EH": ("E", "E"), "ER": ("3", "3:"), "EY": ("eI", "eI"), "IH": ("I", "I"),
    "IY": ("i", "i:"), "OW": ("oU", "oU"), "OY": ("OI", "OI"), "UH": ("U", "U"), "UW": ("u:", "u:"),
}
_ESPEAK_CONSONANTS = {
    "B": "b", "CH": "tS", "D": "d", "DH": "D", "F": "f", "G": "g", "HH": "h", "JH": "dZ", "K": "k", "L": "l",
    "M": "m", "N": "n", "NG": "N", "P": "p", "R": "r", "S": "s", "SH": "S", "T": "t", "TH": "T", "V": "v",
    "W": "w", "Y": "j", "Z": "z", "ZH": "Z",
}
# festival / flite phone names that are not simply lower-case ARPAbet.
_FESTIVAL_EXTRA = {"ax": "AH", "axr": "ER", "dx": "T", "nx": "N", "el": "AH L", "em": "AH M", "en": "AH N"}
SILENCES = frozenset({"pau", "h#", "sil", "sp", "brth", "#"})


def split_stress(phone: str) -> tuple[str, int | None]:
    """``"AH0"`` → ``("AH", 0)``; ``"K"`` → ``("K", None)``. Raises on a phone outside ARPAbet."""
    base, digit = (phone[:-1], int(phone[-1])) if phone[-1:].isdigit() else (phone, None)
    base = base.upper()
    if base not in PHONES or (digit is not None and (digit > 2 or base not in VOWELS)):
        raise SpokenLMError(f"{phone!r} is not a CMUdict ARPAbet phone")
    return base, digit


def strip_stress(phones: Sequence[str]) -> list[str]:
    """ARPAbet phones without stress digits, e.g. ``["HH", "AH0"]`` → ``["HH", "AH"]``."""
    return [split_stress(p)[0] for p in phones]


def ipa_to_arpabet(ipa_phonemes: Sequence[str]) -> list[str]:
    """espeak-ng ``--ipa --sep=_`` phonemes (one per item) → ARPAbet without stress.

    A phoneme outside the table is split into characters and each known one kept.
    """
    out: list[str] = []
    for token in ipa_phonemes:
        token = _IPA_MARKS.sub("", token)
        if not token:
            continue
        if token in _IPA:
            out.extend(_IPA[token].split())
            continue
        for char in token.replace("ː", ""):
            out.extend(_IPA.get(char, "").split())
    return out


def parse_espeak_ipa(output: str) -> list[str]:
    """Split espeak-ng ``--ipa --sep=_`` output (words by spaces, clauses by lines) into ARPAbet."""
    return ipa_to_arpabet([p for word in output.split() for p in word.split("_")])


def arpabet_to_espeak(phones: Sequence[str]) -> str:
    """ARPAbet (stress digits optional) → an espeak-ng ``[[...]]`` phoneme string for one word.

    Stress 1 puts ``'`` and stress 2 ``,`` before the vowel; a vowel without a digit counts as stressed.
    """
    parts = []
    for phone in phones:
        base, stress = split_stress(phone)
        if base in _ESPEAK_VOWELS:
            unstressed, stressed = _ESPEAK_VOWELS[base]
            mark = {0: "", 1: "'", 2: ",", None: ""}[stress]
            parts.append(mark + (unstressed if stress == 0 else stressed))
        else:
            parts.append(_ESPEAK_CONSONANTS[base])
    return "".join(parts)


def festival_to_arpabet(phone: str) -> list[str]:
    """A festival/flite (radio/cmulex) phone such as ``ax`` or ``hh`` → ARPAbet; silences give ``[]``."""
    name = phone.lower()
    if name in SILENCES:
        return []
    if name in _FESTIVAL_EXTRA:
        return _FESTIVAL_EXTRA[name].split()
    base = name.upper()
    if base not in PHONES:
        raise SpokenLMError(f"festival phone {phone!r} has no ARPAbet equivalent")
    return [base]


def arpabet_to_festival(phones: Sequence[str]) -> list[str]:
    """ARPAbet → festival lexicon phones with stress digits on vowels (``AH0`` → ``ax0``, no digit → 1)."""
    out = []
    for phone in phones:
        base, stress = split_stress(phone)
        if base in VOWELS:
            stress = 1 if stress is None else stress
            out.append(("ax" if base == "AH" and stress == 0 else base.lower()) + str(stress))
        else:
            out.append(base.lower())
    return out
