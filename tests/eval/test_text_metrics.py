"""Text normalisation and WER/CER against hand-worked examples."""

from __future__ import annotations

import jiwer
import pytest

from spokenlm.errors import SpokenLMError
from spokenlm.eval.textnorm import normalize, number_to_words, ordinal_to_words, year_to_words
from spokenlm.eval.wer import error_rates


@pytest.mark.parametrize(
    ("n", "words"),
    [(0, "zero"), (7, "seven"), (15, "fifteen"), (40, "forty"), (42, "forty two"), (100, "one hundred"),
     (1205, "one thousand two hundred five"), (3_000_017, "three million seventeen")],
)
def test_voc_number_to_words(n: int, words: str) -> None:
    assert number_to_words(n) == words


def test_voc_years_and_ordinals() -> None:
    assert year_to_words(1999) == "nineteen ninety nine"
    assert year_to_words(1905) == "nineteen oh five"
    assert year_to_words(1900) == "nineteen hundred"
    assert year_to_words(2005) == "two thousand five"
    assert [ordinal_to_words(n) for n in (1, 2, 3, 12, 20, 21)] == ["first", "second", "third", "twelfth", "twentieth", "twenty first"]


def test_voc_normalize_sentence() -> None:
    assert normalize("Dr. Smith paid $3.50 on the 2nd of May, 1999!") == "dr smith paid three dollars fifty cents on the second of may nineteen ninety nine"
    assert normalize("Twenty-one men -- 21 MEN.") == "twenty one men twenty one men"
    assert normalize("It's 100% true") == "its one hundred percent true"
    assert normalize("  \"Hello,\"   world…  ") == "hello world"


def test_voc_error_rates_hand_worked() -> None:
    # ref: "the cat sat on the mat" (6 words); hyp drops "the", substitutes sat→sit, inserts "down":
    # 1 deletion + 1 substitution + 1 insertion = 3 edits / 6 words.
    rates = error_rates(["The cat sat on the mat."], ["cat sit on the mat down"])
    assert rates["wer"] == pytest.approx(3 / 6)
    # characters of "abc" vs "abd": 1 substitution / 3.
    assert error_rates(["abc"], ["abd"])["cer"] == pytest.approx(1 / 3)
    # numbers and punctuation normalised away: a perfect match.
    assert error_rates(["I have 2 cats."], ["i have two cats"])["wer"] == 0.0


def test_voc_error_rates_pooled_like_jiwer() -> None:
    refs = ["a b c d", "hello there general kenobi", "one two"]
    hyps = ["a x c", "hello general kenobi you", "one two three four"]
    ours = error_rates(refs, hyps)
    assert ours["wer"] == pytest.approx(jiwer.wer(refs, hyps))
    assert ours["cer"] == pytest.approx(jiwer.cer(refs, hyps))
    assert ours["words"] == 10


def test_voc_error_rates_edge_cases() -> None:
    assert error_rates([""], ["extra words"])["wer"] == 2.0  # no reference words: insertions over max(0, 1)
    with pytest.raises(SpokenLMError, match="2 references but 1 hypotheses"):
        error_rates(["a", "b"], ["a"])
