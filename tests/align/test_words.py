"""Word alignments: engine phones grouped into words, pocketsphinx words, the word tier in lhotse manifests, ``data align``."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from spokenlm.align.formats import supervision_words, with_words
from spokenlm.align.lexicon import text_to_words
from spokenlm.align.phones import PhoneSegment
from spokenlm.align.pocketsphinx_aligner import default_aligner
from spokenlm.align.words import WordSegment, group_phones
from spokenlm.audio.io import load_audio
from spokenlm.cli import app
from spokenlm.data.manifests import load_corpus, make_recording, make_supervision, write_corpus
from spokenlm.data.tts import synthesize_utterance
from helpers.paths import ASSETS

CLIP = ASSETS / "librivox" / "sense_and_sensibility_01_austen_64kb-0870"
SENTENCES = ["The little dog ran to the old red barn.", "She found a small box under the big tree in the garden.",
             "Tom and his sister walked home after school that day."]
LEXICON = {"a": ["AH"], "cat": ["K", "AE", "T"], "sat": ["S", "AE", "T"], "oh": ["OW"]}


def _phones(*items: tuple[str, float, float]) -> list[PhoneSegment]:
    return [PhoneSegment(*item) for item in items]


def test_group_phones_by_hand() -> None:
    # the engine says "a cat sat" as AH K AE T S EH T with a pause: a substitution (EH for AE), pauses ignored
    phones = _phones(("SIL", 0.0, 0.1), ("AH", 0.1, 0.2), ("K", 0.2, 0.3), ("AE", 0.3, 0.4), ("T", 0.4, 0.5),
                     ("SIL", 0.5, 0.6), ("S", 0.6, 0.7), ("EH", 0.7, 0.8), ("T", 0.8, 0.9))
    assert group_phones(["a", "cat", "sat"], phones, LEXICON.get) == [
        WordSegment("a", 0.1, 0.2), WordSegment("cat", 0.2, 0.5), WordSegment("sat", 0.6, 0.9)]
    # an inserted phone (the engine's extra HH) joins the word before it; a word none of whose phones were spoken is None
    phones = _phones(("K", 0.0, 0.1), ("AE", 0.1, 0.2), ("T", 0.2, 0.3), ("HH", 0.3, 0.4), ("S", 0.4, 0.5), ("AE", 0.5, 0.6), ("T", 0.6, 0.7))
    assert group_phones(["cat", "sat"], phones, LEXICON.get) == [WordSegment("cat", 0.0, 0.4), WordSegment("sat", 0.4, 0.7)]
    # ... where a dictionary word stands, the phone is a substitution: HH is "oh"'s; without it "oh" has no phone
    assert group_phones(["cat", "oh", "sat"], phones, LEXICON.get)[1] == WordSegment("oh", 0.3, 0.4)
    assert group_phones(["cat", "oh", "sat"], phones[:3] + phones[4:], LEXICON.get) == [
        WordSegment("cat", 0.0, 0.3), None, WordSegment("sat", 0.4, 0.7)]
    # a word without a pronunciation is unaligned too
    assert group_phones(["cat", "zzz"], phones[:3], LEXICON.get) == [WordSegment("cat", 0.0, 0.3), None]


def test_word_tier_round_trips_through_a_supervision() -> None:
    sup = make_supervision("u1", "r1", 1.5, 2.0, "a cat", "spk", "train")
    words = [WordSegment("a", 0.1, 0.2), WordSegment("cat", 0.25, 0.7)]
    stored = with_words(sup, words)
    assert stored.alignment["word"][1].start == pytest.approx(1.75)  # lhotse keeps tiers on the supervision's time axis
    assert supervision_words(stored) == words and supervision_words(sup) is None
    assert supervision_words(stored.with_offset(-1.5), start=1.5) == words  # as a cut starting at 1.5 s holds it


@pytest.mark.slow
def test_pocketsphinx_word_starts_match_the_tts_word_times() -> None:
    """Word starts (the boundaries interleaving switches at) of pocketsphinx on synthesized speech lie within 40 ms of the
    engine's phone timings grouped into words for >= 90 % of words. (Word ends are looser: pocketsphinx gives the
    closure of a final stop to the pause after it.)"""
    errors = []
    for voice in ("espeak-ng:en-us+m3", "flite:slt", "festival:kal_diphone"):
        for text in SENTENCES:
            spoken = synthesize_utterance(text, voice, 16000)
            engine = group_phones(text_to_words(text), _phones(*spoken.alignment))
            forced = default_aligner().align_words(spoken.wav, spoken.sr, text, source=voice)
            assert [w.word for w in forced] == text_to_words(text)
            errors += [abs(e.start - f.start) if e else np.inf for e, f in zip(engine, forced)]
            errors.append(abs(engine[-1].end - forced[-1].end))
    assert np.mean(np.array(errors) <= 0.04) >= 0.9, sorted(errors)[-10:]


@pytest.mark.slow
def test_data_align_stores_word_tiers_and_reports_what_it_skipped(tmp_path) -> None:
    spoken = synthesize_utterance(SENTENCES[0], "flite:slt", 16000)
    from spokenlm.audio.io import save_audio

    save_audio(tmp_path / "tts.wav", spoken.wav, 16000)
    real = CLIP.with_suffix(".wav")
    real_seconds = len(load_audio(real, 16000)[0]) / 16000
    items = [
        (make_recording(tmp_path / "tts.wav", "tts"), [make_supervision("tts", "tts", 0.0, len(spoken.wav) / 16000, SENTENCES[0], "slt",
                                                                         "train", alignment=spoken.alignment)]),
        (make_recording(real, "real"), [make_supervision("real", "real", 0.0, real_seconds, CLIP.with_suffix(".txt").read_text(), "a", "train")]),
        (make_recording(real, "silent"), [make_supervision("mute", "silent", 0.0, real_seconds, "", "a", "train")]),
    ]
    write_corpus(tmp_path / "corpus", items)
    result = CliRunner().invoke(app, ["data", "align", str(tmp_path / "corpus")])
    assert result.exit_code == 0, result.output
    assert "supervisions without a transcript (skipped)" in " ".join(result.output.split())
    corpus = load_corpus(tmp_path / "corpus")
    cuts = {c.id: c for c in corpus.cuts}
    tts_words = supervision_words(cuts["tts"].supervisions[0], 0.0)
    assert [w.word for w in tts_words] == text_to_words(SENTENCES[0])
    grouped = group_phones(text_to_words(SENTENCES[0]), _phones(*spoken.alignment))
    assert [t for w in tts_words for t in (w.start, w.end)] == pytest.approx([t for w in grouped for t in (w.start, w.end)], abs=1e-4)
    real_words = supervision_words(cuts["real"].supervisions[0], 0.0)
    assert [w.word for w in real_words] == text_to_words(CLIP.with_suffix(".txt").read_text())
    assert all(a.end <= b.start + 1e-6 for a, b in zip(real_words, real_words[1:]))
    assert supervision_words(cuts["mute"].supervisions[0], 0.0) is None
    assert {s.id: supervision_words(s) is not None for s in corpus.supervisions} == {"tts": True, "real": True, "mute": False}
    again = CliRunner().invoke(app, ["data", "align", str(tmp_path / "corpus")])  # a rerun keeps the tiers
    assert again.exit_code == 0 and supervision_words(next(iter(load_corpus(tmp_path / "corpus").cuts)).supervisions[0], 0.0) == tts_words
