"""Word n-gram generation (the cascade's text LM): the next-word distribution and sampled sentences."""

from __future__ import annotations

import numpy as np

from spokenlm.eval.textlm import EOS, train_word_lm

SENTENCES = ["the cat sat on the mat", "the dog sat on the log", "a cat ran to the dog", "the dog ran"] * 3


def test_next_probs_equal_the_model_probabilities_and_sum_to_one() -> None:
    lm = train_word_lm(SENTENCES, min_count=1)
    for context in ([], lm.ids("the"), lm.ids("the dog sat"), lm.ids("zebra")):
        probs = lm.model.next_probs(context)
        history = tuple(([-1, -1] + context)[-2:])
        expected = [lm.model._prob(history, w) for w in range(lm.model.vocab_size)] + [lm.model._prob(history, EOS)]
        np.testing.assert_allclose(probs, expected, rtol=1e-12)
        assert abs(probs.sum() - 1.0) < 1e-9


def test_generate_samples_known_words_within_its_bounds() -> None:
    lm = train_word_lm(SENTENCES, min_count=1)
    words = lm.generate("the", max_words=5, temperature=1.0, seed=3, min_words=2).split()
    assert 2 <= len(words) <= 5 and set(words) <= set(lm.vocabulary) - {"<unk>"}
    assert lm.generate("the", 5, 1.0, seed=3, min_words=2) == " ".join(words)  # same seed, same words
    greedy = lm.generate("the dog", 8, temperature=0, min_words=2)
    assert len(greedy.split()) >= 2 and lm.generate("the dog", 8, temperature=0, min_words=2, seed=9) == greedy
