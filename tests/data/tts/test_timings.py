"""Phone timings from every TTS engine: well-formed, on the audio, the right phones, near a forced alignment."""

from __future__ import annotations

import difflib
import gzip
import json
import subprocess

import numpy as np
import pytest

from spokenlm.align.phones import ARPABET
from spokenlm.data.tts import espeak, phonemize, synthesize_utterance
from spokenlm.data.tts.arpabet import festival_to_arpabet
from spokenlm.data.tts.flite import parse_psdur
from spokenlm.data.tts.timings import ends_to_segments, segments_to_alignment

SENTENCES = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background. It is easy to tell the depth of a well!",
    "Rice is often served in round bowls.",
]
VOICES = ["espeak-ng:en-us+m3", "espeak-ng:en-gb-scotland+f2", "flite:slt", "flite:kal", "festival:kal_diphone"]


def test_segments_to_alignment_on_a_hand_worked_example():
    ends = [("pau", 0.2), ("hh", 0.3), ("el", 0.5), ("pau", 0.6), ("ax", 0.9)]
    phones, alignment = segments_to_alignment(ends_to_segments(ends, offset_s=1.0), festival_to_arpabet, duration_s=1.8)
    assert phones == ["HH", "AH", "L", "AH"]
    assert alignment == [("HH", 1.2, 1.3), ("AH", 1.3, 1.4), ("L", 1.4, 1.5), ("AH", 1.6, 1.8)]  # el split; clipped


def test_flite_psdur_places_each_utterance_after_the_previous_wave():
    # Two utterances whose last pauses end 0.1 s after the waves do: each wave is 0.05 s shorter.
    printed = "pau:0.200 hh:0.300 ay:0.500 pau:0.700 \npau:0.200 b:0.250 ay:0.400 pau:0.600 \n"
    phones, alignment = parse_psdur(printed, duration_s=1.2)
    assert phones == ["HH", "AY", "B", "AY"]
    assert alignment == [("HH", 0.2, 0.3), ("AY", 0.3, 0.5), ("B", 0.85, 0.9), ("AY", 0.9, 1.05)]



def test_espeak_phonemes_without_duration_share_the_previous_span():
    from spokenlm.data.tts.espeak_lib import _phoneme_spans

    # espeak-ng reports the final "l" of "well" at the same sample as the pause after it.
    marks = [("", 0), ("w", 5), ("ɛ", 10), ("l", 30), ("", 30), ("", 50)]
    assert _phoneme_spans(marks) == [("", 0, 5), ("w", 5, 10), ("ɛ", 10, 20), ("l", 20, 30), ("", 30, 50)]

@pytest.mark.parametrize("voice", VOICES)
def test_timings_are_ordered_on_the_audio_and_in_the_label_set(voice):
    for text in SENTENCES:
        result = synthesize_utterance(text, voice)
        duration = len(result.wav) / result.sr
        assert result.alignment, f"{voice} gave no timings"
        assert [p for p, _, _ in result.alignment] == result.phones
        assert set(result.phones) <= set(ARPABET)
        starts = np.array([a for _, a, _ in result.alignment])
        ends = np.array([b for _, _, b in result.alignment])
        assert np.all(starts < ends) and np.all(starts[1:] >= ends[:-1] - 1e-4)
        assert starts[0] >= 0.0 and ends[-1] <= duration + 1e-4
        assert ends[-1] > duration - 0.5  # speech runs to the final pause
        # The phones fill most of the audio: the gaps are pauses, not missing phones.
        assert (ends - starts).sum() > 0.6 * duration


@pytest.mark.parametrize("voice", ["espeak-ng:en-us+m3", "espeak-ng:en-gb-scotland+f2"])
def test_espeak_phones_are_its_own_transcription(voice):
    accent = voice.split(":")[1].split("+")[0]
    for text in SENTENCES:
        assert synthesize_utterance(text, voice).phones == espeak.phonemize(text, accent)


@pytest.mark.parametrize("voice", ["flite:slt", "flite:kal", "festival:kal_diphone", "espeak-ng:en-us+m3"])
def test_phones_agree_with_the_dictionary(voice):
    for text in SENTENCES:
        spoken = synthesize_utterance(text, voice).phones
        assert difflib.SequenceMatcher(None, spoken, phonemize(text), autojunk=False).ratio() > 0.85, (voice, text)


def test_espeak_library_audio_is_the_command_audio_and_does_not_depend_on_history(tmp_path):
    from spokenlm.audio.io import load_audio

    text = SENTENCES[1]
    first = synthesize_utterance(text, "espeak-ng:en-gb-scotland+f2", sr=22050).wav
    synthesize_utterance(SENTENCES[0], "espeak-ng:en-us+m3")  # another voice and text in between
    again = synthesize_utterance(text, "espeak-ng:en-gb-scotland+f2", sr=22050).wav
    assert np.array_equal(first, again)
    # Every accent (``en-gb`` is found by language, as ``espeak-ng -v`` finds it) gives the command's samples.
    for accent in espeak._accents():
        voice = f"{accent}+m2"
        out = tmp_path / f"{voice}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(out), SENTENCES[0]], check=True)
        mine = synthesize_utterance(SENTENCES[0], f"espeak-ng:{voice}", sr=22050).wav
        assert np.array_equal(mine, load_audio(out, 22050)[0]), voice


@pytest.mark.slow
@pytest.mark.parametrize("voice", ["espeak-ng:en-us+m3", "flite:slt", "flite:kal"])
def test_boundaries_are_near_a_pocketsphinx_forced_alignment(voice):
    from spokenlm.align.pocketsphinx_aligner import align

    text = SENTENCES[0]
    result = synthesize_utterance(text, voice)
    forced = [s for s in align(result.wav, result.sr, text, source=voice) if s.phone != "SIL"]
    engine = result.alignment
    matcher = difflib.SequenceMatcher(None, [p for p, _, _ in engine], [s.phone for s in forced], autojunk=False)
    pairs = [(engine[block.a + k], forced[block.b + k]) for block in matcher.get_matching_blocks() for k in range(block.size)]
    assert len(pairs) >= 0.8 * len(engine)
    differences = [abs(mine[1] - theirs.start) for mine, theirs in pairs] + [abs(mine[2] - theirs.end) for mine, theirs in pairs]
    assert np.mean(differences) < 0.04, f"{voice}: mean boundary difference {np.mean(differences):.3f} s"


@pytest.mark.slow
def test_synth_stores_timings_for_every_engine(tmp_path):
    from spokenlm.data.synth import SynthConfig, build_corpus

    source = tmp_path / "text.txt"
    source.write_text("\n\n".join(SENTENCES) + "\n")
    voices = ["espeak-ng:en-us+m1", "flite:slt", "festival:kal_diphone", "flite:awb"]
    config = SynthConfig(source=str(source), voices=voices, test_voices=1, voices_per_sentence=3,
                         dev_fraction=0.0, test_fraction=0.34, workers=1)
    result = build_corpus(config, tmp_path / "corpus")
    assert not result.failures
    with gzip.open(tmp_path / "corpus" / "supervisions.jsonl.gz", "rt") as handle:
        supervisions = [json.loads(line) for line in handle]
    assert {s["custom"]["engine"] for s in supervisions} == {"espeak-ng", "flite", "festival"}
    for sup in supervisions:
        alignment = sup["custom"]["alignment"]
        assert [p for p, _, _ in alignment] == sup["custom"]["phonemes"].split()
        assert 0.0 <= alignment[0][1] and alignment[-1][2] <= sup["duration"] + 1e-4
