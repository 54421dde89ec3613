"""Sequence formats of speech+text LMs: each round-trips back to its streams; the seeded span samplers and the mix."""

from __future__ import annotations

import numpy as np
import pytest

from spokenlm.errors import ConfigError, SpokenLMError
from spokenlm.layouts import WordSpan, interleave
from spokenlm.layouts.formats import (FormatConfig, Markers, choose_format, format_utterance, modality_streams, poisson_spans,
                                      split_modalities)

MARKERS = Markers(speech=3, text=4)
SPEECH = np.arange(100, 112)  # 12 frames; words at frames 1-3, 4-7 (a pause to 9), 9-11
WORDS = [WordSpan(1, 4, (50,)), WordSpan(4, 8, (51, 52)), WordSpan(9, 12, (53,))]
TEXT = np.array([50, 51, 52, 53])


def _format(name: str, config: FormatConfig | None = None, seed: int = 0) -> np.ndarray:
    return format_utterance(name, SPEECH, WORDS, MARKERS, config or FormatConfig(), np.random.default_rng(seed))


def test_whole_utterance_formats_by_hand_and_back() -> None:
    np.testing.assert_array_equal(_format("speech"), [3, *SPEECH])
    np.testing.assert_array_equal(_format("text"), [4, *TEXT])
    np.testing.assert_array_equal(_format("speech_text"), [3, *SPEECH, 4, *TEXT])
    np.testing.assert_array_equal(_format("text_speech"), [4, *TEXT, 3, *SPEECH])
    for name, runs in (("speech", ["speech"]), ("text", ["text"]), ("speech_text", ["speech", "text"]), ("text_speech", ["text", "speech"])):
        ids = _format(name)
        assert [m for m, _ in split_modalities(ids, MARKERS)] == runs
        speech, text = modality_streams(ids, MARKERS)
        np.testing.assert_array_equal(speech, SPEECH if "speech" in runs else [])
        np.testing.assert_array_equal(text, TEXT if "text" in runs else [])


def _recover_choice(ids: np.ndarray) -> list[bool]:
    """Which words an interleaved sequence wrote as text, read back from its runs alone."""
    choice, word = [], 0
    ends = [w.start for w in WORDS[1:]] + [WORDS[-1].end]
    for modality, run in split_modalities(ids, MARKERS):
        at = 0
        while at < len(run):
            piece = np.asarray(WORDS[word].text) if modality == "text" else SPEECH[WORDS[word].start : ends[word]]
            np.testing.assert_array_equal(run[at : at + len(piece)], piece)
            choice.append(modality == "text")
            at, word = at + len(piece), word + 1
    assert word == len(WORDS)
    return choice


@pytest.mark.parametrize("spans", ["switch", "poisson"])
def test_interleaved_sequences_round_trip_to_their_words(spans) -> None:
    config = FormatConfig(spans=spans, switch_probability=0.5, text_span_words=1.5, speech_span_words=1.5)
    seen = set()
    for seed in range(40):
        ids = _format("interleave", config, seed)
        choice = _recover_choice(ids)
        np.testing.assert_array_equal(interleave(SPEECH, WORDS, choice, MARKERS.text, MARKERS.speech), ids)
        speech, text = modality_streams(ids, MARKERS)
        np.testing.assert_array_equal(text, [i for w, t in zip(WORDS, choice) if t for i in w.text])
        assert len(speech) == sum(e - w.start for w, e, t in zip(WORDS, [4, 9, 12], choice) if not t)
        seen.add(tuple(choice))
    assert len(seen) >= 6  # the samplers vary the choice
    np.testing.assert_array_equal(_format("interleave", config, 3), _format("interleave", config, 3))  # seeded


def test_poisson_spans_have_the_configured_mean_length() -> None:
    choice = poisson_spans(20000, text_mean=6.0, speech_mean=2.0, rng=np.random.default_rng(0))
    runs = np.split(np.array(choice), np.flatnonzero(np.diff(choice)) + 1)
    text = [len(r) for r in runs[1:-1] if r[0]]
    speech = [len(r) for r in runs[1:-1] if not r[0]]
    assert np.mean(text) == pytest.approx(6.0, rel=0.05) and np.mean(speech) == pytest.approx(2.0, rel=0.05)
    assert min(text + speech) >= 1


def test_format_mix_and_bad_configs() -> None:
    config = FormatConfig(mix={"speech": 1.0, "interleave": 3.0})
    rng = np.random.default_rng(0)
    names = [choose_format(config, rng) for _ in range(4000)]
    assert names.count("interleave") / len(names) == pytest.approx(0.75, abs=0.03)
    with pytest.raises(ConfigError, match="known formats"):
        FormatConfig(mix={"speech-only": 1.0})
    with pytest.raises(ConfigError, match="spans must be one of poisson, switch"):
        FormatConfig(spans="uniform")
    with pytest.raises(SpokenLMError, match="starts with a modality marker"):
        split_modalities([100, 3, 101], MARKERS)
