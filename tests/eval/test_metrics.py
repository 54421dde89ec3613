"""Metrics against small hand-worked examples: intervals, auto/self-BLEU, VERT, AUC, n-gram LM, prosody."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spokenlm.eval.autobleu import auto_bleu, self_bleu
from spokenlm.eval.genppl import load_text_lm, perplexity
from spokenlm.eval.prosody import consistency, expressiveness, min_mae
from spokenlm.eval.stats import bootstrap_interval, bootstrap_ratio_interval, wilson_interval
from spokenlm.eval.textlm import BOS, EOS, NGramLM, train_word_lm
from spokenlm.eval.vert import perplexity_vert_auc, vert


def test_evs_wilson_interval_matches_hand_computation():
    est = wilson_interval(8, 10, 0.95)
    # z = 1.959964; centre = (0.8 + z²/20) / (1 + z²/10); half = z sqrt(0.016 + z²/400) / (1 + z²/10)
    assert est.value == 0.8
    assert est.low == pytest.approx(0.4902, abs=1e-4)
    assert est.high == pytest.approx(0.9433, abs=1e-4)
    half = wilson_interval(50, 100)
    assert half.low < 0.5 < half.high and half.high - 0.5 == pytest.approx(0.5 - half.low)
    assert math.isnan(wilson_interval(0, 0).value)


def test_evs_bootstrap_interval():
    constant = bootstrap_interval([1.0] * 20)
    assert (constant.value, constant.low, constant.high) == (1.0, 1.0, 1.0)
    coin = bootstrap_interval([0, 1] * 50, seed=3)
    assert coin.value == 0.5 and coin.low < 0.5 < coin.high
    assert coin.as_dict() == bootstrap_interval([0, 1] * 50, seed=3).as_dict()


def test_evs_bootstrap_interval_of_a_pooled_ratio():
    """A corpus WER: errors and reference words per utterance, pooled (not the mean of per-utterance WERs)."""
    even = bootstrap_ratio_interval([1, 2, 3], [2, 4, 6])  # every utterance at 0.5: so is every resample
    assert (even.value, even.low, even.high, even.count) == (0.5, 0.5, 0.5, 3)
    # 1 error in 10 words and 3 in 2 words: pooled 4/12 (the mean of the WERs would be 0.8); resamples range 0.1 … 1.5
    mixed = bootstrap_ratio_interval([1, 3], [10, 2], seed=1)
    assert mixed.value == pytest.approx(1 / 3) and 0.1 <= mixed.low < 1 / 3 < mixed.high <= 1.5
    assert math.isnan(bootstrap_ratio_interval([1], [0]).value)
    with pytest.raises(ValueError):
        bootstrap_ratio_interval([1, 2], [3])


def test_evs_auto_bleu_of_known_repetitions():
    # unigrams: every token occurs elsewhere -> 1; bigrams (a b), (b a), (a b): first and last repeat -> 2/3
    assert auto_bleu("a b a b".split()) == pytest.approx(math.sqrt(1 * 2 / 3))
    assert auto_bleu("a b a b".split(), mean="arithmetic") == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert auto_bleu("a b c d".split()) == 0.0
    assert auto_bleu("a a a a".split()) == pytest.approx(math.sqrt(2 / 3))  # the middle bigram has no non-overlapping twin
    assert auto_bleu("a a a a a".split()) == 1.0
    assert auto_bleu(["a"]) == 0.0
    assert auto_bleu([1, 2, 1, 2]) == auto_bleu("a b a b".split())  # units work like words


def test_evs_self_bleu_and_vert():
    utterances = ["a b".split(), "a b".split(), "c d".split()]
    # "a b" against {"a b", "c d"}: unigram and bigram precision 1; "c d" against two "a b": 0
    assert self_bleu(utterances) == [1.0, 1.0, 0.0]
    # clipping: "a a" against "a b": 1 of 2 unigrams, 0 bigrams -> geometric 0, arithmetic 0.25
    assert self_bleu(["a a".split(), "a b".split()], mean="arithmetic")[0] == pytest.approx(0.25)
    repeated = ["a b a b".split(), "a b a b".split()]
    assert vert(repeated) == pytest.approx(math.sqrt(1.0 * math.sqrt(2 / 3)))
    with pytest.raises(ValueError):
        vert(["a b".split()])


def test_evs_perplexity_vert_auc_trapezoids():
    # points (VERT, PPL): (0.1, 30), (0.2, 20), (0.4, 10) -> area 0.1*25 + 0.2*15 = 5.5
    result = perplexity_vert_auc([0.4, 0.1, 0.2], [10, 30, 20])
    assert result["auc"] == pytest.approx(5.5)
    bounded = perplexity_vert_auc([0.4, 0.1, 0.2], [10, 30, 20], oracle_vert=0.3, oracle_perplexity=25)
    # up to VERT 0.3 where PPL interpolates to 15: 2.5 + 0.1 * (20 + 15) / 2 = 4.25
    assert bounded["auc"] == pytest.approx(4.25)
    assert bounded["ppl_at_oracle_vert"] == pytest.approx(15)
    assert bounded["vert_at_oracle_ppl"] == pytest.approx(0.15)


def test_evs_ngram_is_normalised_and_matches_hand_kneser_ney():
    model = NGramLM(order=2, vocab_size=3, discount=0.5).fit([[0, 1], [0, 2], [1]])
    for context in [(BOS,), (0,), (1,), (2,), (7,)]:
        assert sum(model._prob(context, w) for w in (0, 1, 2, EOS)) == pytest.approx(1.0)
    # bigram counts after 0: {1: 1, 2: 1}; continuation counts: 0 <- {BOS}, 1 <- {0, BOS}, 2 <- {0}, EOS <- {1, 2}
    # P_uni(1) = (2 - .5)/6 + .5*4/6 * 1/4 = 1/3; P(1|0) = (1 - .5)/2 + .5*2/2 * 1/3 = 5/12
    assert model._prob((0,), 1) == pytest.approx(5 / 12)
    total, count = model.sequence_logprob([0, 1])
    assert count == 3 and total == pytest.approx(sum(math.log(model._prob(c, w)) for c, w in [((BOS,), 0), ((0,), 1), ((1,), EOS)]))


def test_evs_ngram_save_load_round_trip(tmp_path):
    model = NGramLM(3).fit([[0, 1, 2, 1], [2, 2, 0]])
    model.save_pretrained(tmp_path / "lm")
    loaded = NGramLM.from_pretrained(tmp_path / "lm")
    seqs = [np.array([0, 1, 2]), np.array([2, 0])]
    assert loaded.log_likelihood(seqs)[0].tolist() == model.log_likelihood(seqs)[0].tolist()


def test_evs_word_lm_perplexity_prefers_corpus_like_text(tmp_path):
    sentences = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"] * 5
    lm = train_word_lm(sentences, order=3, min_count=1)
    lm.save_pretrained(tmp_path / "text_lm")
    loaded = load_text_lm(tmp_path / "text_lm")
    assert perplexity(loaded, ["the cat sat on the log"]) < perplexity(loaded, ["log the on mat sat cat"])
    assert perplexity(loaded, ["the cat"]) == pytest.approx(perplexity(lm, ["the cat"]))


def test_evs_prosody_metrics_by_hand():
    reference = np.array([1.0, 2.0, 3.0])
    samples = [np.array([1.0, 2.0, 4.0]), np.array([0.0, 0.0, 0.0]), np.array([1.0, np.nan, 3.5])]
    # MAEs: 1/3, 2, (0 + 0.5)/2 = 0.25 (NaN frame ignored) -> min 0.25; second prompt exact -> 0
    assert min_mae([reference, reference], [samples, [reference.copy()]]) == pytest.approx(0.125)
    prompts = [np.array([1.0, 1.0]), np.array([2.0, 2.0]), np.array([3.0, 3.0])]
    assert consistency(prompts, [p * 2 + 1 for p in prompts]) == pytest.approx(1.0)
    assert consistency(prompts, [-p for p in prompts]) == pytest.approx(-1.0)
    assert expressiveness([np.array([1.0, 3.0]), np.array([5.0, 5.0])]) == pytest.approx(0.5)


@pytest.mark.slow
def test_evs_hf_causal_lm_scores_every_token(tmp_path):
    pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from spokenlm.eval.genppl import HFCausalLM
    from spokenlm.models.tiny_text_lm import write_tiny_llama

    words = ["<pad>", "<s>", "</s>", "<unk>", "the", "cat", "sat"]
    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    write_tiny_llama(tmp_path / "hf", vocab_size=len(words), dim=16, n_layers=1, n_heads=2, n_kv_heads=1, ffn_dim=32)
    PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>").save_pretrained(tmp_path / "hf")
    lm = load_text_lm(tmp_path / "hf")
    assert isinstance(lm, HFCausalLM)
    (logprob, count), = lm.text_logprobs(["the cat sat"])
    assert count == 4 and logprob < 0  # three words and the end of text
    # a random model is about as perplexed as a uniform guess over its 7 ids
    assert 2 < perplexity(lm, ["the cat sat", "sat the cat"]) < 20
