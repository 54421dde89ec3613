"""``spokenlm data synth``: splits disjoint by voice and sentence, deterministic, resumable, failures skipped."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from spokenlm.cli.main import app
from spokenlm.data.check import check_corpus
from spokenlm.data.manifests import load_corpus
from spokenlm.data.synth import LOG, SynthConfig, build_corpus, plan_from_config
from spokenlm.data.synth_plan import select_voices
from spokenlm.data.tts import Voice
from spokenlm.errors import SpokenLMError


def test_test_split_voices_and_sentences_are_disjoint_from_train():
    config = SynthConfig(num_stories=40, num_voices=10, test_voices=3, voices_per_sentence=2, dev_fraction=0.1, test_fraction=0.1)
    jobs = plan_from_config(config)
    by_split = {s: [j for j in jobs if j.split == s] for s in ("train", "dev", "test")}
    voices = {s: {j.voice for j in js} for s, js in by_split.items()}
    texts = {s: {j.text for j in js} for s, js in by_split.items()}
    docs = {s: {j.doc_id for j in js} for s, js in by_split.items()}
    assert all(by_split.values())
    assert not voices["test"] & (voices["train"] | voices["dev"]) and len(voices["test"]) == 3
    identity = {s: {Voice.parse(v).identity for v in vs} for s, vs in voices.items()}
    assert not identity["test"] & identity["train"]
    assert voices["dev"] <= voices["train"]
    assert not texts["test"] & texts["train"] and not texts["dev"] & texts["train"]
    assert not docs["test"] & docs["train"]
    per_text = {}
    for job in by_split["train"]:
        per_text.setdefault(job.text_id, set()).add(job.voice)
    assert all(len(v) == 2 for v in per_text.values())
    assert plan_from_config(config) == jobs
    assert plan_from_config(SynthConfig(**{**config.__dict__, "seed": 1})) != jobs


def test_voice_selection_alternates_engines_and_accents():
    voices = select_voices(["espeak-ng", "flite", "festival"], 12, seed=0, test_voices=2)
    assert voices[-1].engine != voices[-2].engine  # test speakers from two engines
    assert len({v.identity for v in voices}) == 12  # twelve different speakers, not one person under two engines
    assert {v.engine for v in voices[:5]} == {"espeak-ng", "flite", "festival"}
    espeak = [v.name for v in voices if v.engine == "espeak-ng"]
    assert len({n.split("+")[0] for n in espeak}) == len(espeak)  # all accents differ
    assert len({n.split("+")[1] for n in espeak}) == len(espeak)  # all variants differ


def test_mixed_accents_keep_the_speakers_and_the_test_voices():
    base = dict(num_stories=40, num_voices=10, test_voices=2, dev_fraction=0.1, test_fraction=0.1)
    plain, mixed = plan_from_config(SynthConfig(**base)), plan_from_config(SynthConfig(**base, mix_accents=True))
    assert [(j.text_id, j.split) for j in plain] == [(j.text_id, j.split) for j in mixed]  # same sentences, same splits
    for a, b in zip(plain, mixed):
        assert Voice.parse(a.voice).identity == Voice.parse(b.voice).identity  # the same speaker says each sentence
        if a.split == "test" or not a.voice.startswith("espeak-ng:"):
            assert a == b  # test voices and other engines speak as themselves
    train = [Voice.parse(j.voice) for j in mixed if j.split == "train" and j.voice.startswith("espeak-ng:")]
    accents = {v.name.split("+")[0] for v in train}
    plain_accents = {Voice.parse(j.voice).name.split("+")[0] for j in plain if j.split == "train" and j.voice.startswith("espeak-ng:")}
    assert len(accents) > len(plain_accents) and len(accents) >= 6
    assert {j.text_id: j.voice for j in mixed} == {j.text_id: j.voice for j in plan_from_config(SynthConfig(**base, mix_accents=True))}


def test_isolated_words_are_train_words_spoken_by_train_voices():
    base = dict(num_stories=40, num_voices=10, test_voices=2, dev_fraction=0.1, test_fraction=0.1, mix_accents=True)
    plain, words = plan_from_config(SynthConfig(**base)), plan_from_config(SynthConfig(**base, isolated_words=30))
    assert words[: len(plain)] == plain and len(words) == len(plain) + 30  # the sentences are unchanged
    added = words[len(plain):]
    vocabulary = {w.strip(".,!?;:\"").lower() for j in plain if j.split == "train" for w in j.text.split()}
    assert all(j.split == "train" and len(j.text.split()) == 1 and j.text in vocabulary for j in added)
    train_speakers = {Voice.parse(j.voice).identity for j in plain if j.split == "train"}
    assert {Voice.parse(j.voice).identity for j in added} <= train_speakers  # never a test voice
    assert len({j.id for j in words}) == len(words) and len({j.text for j in added}) > 20  # types drawn, not tokens
    assert added == plan_from_config(SynthConfig(**base, isolated_words=30))[len(plain):]  # the plan is reproducible
    with pytest.raises(SpokenLMError, match="isolated_words must be >= 0"):
        plan_from_config(SynthConfig(**base, isolated_words=-1))


SENTENCES = [
    "The birch canoe slid on the smooth planks.", "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.", "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.", "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.", "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.", "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.", "A rod is used to catch pink salmon.",
]


def test_test_voices_must_be_other_speakers():
    assert Voice.parse("flite:slt").identity == Voice.parse("festival:cmu_us_slt_arctic_hts").identity == "slt"
    assert Voice.parse("espeak-ng:en-us+m3").identity == Voice.parse("espeak-ng:en-gb+m3").identity
    config = SynthConfig(source="harvard", voices=["flite:slt", "espeak-ng:en-us+m1", "festival:cmu_us_slt_arctic_hts"], test_voices=1)
    with pytest.raises(SpokenLMError, match="shared: slt"):
        plan_from_config(config)


def _small(tmp_path: Path, **kw) -> SynthConfig:
    """Twelve sentences in six two-sentence documents, three fast voices, one worker."""
    source = tmp_path / "text.txt"
    source.write_text("\n\n".join(f"{a}\n{b}" for a, b in zip(SENTENCES[::2], SENTENCES[1::2])) + "\n")
    base = dict(source=str(source), voices=["espeak-ng:en-us+m1", "flite:slt", "espeak-ng:en-gb-scotland+f2"],
                test_voices=1, dev_fraction=0.2, test_fraction=0.2, workers=1)

    return SynthConfig(**{**base, **kw})


def _manifest_lines(corpus: Path, name: str) -> list[dict]:
    with gzip.open(corpus / name, "rt") as handle:
        return [json.loads(line) for line in handle]


def test_rerun_skips_finished_items_and_repairs_partial_ones(tmp_path):
    out = tmp_path / "corpus"
    config = _small(tmp_path)
    first = build_corpus(config, out)
    assert first.reused == 0 and not first.failures
    before = _manifest_lines(out, "supervisions.jsonl.gz")
    assert len(before) == first.planned == 12
    files = sorted((out / "audio").rglob("*.flac"))
    original, _ = sf.read(files[0])
    files[0].unlink()  # lost
    files[1].write_bytes(files[1].read_bytes()[:300])  # truncated
    log = (out / LOG).read_text().splitlines()
    (out / LOG).write_text("\n".join(log[:-1]) + "\n" + log[-1][:20])  # torn last line
    (files[2].parent / f".{files[2].name}.tmp").write_bytes(b"partial")  # a worker died while writing
    redo = {files[0].stem, files[1].stem, json.loads(log[-1])["id"]}
    second = build_corpus(config, out)
    assert second.reused == 12 - len(redo)
    assert _manifest_lines(out, "supervisions.jsonl.gz") == before
    assert np.array_equal(sf.read(files[0])[0], original)  # same seed, same audio
    assert not list((out / "audio").rglob(".*.tmp"))
    assert check_corpus(out, require_text=True).ok
    assert build_corpus(config, out).reused == 12
    # Edited text under the same line number is synthesized again, not reused.
    source = Path(config.source)
    source.write_text(source.read_text().replace(SENTENCES[0], "A new first sentence."))
    assert build_corpus(config, out).reused == 11


def test_a_failing_voice_is_reported_and_skipped(tmp_path):
    out = tmp_path / "corpus"
    config = _small(tmp_path, voices=["espeak-ng:en-us+m1", "flite:no-such-voice", "flite:slt"])
    result = build_corpus(config, out)
    assert result.failures and all("flite:no-such-voice: voice not installed" in f for f in result.failures)
    speakers = {s.speaker for s in load_corpus(out).supervisions}
    assert "flite:no-such-voice" not in speakers and "flite:slt" in speakers
    assert sum(result.stats.utterances.values()) == result.planned - len(result.failures)
    assert check_corpus(out).ok


def test_an_engine_crash_on_one_sentence_is_logged_and_the_run_goes_on(tmp_path, monkeypatch):
    import spokenlm.data.tts as tts

    real = tts.synthesize_utterance

    def flaky(text, voice, sr=16000):
        if text == SENTENCES[1]:
            raise RuntimeError("engine crashed")
        return real(text, voice, sr)

    monkeypatch.setattr(tts, "synthesize_utterance", flaky)
    out = tmp_path / "corpus"
    result = build_corpus(_small(tmp_path), out)
    (failure,) = result.failures
    assert "unexpected RuntimeError: engine crashed" in failure and SENTENCES[1] in failure
    assert sum(result.stats.utterances.values()) == 11
    monkeypatch.setattr(tts, "synthesize_utterance", real)
    assert build_corpus(_small(tmp_path), out).reused == 11  # the rerun retries only the failed one
    assert len(list(load_corpus(out).cuts)) == 12


@pytest.mark.slow
def test_cli_synth_end_to_end_then_check(tmp_path):
    out = tmp_path / "corpus"
    runner = CliRunner()
    args = ["data", "synth", str(out), "num_stories=3", "num_voices=5", "test_voices=1", "dev_fraction=0.3", "test_fraction=0.3", "workers=2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "total" in result.output
    assert (out / "config.yaml").read_text().count("num_voices: 5") == 1
    corpus = load_corpus(out)
    sups = list(corpus.supervisions)
    assert {s.custom["split"] for s in sups} == {"train", "dev", "test"}
    assert len({s.speaker for s in sups}) == 5
    for sup in sups:
        assert sup.text and sup.language == "en" and sup.custom["phonemes"]
        assert set(sup.custom["phonemes"].split()) <= {p for p in "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH".split()}
        assert sup.custom["engine"] == sup.speaker.split(":")[0]
        if sup.custom["engine"] == "festival":
            assert sup.custom["alignment"][-1][2] <= sup.duration
    recordings = list(corpus.recordings)
    assert {r.sampling_rate for r in recordings} == {16000}
    checked = runner.invoke(app, ["data", "check", str(out), "--require-text"])
    assert checked.exit_code == 0, checked.output
    rerun = runner.invoke(app, args)
    assert rerun.exit_code == 0 and "reused" in rerun.output
