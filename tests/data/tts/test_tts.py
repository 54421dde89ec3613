"""spokenlm.data.tts: voices, synthesis per engine, phoneme input, phonemization, errors naming voice and text."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from spokenlm.data.tts import TTSError, Voice, available_voices, phonemize, synthesize, synthesize_phonemes, synthesize_utterance
from spokenlm.data.tts.arpabet import arpabet_to_espeak, arpabet_to_festival, parse_espeak_ipa, strip_stress
from spokenlm.errors import SpokenLMError


def test_voice_parse_and_id():
    voice = Voice.parse("espeak-ng:en-us+m3")
    assert voice == Voice("espeak-ng", "en-us+m3")
    assert voice.id == "espeak-ng:en-us+m3"
    assert voice.slug == "espeak-ng_en-us_m3"
    assert Voice.parse(voice) is voice
    with pytest.raises(SpokenLMError, match="engine:name"):
        Voice.parse("en-us")


def test_available_voices_cover_the_debian_engines():
    voices = available_voices()
    ids = {v.id for v in voices}
    assert {"flite:kal", "flite:awb", "flite:rms", "flite:slt", "festival:kal_diphone", "espeak-ng:en-us+m3", "espeak-ng:en-gb-scotland+f2"} <= ids
    assert "flite:awb_time" not in ids
    assert all(v.engine == "flite" for v in available_voices(["flite"]))
    with pytest.raises(TTSError, match="unknown engine"):
        available_voices(["nope"])


@pytest.mark.parametrize("voice", ["espeak-ng:en-gb-scotland+f2", "flite:slt", "festival:kal_diphone"])
def test_synthesize_gives_mono_float32_at_the_requested_rate(voice):
    text = "The birch canoe slid on the smooth planks."
    result = synthesize_utterance(text, voice, sr=16000)
    assert result.wav.dtype == np.float32 and result.wav.ndim == 1
    assert 1.5 < result.wav.size / 16000 < 6.0
    assert np.max(np.abs(result.wav)) > 0.05
    # Phones from the engine, ARPAbet without stress: the sentence starts with "the birch".
    assert result.phones[:4] == ["DH", "AH", "B", "ER"]
    wav8k = synthesize(text, voice, sr=8000)
    assert abs(wav8k.size / 8000 - result.wav.size / 16000) < 0.02


def test_festival_gives_phone_timings_inside_the_audio():
    result = synthesize_utterance("Hello world.", "festival:kal_diphone")
    phones = [p for p, _, _ in result.alignment]
    assert phones == ["HH", "AH", "L", "OW", "W", "ER", "L", "D"]
    ends = [b for _, _, b in result.alignment]
    assert all(a < b for _, a, b in result.alignment) and ends == sorted(ends)
    assert ends[-1] <= result.wav.size / result.sr


def test_ked_voices_er_as_one_phone_like_the_other_voices():
    """ked_diphone speaks every ER as the diphone pair ``er r``; its references read one ER, as CMUdict and kal do."""
    kal = synthesize_utterance("The bird heard her.", "festival:kal_diphone")
    ked = synthesize_utterance("The bird heard her.", "festival:ked_diphone")
    assert [p for p, _, _ in ked.alignment] == [p for p, _, _ in kal.alignment] == ["DH", "AH", "B", "ER", "D", "HH", "ER", "D", "HH", "ER"]
    starts, ends = [a for _, a, _ in ked.alignment], [b for _, _, b in ked.alignment]
    assert starts[1:] == ends[:-1]  # the merged ER reaches to where its r ended: no gap


def test_festival_session_is_reused_and_restarted_when_it_dies():
    from spokenlm.data.tts import festival, festival_session

    voice = Voice.parse("festival:kal_diphone")
    first = festival.synthesize_phonemes(["B", "L", "IH1", "K"], voice, 16000)
    session = festival_session._SESSIONS["kal_diphone"]
    second = festival.synthesize_phonemes(["S", "T", "AA1", "P"], voice, 16000)
    assert festival_session._SESSIONS["kal_diphone"] is session  # one festival process serves both
    assert (first.phones, second.phones) == (["B", "L", "IH", "K"], ["S", "T", "AA", "P"])
    session.proc.kill()
    session.proc.wait()
    again = festival.synthesize_phonemes(["B", "L", "IH1", "K"], voice, 16000)
    assert festival_session._SESSIONS["kal_diphone"] is not session
    assert np.array_equal(again.wav, first.wav)


def test_errors_name_the_voice_and_the_text():
    with pytest.raises(TTSError, match=r"espeak-ng:xx-nope\+m1.*voice does not exist.*'hello there'"):
        synthesize("hello there", "espeak-ng:xx-nope+m1")
    with pytest.raises(TTSError, match=r"flite:nope: voice not installed.*'hello'"):
        synthesize("hello", "flite:nope")
    with pytest.raises(TTSError, match=r"festival:nope: voice not installed"):
        synthesize("hello", "festival:nope")
    with pytest.raises(TTSError, match="empty text"):
        synthesize("  ", "flite:slt")
    with pytest.raises(TTSError, match="unknown engine"):
        synthesize("hello", "sam:robot")
    with pytest.raises(TTSError, match=r"flite:slt: flite has no phoneme input.*'B L IH1 K'"):
        synthesize_phonemes(["B", "L", "IH1", "K"], "flite:slt")


@pytest.mark.parametrize("voice", ["espeak-ng:en-us+f3", "festival:kal_diphone"])
def test_synthesize_phonemes_speaks_a_pseudo_word(voice):
    wav = synthesize_phonemes(["B", "L", "IH1", "K", "AH0", "T"], voice)
    assert wav.dtype == np.float32 and 0.3 < wav.size / 16000 < 2.0
    with pytest.raises(SpokenLMError, match="not a CMUdict ARPAbet phone"):
        synthesize_phonemes(["B", "Q"], voice)


def test_espeak_reads_back_the_phoneme_string_it_is_given():
    word = ["HH", "AH0", "L", "OW1"]
    assert arpabet_to_espeak(word) == "h@l'oU"
    out = subprocess.run(["espeak-ng", "-q", "-x", f"[[{arpabet_to_espeak(word)}]]"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "h@l'oU"
    # espeak-ng says "hello" the same way from text.
    assert subprocess.run(["espeak-ng", "-q", "-x", "hello"], capture_output=True, text=True).stdout.strip() == "h@l'oU"


def test_phone_tables_on_hand_worked_examples():
    assert parse_espeak_ipa("h_ə_l_ˈoʊ w_ˈɜː_l_d\nð_ə") == ["HH", "AH", "L", "OW", "W", "ER", "L", "D", "DH", "AH"]
    assert parse_espeak_ipa("h_ˈeə f_ˈaɪə") == ["HH", "EH", "R", "F", "AY", "ER"]  # non-rhotic spelled like CMUdict
    assert strip_stress(["AH0", "K", "ER1"]) == ["AH", "K", "ER"]
    assert arpabet_to_festival(["AH0", "B", "AH1"]) == ["ax0", "b", "ah1"]


def test_phonemize_uses_cmudict_and_falls_back_to_espeak():
    assert phonemize("Hello, world!") == ["HH", "AH", "L", "OW", "W", "ER", "L", "D"]
    assert phonemize("hello", stress=True) == ["HH", "AH0", "L", "OW1"]
    assert phonemize("blicketing")[:3] == ["B", "L", "IH"]  # not in CMUdict: espeak-ng
    assert phonemize("7 cats") == ["S", "EH", "V", "AH", "N", "K", "AE", "T", "S"]


def test_piper_is_optional(tmp_path, monkeypatch):
    from spokenlm.data.tts import piper

    monkeypatch.setenv(piper.VOICES_ENV, str(tmp_path))
    (tmp_path / "en_US-test.onnx").write_bytes(b"")
    (tmp_path / "en_US-test.onnx.json").write_text("{}")
    monkeypatch.setattr(piper.shutil, "which", lambda name: None)  # no piper binary here
    assert available_voices(["piper"]) == []
    with pytest.raises(TTSError, match=r"piper:en_US-test: piper is not installed"):
        synthesize("hello", "piper:en_US-test")
