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


def test_meant_vs_said_by_hand() -> None:
    from spokenlm.align.phones import PHONE_SET
    from spokenlm.eval.phone_error import meant_vs_said

    ids = {phone: i for i, phone in enumerate(PHONE_SET)}
    # the LM meant SIL K K AE T SIL (deduplicated units may repeat across a blank-free boundary): K AE T, 3 phones;
    # the listener heard "the cat": DH AH K AE T, two insertions. Then "dog" meant and heard: D AO G, no error.
    cat = [ids[p] for p in ("SIL", "K", "K", "AE", "T", "SIL")]
    dog = [ids[p] for p in ("D", "AO", "G")]
    scores = meant_vs_said([(cat, "The cat")], PHONE_SET)
    assert scores["per"] == pytest.approx(2 / 3) and scores["insertions"] == pytest.approx(2 / 3) and scores["phones"] == 3
    pooled = meant_vs_said([(cat, "The cat"), (dog, "dog")], PHONE_SET)
    assert pooled["per"] == pytest.approx(2 / 6) and pooled["utterances"] == 2
    # heard nothing at all: every meant phone is deleted
    assert meant_vs_said([(dog, "")], PHONE_SET)["deletions"] == pytest.approx(1.0)


def test_generation_reports_meant_vs_said_at_the_fixed_temperature(ljspeech_clips, tmp_path) -> None:
    """A phone tokenizer (it lists ``phones``) gets the phone error rate per temperature and at phone_temperature,
    over continuations voiced for at least phone_min_seconds only."""
    import shutil

    import numpy as np
    from helpers.eval_toys import ClipVoicer, EnergyTokenizer, LengthASR, RepeatContinuer

    from spokenlm.audio.io import load_audio
    from spokenlm.errors import ConfigError
    from spokenlm.eval.generative import GenerateEvalConfig, evaluate_generation, phone_agreement, read_prompt_audio
    from spokenlm.eval.textlm import train_word_lm

    class PhoneEnergyTokenizer(EnergyTokenizer):
        phones = ("SIL", "K", "AE", "T", "D", "AO", "G", "S")

    for clip in ljspeech_clips[:3]:
        shutil.copy(clip, tmp_path / clip.name)
    prompts, _ = read_prompt_audio(tmp_path, seconds=2.0)
    clips = [load_audio(c, 16000) for c in ljspeech_clips[3:6]]
    config = GenerateEvalConfig(temperatures=[0.5, 1.0], continuation_seconds=0.4, prosody_samples=0, phone_temperature=1.0, phone_min_seconds=1.5)
    text_lm = train_word_lm(LengthASR.SENTENCES * 3, min_count=1)
    results = evaluate_generation(prompts, PhoneEnergyTokenizer(), RepeatContinuer(), ClipVoicer(clips), LengthASR(), text_lm, config, tmp_path / "out")
    said = results["meant_vs_said"]
    kept = [s for s in results["samples"] if s["temperature"] == 1.0 and s["seconds"] >= 1.5]
    assert 0 < len(kept) and said["temperature"] == 1.0 and said["min_seconds"] == 1.5 and said["continuations"] == len(kept)
    assert [row["phone_continuations"] for row in results["temperatures"]][1] == len(kept)
    # the same numbers from the kept continuations by hand: RepeatContinuer's units at T=1.0 are seeded (seed 0 + index 1)
    units = RepeatContinuer().continue_units([np.zeros(8, np.int64)] * len(prompts), 20, 1.0, 1)
    by_id = {p.prompt_id: u for p, u in zip(prompts, units)}
    expected = phone_agreement([(by_id[s["prompt_id"]], s["transcript"]) for s in kept], PhoneEnergyTokenizer.phones)
    assert said["per"] == pytest.approx(expected["per"]) and said["auto_bleu2"] == pytest.approx(expected["auto_bleu2"])
    with pytest.raises(ConfigError, match="phone_temperature=0.8 is not one of temperatures"):
        evaluate_generation(prompts, PhoneEnergyTokenizer(), RepeatContinuer(), ClipVoicer(clips), LengthASR(), text_lm,
                            GenerateEvalConfig(temperatures=[0.5], phone_temperature=0.8), tmp_path / "out2")


def test_a_tokenizer_is_scored_against_each_cuts_phones_per_speaker(tmp_path) -> None:
    """A stand-in tokenizer that hears each utterance (in order) as its reference with the first phone replaced by ``ZH``
    (which the sentences never start with): one substitution per utterance, speaker by speaker."""
    from spokenlm.align.formats import supervision_phones
    from spokenlm.audio.loader import iter_cuts
    from spokenlm.eval.phone_error import tokenizer_phone_error
    from helpers.tts_corpus import build_tts_corpus

    cuts = list(iter_cuts(build_tts_corpus(tmp_path, ["The birch canoe slid.", "Glue the sheet."], voices=("espeak-ng:en-us+m3", "flite:slt"))))
    references = [phone_sequence([s.phone for s in supervision_phones(c.supervisions[0])]) for c in cuts]

    class Stub:
        sample_rate = 16000
        heard = iter(references)

        def encode(self, wav, sr):
            return [["ZH", *next(self.heard)[1:]]]

        def phone_labels(self, tokens):
            return tokens

    scores = tokenizer_phone_error(Stub(), cuts)
    assert scores["utterances"] == 4 and scores["phones"] == sum(len(r) for r in references)
    assert scores["per"] == pytest.approx(4 / scores["phones"]) and scores["substitutions"] == scores["per"]
    for voice in ("voice0", "voice1"):
        mine = [r for c, r in zip(cuts, references) if c.supervisions[0].speaker == voice]
        assert scores[f"per:{voice}"] == pytest.approx(len(mine) / sum(len(r) for r in mine))
