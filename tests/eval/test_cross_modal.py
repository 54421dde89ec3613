"""Cross-modal pair scoring on hand-made pairs with hand-worked values; the UnitLM scorer gives conditional log-likelihoods."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spokenlm.data.vocab import Vocabulary
from spokenlm.errors import SpokenLMError
from spokenlm.eval.cross_modal import Bimodal, CrossModalItem, modality_matrix, prompt_and_continuation, score_cross_modal
from spokenlm.models import UnitLM
from spokenlm.models.config import UnitLMConfig
from spokenlm.models.scoring import log_likelihood

VOCAB = Vocabulary(n_units=2, n_text=2)  # 0 pad, 1 BOS, 2 EOS, 3 [SPEECH], 4 [TEXT], units 5 6, text 7 8


def bigram(sequences, batch_size):
    """log p(x_t | x_{t-1}) = -0.5 |x_t - x_{t-1} - 1| - 0.1: a hand-checkable scorer."""
    sums = [sum(-0.5 * abs(b - a - 1) - 0.1 for a, b in zip(s[:-1], s[1:])) for s in sequences]
    return torch.tensor(sums, dtype=torch.float64), torch.tensor([len(s) - 1 for s in sequences])


STORY = CrossModalItem("story", "topic", Bimodal(np.array([5, 6]), np.array([7])), Bimodal(np.array([6]), np.array([8])),
                       Bimodal(np.array([5]), np.array([7])))
WORD = CrossModalItem("word", "wuggy", Bimodal(np.zeros(0, int), np.zeros(0, int)), Bimodal(np.array([5, 6]), np.array([7, 8])),
                      Bimodal(np.array([6]), np.array([8])))


def test_prompts_and_continuations_by_hand() -> None:
    assert [x.tolist() for x in prompt_and_continuation(STORY, STORY.positive, "S→S", VOCAB)] == [[1, 3, 5, 6], [6]]
    assert [x.tolist() for x in prompt_and_continuation(STORY, STORY.positive, "T→S", VOCAB)] == [[1, 4, 7, 3], [6]]
    assert [x.tolist() for x in prompt_and_continuation(STORY, STORY.negative, "S→T", VOCAB)] == [[1, 3, 5, 6, 4], [7]]
    assert [x.tolist() for x in prompt_and_continuation(WORD, WORD.positive, "T→T", VOCAB)] == [[1, 4], [7, 8]]
    with pytest.raises(SpokenLMError, match="unknown direction 'S→X'"):
        prompt_and_continuation(STORY, STORY.positive, "S→X", VOCAB)


def test_hand_worked_scores_in_every_direction() -> None:
    expected = {  # (positive, negative) conditional log-likelihoods of the story's endings
        "S→S": (-0.6, -1.1),  # 6→6: |6-7| = 1; 6→5: 2
        "T→T": (-0.1, -0.6),  # 7→8: 0; 7→7: 1
        "T→S": (-1.1, -0.6),  # [SPEECH]=3 → 6: 2; 3→5: 1
        "S→T": (-1.6, -1.1),  # [TEXT]=4 → 8: 3; 4→7: 2
    }
    for direction, (pos, neg) in expected.items():
        (score,) = score_cross_modal(bigram, [STORY], direction, VOCAB)
        assert (score.positive_logprob, score.negative_logprob) == pytest.approx((pos, neg)), direction
        assert (score.positive_tokens, score.negative_tokens) == (1, 1)
    (word,) = score_cross_modal(bigram, [WORD], "T→T", VOCAB)
    # positive 4→7 (|7-5| = 2) then 7→8 (0): -1.2 over 2 tokens; negative 4→8 (3): -1.6 over 1
    assert (word.positive_logprob, word.negative_logprob, word.positive_tokens) == pytest.approx((-1.2, -1.6, 2))
    matrix = modality_matrix(bigram, [STORY, WORD], VOCAB)
    # the word's speech endings after [SPEECH] (or [TEXT] [SPEECH]): 3→5→6 = -0.6 - 0.1 beats 3→6 = -1.1; its text endings
    # after [SPEECH] [TEXT]: 4→7→8 = -1.2 beats 4→8 = -1.6. So the word's positive wins everywhere, the story's in S→S and T→T.
    accuracy = {d: (m["pairs"], m["summed"]["value"], m["normalized"]["value"]) for d, m in matrix.items()}
    assert accuracy == {"T→T": (2, 1.0, 1.0), "S→S": (2, 1.0, 1.0), "T→S": (2, 0.5, 0.5), "S→T": (2, 0.5, 0.5)}


def test_unit_lm_scores_are_conditional_log_likelihoods() -> None:
    torch.manual_seed(0)
    model = UnitLM(UnitLMConfig(n_units=2, n_text=2, dim=16, n_layers=1, n_heads=2, max_seq_len=16)).eval()
    (score,) = score_cross_modal(lambda seqs, b: log_likelihood(model, seqs, b), [STORY], "T→S", VOCAB)
    ids = torch.tensor([[1, 4, 7, 3, 6]])
    with torch.no_grad():
        logp = torch.log_softmax(model(ids)[0].double(), dim=-1)
    assert score.positive_logprob == pytest.approx(float(logp[3, 6]), abs=1e-6)  # p(6 | BOS [TEXT] 7 [SPEECH])


def test_split_items_cut_utterances_at_word_boundaries() -> None:
    from spokenlm.eval.cross_modal import split_items
    from spokenlm.layouts import WordSpan

    units = [np.array([0, 1, 0, 1, 1]), np.array([1, 1, 0])]
    spans = [[WordSpan(0, 2, (7,)), WordSpan(2, 3, (8,)), WordSpan(3, 5, (7, 8))], [WordSpan(0, 1, (8,)), WordSpan(1, 3, (7,))]]
    first, second = split_items(units, spans, ["a", "b"], VOCAB)
    # a: 3 words, context = round(1.5) = 2 words (tokens 0-2), ending = word 3 (tokens 3-4); its wrong ending is b's
    np.testing.assert_array_equal(first.context.speech, [5, 6, 5])
    np.testing.assert_array_equal(first.context.text, [7, 8])
    np.testing.assert_array_equal(first.positive.speech, [6, 6])
    np.testing.assert_array_equal(first.positive.text, [7, 8])
    np.testing.assert_array_equal(first.negative.speech, second.positive.speech)
    np.testing.assert_array_equal(second.context.speech, [6])
    np.testing.assert_array_equal(second.negative.text, [7, 8])
    with pytest.raises(SpokenLMError, match="at least 2 utterances"):
        split_items(units[:1], spans[:1], ["a"], VOCAB)


def test_speech_to_text_reads_the_leading_text_run() -> None:
    from spokenlm.eval.speech_to_text import leading_text, speech_to_text_wer
    from spokenlm.tokenizers.text import TextTokenizer

    assert leading_text([7, 8, 7, 2, 8], VOCAB) == [0, 1, 0]  # stops at EOS
    assert leading_text([3, 7], VOCAB) == [] and leading_text([8, 5, 7], VOCAB) == [1]
    text = TextTokenizer.train(["a b"] * 3, vocab_size=4)
    torch.manual_seed(0)
    model = UnitLM(UnitLMConfig(n_units=2, n_text=text.vocab_size, dim=16, n_layers=1, n_heads=2, max_seq_len=32))
    result = speech_to_text_wer(model, [np.array([0, 1, 1]), np.array([1])], ["a b", "b"], text, max_new_tokens=4)
    assert set(result) == {"asr", "no_audio", "no_audio_text", "examples"} and result["asr"]["words"] == 3
    assert [e["reference"] for e in result["examples"]] == ["a b", "b"]
