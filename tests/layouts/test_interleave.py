"""Word-level speech/text interleaving on a hand-made utterance; the seeded span choice."""

from __future__ import annotations

import numpy as np
import pytest

from spokenlm.errors import SpokenLMError
from spokenlm.layouts import WordSpan, interleave, switch_at_boundaries

TEXT, SPEECH = 4, 3
# 12 speech frames (ids 100..111); three words: frames 1-3, 4-7 (then a pause to 9), 9-11.
SPEECH_IDS = np.arange(100, 112)
WORDS = [WordSpan(1, 4, (50,)), WordSpan(4, 8, (51, 52)), WordSpan(9, 12, (53,))]


def test_interleave_by_hand() -> None:
    out = interleave(SPEECH_IDS, WORDS, [False, True, False], TEXT, SPEECH)
    np.testing.assert_array_equal(out, [SPEECH, 101, 102, 103, TEXT, 51, 52, SPEECH, 109, 110, 111])
    # a speech word keeps the pause after it (word 1 runs to word 2's start, frame 9)
    out = interleave(SPEECH_IDS, WORDS, [True, False, False], TEXT, SPEECH)
    np.testing.assert_array_equal(out, [TEXT, 50, SPEECH, 104, 105, 106, 107, 108, 109, 110, 111])
    np.testing.assert_array_equal(interleave(SPEECH_IDS, WORDS, [True] * 3, TEXT, SPEECH), [TEXT, 50, 51, 52, 53])


def test_interleave_rejects_bad_words() -> None:
    with pytest.raises(SpokenLMError, match="one text/speech choice per word"):
        interleave(SPEECH_IDS, WORDS, [True], TEXT, SPEECH)
    with pytest.raises(SpokenLMError, match="word 1"):
        interleave(SPEECH_IDS, [WORDS[0], WordSpan(2, 5, (1,))], [True, False], TEXT, SPEECH)  # overlaps word 0
    with pytest.raises(SpokenLMError, match="word 0"):
        interleave(SPEECH_IDS, [WordSpan(10, 13, (1,))], [True], TEXT, SPEECH)  # past the last frame


def test_switch_at_boundaries_is_seeded() -> None:
    choice = switch_at_boundaries(200, 0.25, seed=3)
    assert choice == switch_at_boundaries(200, 0.25, seed=3) and len(choice) == 200
    switches = sum(a != b for a, b in zip(choice, choice[1:]))
    assert 25 < switches < 75  # about 0.25 · 199
    assert len(set(switch_at_boundaries(50, 0.0, seed=3))) == 1
    always = switch_at_boundaries(6, 1.0, seed=0)
    assert all(a != b for a, b in zip(always, always[1:]))
