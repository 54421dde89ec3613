"""Phone error rate against hand-worked examples, and the edit operations under it."""

import pytest

from spokenlm.eval.phone_error import phone_error_rate, phone_sequence, text_phones
from spokenlm.eval.wer import edit_operations


def test_edit_operations_count_each_kind() -> None:
    assert edit_operations("K AE T".split(), "K AE T".split()) == (0, 0, 0)
    assert edit_operations("K AE T".split(), "K EH T".split()) == (1, 0, 0)
    assert edit_operations("K AE T".split(), "K T".split()) == (0, 1, 0)
    assert edit_operations("K AE T".split(), "K AE AE T S".split()) == (0, 0, 2)
    assert edit_operations([], ["A"]) == (0, 0, 1) and edit_operations(["A"], []) == (0, 1, 0)


def test_phone_error_rate_by_hand() -> None:
    # "cat sat": K AE T S AE T. A flickering hypothesis with silences and doubled frames around its phones:
    reference = ["SIL", "K", "AE", "T", "SIL", "S", "AE", "T", "SIL"]
    hypothesis = ["SIL", "K", "K", "EH", "AE", "T", "T", "S", "AE", "SIL"]
    assert phone_sequence(hypothesis) == ["K", "EH", "AE", "T", "S", "AE"]
    # against K AE T S AE T: one insertion (EH), one deletion (the last T): 2 edits / 6 phones
    scores = phone_error_rate([reference], [hypothesis])
    assert scores["per"] == pytest.approx(2 / 6) and scores["insertions"] == pytest.approx(1 / 6)
    assert scores["deletions"] == pytest.approx(1 / 6) and scores["substitutions"] == 0 and scores["phones"] == 6
    # pooled: a perfect second utterance of 4 phones halves nothing but adds to the denominator
    pooled = phone_error_rate([reference, ["D", "AO", "G", "Z"]], [hypothesis, ["D", "AO", "G", "Z"]])
    assert pooled["per"] == pytest.approx(2 / 10) and pooled["utterances"] == 2


def test_text_phones_from_the_dictionary() -> None:
    assert text_phones("The cat!") == ["DH", "AH", "K", "AE", "T"]


def test_mismatched_lists_are_refused() -> None:
    from spokenlm.errors import SpokenLMError

    with pytest.raises(SpokenLMError, match="2 references but 1 hypotheses"):
        phone_error_rate([["K"], ["T"]], [["K"]])
