"""Word-level interleaving of speech and text (SpiRit-LM): one stream that switches modality at word boundaries.

Given the frame-level speech ids ``[T]`` of an utterance, its words (frame spans with their text token
ids) and which words to write as text, :func:`interleave` returns one sequence: a marker id at the
start and at every switch (``[TEXT]`` before text, ``[SPEECH]`` before speech), then the words in
order, each as its text ids or as its speech frames. A word's speech runs from its start frame to
the next word's start frame (the pause after a word stays with it); the last word's runs to its end, and
frames before the first word are left out.
All ids are model ids: map units and text tokens with a vocabulary (``spokenlm.data.vocab``) first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spokenlm.errors import SpokenLMError


@dataclass(frozen=True)
class WordSpan:
    """One word of an utterance.

    Attributes:
        start: its first frame (at the speech stream's frame rate).
        end: one past its last frame.
        text: its text token ids (model ids), at least one.
    """

    start: int
    end: int
    text: tuple[int, ...]


def interleave(speech: np.ndarray | Sequence[int], words: Sequence[WordSpan], as_text: Sequence[bool], text_marker: int,
               speech_marker: int) -> np.ndarray:
    """Speech ids ``[T]`` and ``words`` (in time order) → the interleaved ids ``[N]`` (int64).

    ``as_text[i]`` says whether word ``i`` is written as its text ids (else as its speech frames).
    """
    speech = np.asarray(speech, dtype=np.int64)
    if len(as_text) != len(words) or not words:
        raise SpokenLMError(f"interleaving needs one text/speech choice per word and at least one word, got {len(as_text)} for {len(words)}")
    for i, word in enumerate(words):
        previous_end = words[i - 1].end if i else 0
        if not previous_end <= word.start < word.end <= len(speech) or not word.text:
            raise SpokenLMError(f"word {i} (frames {word.start}..{word.end}, {len(word.text)} text ids) must have text and lie after "
                                f"the previous word within the {len(speech)} speech frames")
    starts = [w.start for w in words]
    ends = [*starts[1:], words[-1].end]
    pieces, mode = [], None
    for word, end, text in zip(words, ends, as_text):
        if text != mode:
            pieces.append(np.array([text_marker if text else speech_marker], dtype=np.int64))
            mode = text
        pieces.append(np.asarray(word.text, dtype=np.int64) if text else speech[word.start : end])
    return np.concatenate(pieces)


def switch_at_boundaries(num_words: int, switch_probability: float, seed: int) -> list[bool]:
    """A seeded choice of text words: the first word's modality is a coin flip, and at each word boundary the
    modality switches with ``switch_probability`` (so spans average ``1 / switch_probability`` words)."""
    if num_words < 1 or not 0 <= switch_probability <= 1:
        raise SpokenLMError(f"need num_words >= 1 and a switch probability in [0, 1], got {num_words}, {switch_probability}")
    rng = np.random.default_rng(seed)
    text = bool(rng.random() < 0.5)
    choice = [text]
    for switch in rng.random(num_words - 1) < switch_probability:
        text = text != bool(switch)
        choice.append(text)
    return choice
