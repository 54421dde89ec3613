"""Instruction examples from a synthesized corpus's supervisions: every task, held-out voices per attribute class,
spoken requests, text-only material without held-out stories, JSONL round trip and bad lines."""

from __future__ import annotations

import pytest

from spokenlm.data.instructions import (
    Example,
    check_held_out,
    command_answer,
    command_sentences,
    cut_examples,
    read_examples,
    text_examples,
    write_examples,
)
from spokenlm.data.manifests import make_supervision
from spokenlm.data.stories import story
from spokenlm.data.tts.attributes import voice_attributes
from spokenlm.errors import ManifestError


def supervision(text: str, voice: str, split: str, doc: str = "story-00003", index: int = 3):
    return make_supervision("u", "u", 0.0, 1.0, text, voice, split, doc_id=doc, sentence_index=index)


def test_voice_attributes_from_engine_metadata() -> None:
    assert voice_attributes("espeak-ng:en-gb+f2") == voice_attributes("espeak-ng:en-gb-x-rp+f5")
    assert voice_attributes("espeak-ng:en-gb+f2").gender == "female" and voice_attributes("espeak-ng:en-us+m3").accent == "american"
    assert voice_attributes("flite:awb").accent == "scottish" and voice_attributes("festival:cmu_us_slt_arctic_hts").gender == "female"
    assert voice_attributes("espeak-ng:en-us+klatt").gender is None  # a variant without a gender letter
    assert voice_attributes("piper:en_US-lessac-medium").accent is None


def test_every_task_of_a_story_sentence() -> None:
    text = story(3)[3]  # "One day, <hero> found a <adj> <thing> <prep> the <place>."
    examples = {e.task: e for e in cut_examples("cut-1", supervision(text, "espeak-ng:en-gb+f2", "test"), story_seed=0)}
    assert sorted(examples) == ["accent", "asr", "engine", "gender", "qa"]
    assert examples["asr"].answer == text and examples["asr"].instruction == "Transcribe the audio."
    question, answer = examples["qa"].instruction, examples["qa"].answer
    assert question.startswith("What did ") and question.endswith(" find?") and f" {answer} " in text and answer not in question
    assert (examples["gender"].answer, examples["accent"].answer, examples["engine"].answer) == ("female", "british", "espeak-ng")
    assert {e.split for e in examples.values()} == {"test"} and all(e.transcript == text for e in examples.values())
    late = list(cut_examples("cut-2", supervision(story(3)[-1], "flite:kal", "train", index=9), story_seed=0))
    assert "qa" not in {e.task for e in late}  # only the fixed opening sentences have questions


def test_spoken_requests_and_their_answers() -> None:
    requests = command_sentences(6, seed=1)
    assert len(set(requests)) == 6
    assert command_answer("What is the plural of fox?") == "foxes"
    assert command_answer("What is the plural of mouse?") == "mice"
    assert command_answer("Say the word kite two times.") == "kite kite"
    assert command_answer("What number comes after eleven?") == "twelve"
    assert command_answer("Once upon a time, there was a cat named Ben.") is None
    assert all(command_answer(r) for r in requests)
    tasks = {e.task: e.answer for e in cut_examples("c", supervision("Say the word kite two times.", "flite:slt", "train", doc="requests-doc00001", index=0), 0)}
    assert tasks["command"] == "kite kite" and "qa" not in tasks


def test_held_out_voices_per_attribute_class() -> None:
    voices = ["espeak-ng:en-us+m4", "espeak-ng:en-gb+f4", "espeak-ng:en-gb-x-rp+m5", "flite:slt"]
    examples = [e for v in voices for e in cut_examples("c", supervision("Hello there.", v, "test"), 0)]
    assert check_held_out(examples) == {"gender": {"female": 2, "male": 2}, "accent": {"american": 2, "british": 2}}
    with pytest.raises(ManifestError, match=r"gender female: 1"):
        check_held_out([e for e in examples if e.speaker != "flite:slt"])


def test_text_material_never_holds_held_out_stories() -> None:
    train = list(cut_examples("c", supervision(story(3)[3], "flite:kal", "train"), 0))
    test = list(cut_examples("d", supervision(story(4)[3], "flite:slt", "test", doc="story-00004"), 0))
    material = text_examples(train + test, num_stories=6, story_seed=0, held_out_docs={"story-00004"}, ljspeech_sentences=5)
    texts = {e.answer for e in material}
    assert set(story(5)) <= texts and not set(story(4)) & texts
    assert {e.task for e in material} == {"asr", "qa", "gender", "accent", "engine", "text"} and all(e.split == "train" for e in material)
    voice = next(e for e in material if e.task == "gender")
    assert voice.transcript == "a male voice, american accent, by flite" and voice.answer == "male"


def test_examples_round_trip_and_bad_lines(tmp_path) -> None:
    examples = [Example("c:asr", "c", "asr", "Transcribe the audio.", "Hi.", "Hi.", "train", "flite:kal")]
    assert write_examples(tmp_path / "x.jsonl", examples) == 1
    assert read_examples(tmp_path / "x.jsonl") == examples
    (tmp_path / "bad.jsonl").write_text('{"id": "x"}\n')
    with pytest.raises(ManifestError, match=r"bad.jsonl:1: not an instruction example"):
        read_examples(tmp_path / "bad.jsonl")
