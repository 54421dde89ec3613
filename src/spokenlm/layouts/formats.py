"""Sequence formats of speech+text LMs: one utterance's speech and words → one stream of model ids, and back.

Every format writes a modality marker before each run of one modality (``[SPEECH]`` before speech ids,
``[TEXT]`` before text ids), so :func:`split_modalities` cuts any formatted sequence back into its runs:

==================  =====================================================  ==========================
format              sequence                                               family
==================  =====================================================  ==========================
``speech``          ``[SPEECH] speech``                                    GSLM / TWIST
``text``            ``[TEXT] text``                                        a text LM
``speech_text``     ``[SPEECH] speech [TEXT] text``                        ASR-like pairs
``text_speech``     ``[TEXT] text [SPEECH] speech``                        TTS-like pairs
``interleave``      words in order, switching modality at word boundaries  SpiRit-LM, Slamming
==================  =====================================================  ==========================

``speech`` is the utterance's whole speech ``[T]``, ``text`` its words' text ids in order. In ``interleave`` the text
words are chosen by the span sampler of :class:`FormatConfig`: ``switch`` (SpiRit-LM: at each word boundary the
modality switches with ``switch_probability``) or ``poisson`` (Slamming's interleaving: alternating spans whose
lengths in words are drawn from Poisson distributions, at least one word each). A document's format is drawn with
the shares of ``FormatConfig.mix``. All ids are model ids (``spokenlm.data.vocab.Vocabulary``); all choices are
drawn from the given numpy generator, so a seeded run is reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from spokenlm.errors import ConfigError, SpokenLMError
from spokenlm.layouts.interleave import WordSpan, interleave, switch_at_boundaries
from spokenlm.registry import Registry

Modality = Literal["speech", "text"]


@dataclass(frozen=True)
class Markers:
    """The model ids of the modality markers (``Vocabulary.speech_id`` and ``Vocabulary.text_id``)."""

    speech: int
    text: int


@dataclass
class FormatConfig:
    """Which sequence formats a speech+text LM trains on, and how ``interleave`` picks its text words.

    Attributes:
        mix: share of documents per format (names of :data:`SEQUENCE_FORMATS`; normalised to sum to 1). A recipe's
            mix merges with this default (``interleave: 1``): give a format share 0 to leave it out.
        spans: ``switch`` (SpiRit-LM, random switches at word boundaries) or ``poisson`` (Slamming, Poisson span lengths).
        switch_probability: ``switch``: the chance of a modality switch at each word boundary (spans average
            ``1 / switch_probability`` words).
        text_span_words: ``poisson``: the mean length of a text span, words.
        speech_span_words: ``poisson``: the mean length of a speech span, words.
    """

    mix: dict[str, float] = field(default_factory=lambda: {"interleave": 1.0})
    spans: Literal["switch", "poisson"] = "switch"
    switch_probability: float = 0.3
    text_span_words: float = 10.0
    speech_span_words: float = 10.0

    def __post_init__(self) -> None:
        unknown = sorted(set(self.mix) - set(SEQUENCE_FORMATS.names()))
        if unknown or not self.mix or any(w < 0 for w in self.mix.values()) or sum(self.mix.values()) <= 0:
            raise ConfigError(f"format mix {self.mix} needs non-negative shares of known formats ({', '.join(SEQUENCE_FORMATS.names())}) "
                              "with a positive sum")
        if self.spans not in SPAN_SAMPLERS:
            raise ConfigError(f"format spans must be one of {', '.join(SPAN_SAMPLERS.names())}, got {self.spans!r}")
        if not 0 <= self.switch_probability <= 1 or self.text_span_words <= 0 or self.speech_span_words <= 0:
            raise ConfigError("format switch_probability must lie in [0, 1] and the Poisson span means be > 0 words")


Format = Callable[[np.ndarray, Sequence[WordSpan], Markers, FormatConfig, np.random.Generator], np.ndarray]
SEQUENCE_FORMATS: Registry[Format] = Registry("sequence format")


def _runs(*pieces: tuple[int, Sequence[int] | np.ndarray]) -> np.ndarray:
    return np.concatenate([np.concatenate([[marker], np.asarray(ids, dtype=np.int64)]) for marker, ids in pieces]).astype(np.int64)


def words_text(words: Sequence[WordSpan]) -> np.ndarray:
    """The text ids of ``words`` in order, ``[N]``."""
    return np.asarray([i for w in words for i in w.text], dtype=np.int64)


@SEQUENCE_FORMATS.register("speech")
def speech_only(speech, words, markers, config, rng) -> np.ndarray:
    """``[SPEECH] speech``."""
    return _runs((markers.speech, speech))


@SEQUENCE_FORMATS.register("text")
def text_only(speech, words, markers, config, rng) -> np.ndarray:
    """``[TEXT] text``."""
    return _runs((markers.text, words_text(words)))


@SEQUENCE_FORMATS.register("speech_text")
def speech_then_text(speech, words, markers, config, rng) -> np.ndarray:
    """``[SPEECH] speech [TEXT] text`` (ASR-like)."""
    return _runs((markers.speech, speech), (markers.text, words_text(words)))


@SEQUENCE_FORMATS.register("text_speech")
def text_then_speech(speech, words, markers, config, rng) -> np.ndarray:
    """``[TEXT] text [SPEECH] speech`` (TTS-like)."""
    return _runs((markers.text, words_text(words)), (markers.speech, speech))


def poisson_spans(num_words: int, text_mean: float, speech_mean: float, rng: np.random.Generator) -> list[bool]:
    """Which of ``num_words`` words are text: alternating spans (the first one's modality a coin flip) of
    ``1 + Poisson(mean - 1)`` words, so each span has at least one word and ``mean`` words on average."""
    if num_words < 1:
        raise SpokenLMError(f"need num_words >= 1, got {num_words}")
    text = bool(rng.random() < 0.5)
    choice: list[bool] = []
    while len(choice) < num_words:
        mean = text_mean if text else speech_mean
        choice += [text] * (1 + int(rng.poisson(max(mean - 1.0, 0.0))))
        text = not text
    return choice[:num_words]


SpanSampler = Callable[[int, FormatConfig, np.random.Generator], list[bool]]
SPAN_SAMPLERS: Registry[SpanSampler] = Registry("interleaving span sampler")
SPAN_SAMPLERS.register("switch")(lambda n, config, rng: switch_at_boundaries(n, config.switch_probability, int(rng.integers(2**31))))
SPAN_SAMPLERS.register("poisson")(lambda n, config, rng: poisson_spans(n, config.text_span_words, config.speech_span_words, rng))


@SEQUENCE_FORMATS.register("interleave")
def interleaved(speech, words, markers, config, rng) -> np.ndarray:
    """Words in order, each as its text ids or its speech frames, a marker at every switch (:func:`interleave`); the text
    words are drawn by the span sampler ``config.spans`` (:data:`SPAN_SAMPLERS`)."""
    as_text = SPAN_SAMPLERS.get(config.spans)(len(words), config, rng)
    return interleave(speech, words, as_text, markers.text, markers.speech)


def choose_format(config: FormatConfig, rng: np.random.Generator) -> str:
    """A format name drawn with the shares of ``config.mix``."""
    names = sorted(config.mix)
    shares = np.array([config.mix[n] for n in names], dtype=np.float64)
    return names[int(rng.choice(len(names), p=shares / shares.sum()))]


def format_utterance(name: str, speech: np.ndarray | Sequence[int], words: Sequence[WordSpan], markers: Markers,
                     config: FormatConfig, rng: np.random.Generator) -> np.ndarray:
    """The utterance (speech model ids ``[T]``, ``words`` with frame spans into it) in format ``name``: ids ``[N]``."""
    return SEQUENCE_FORMATS.get(name)(np.asarray(speech, dtype=np.int64), words, markers, config, rng)


def split_modalities(ids: np.ndarray | Sequence[int], markers: Markers) -> list[tuple[Modality, np.ndarray]]:
    """A formatted sequence ``[N]`` → its runs ``[(modality, ids of the run)]``, markers removed, in order.

    Raises :class:`SpokenLMError` unless the sequence starts with a marker.
    """
    ids = np.asarray(ids, dtype=np.int64)
    at = np.flatnonzero((ids == markers.speech) | (ids == markers.text))
    if not ids.size or not at.size or at[0] != 0:
        raise SpokenLMError(f"a formatted sequence starts with a modality marker ({markers.speech} or {markers.text}), got {ids[:4].tolist()}…")
    ends = [*at[1:], ids.size]
    return [("speech" if ids[a] == markers.speech else "text", ids[a + 1 : b]) for a, b in zip(at, ends)]


def modality_streams(ids: np.ndarray | Sequence[int], markers: Markers) -> tuple[np.ndarray, np.ndarray]:
    """A formatted sequence ``[N]`` → its speech stream and its text stream (the runs of each modality joined in
    order): ``(speech ids [T_s], text ids [T_t])``. For ``speech_text`` this is the utterance's speech and text;
    for ``interleave`` the frames of its speech words and the text ids of its text words."""
    runs = split_modalities(ids, markers)
    empty = np.zeros(0, dtype=np.int64)
    return tuple(np.concatenate([empty, *(r for m, r in runs if m == modality)]) for modality in ("speech", "text"))
