"""Forced alignment with pocketsphinx, alignment readers, frame labels."""

from pathlib import Path

import numpy as np
import pytest

from spokenlm.align.agreement import boundary_agreement
from spokenlm.align.formats import read_pocketsphinx_json, supervision_phones, with_phones
from spokenlm.align.lexicon import text_to_words
from spokenlm.align.phones import PhoneSegment, frame_labels, normalize_phone
from spokenlm.align.pocketsphinx_aligner import AlignmentError, align
from spokenlm.audio.io import load_audio
from spokenlm.errors import SpokenLMError
from helpers.paths import ASSETS

LIBRIVOX = ASSETS / "librivox"
CLIP = LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0870"


def test_normalize_phone_and_words():
    assert normalize_phone("ah0") == "AH"
    assert normalize_phone("<sil>") == "SIL" and normalize_phone("+NSN+") == "SIL"
    assert text_to_words("Hello, World! It's 'quoted' in 1984.") == ["hello", "world", "it's", "quoted", "in", "1984"]


def test_frame_labels_use_frame_centres():
    segments = [PhoneSegment("SIL", 0.0, 0.1), PhoneSegment("AA", 0.1, 0.25), PhoneSegment("B", 0.25, 0.3)]
    # 20 Hz frames: centres at 0.025, 0.075, 0.125, 0.175, 0.225, 0.275, 0.325
    assert frame_labels(segments, 20.0, 7) == ["SIL", "SIL", "AA", "AA", "AA", "B", "SIL"]


def test_align_matches_reference_alignment():
    wav, sr = load_audio(CLIP.with_suffix(".wav"), 16000)
    hypothesis = align(wav, sr, CLIP.with_suffix(".txt").read_text())
    reference = read_pocketsphinx_json(CLIP.with_suffix(".phone.json"))
    assert [s.phone for s in hypothesis] == [s.phone for s in reference]
    agreement = boundary_agreement(reference, hypothesis, tolerance=0.02)
    assert agreement.within_tolerance > 0.95 and agreement.frame_agreement > 0.95
    # alignment at another sample rate gives the same phones
    wav44 = load_audio(CLIP.with_suffix(".wav"), 44100)[0]
    assert [s.phone for s in align(wav44, 44100, CLIP.with_suffix(".txt").read_text())] == [s.phone for s in hypothesis]


def test_boundary_agreement_hand_worked():
    ref = [PhoneSegment("A", 0.0, 0.1), PhoneSegment("B", 0.1, 0.2), PhoneSegment("C", 0.2, 0.3)]
    hyp = [PhoneSegment("A", 0.0, 0.11), PhoneSegment("B", 0.11, 0.25), PhoneSegment("C", 0.25, 0.3)]
    result = boundary_agreement(ref, hyp, tolerance=0.02)
    assert result.boundaries == 2
    assert result.within_tolerance == pytest.approx(0.5)
    assert result.mean_abs_error == pytest.approx((0.01 + 0.05) / 2)
    assert result.frame_agreement == pytest.approx(24 / 30)


@pytest.mark.parametrize(
    ("text", "wav", "reason"),
    [
        ("", np.full(16000, 0.1, np.float32), "no words"),
        ("hello", np.zeros(16000, np.float32), "silent"),
        ("hello", np.full(16000, np.nan, np.float32), "non-finite"),
    ],
)
def test_align_errors_name_the_source(text, wav, reason):
    with pytest.raises(AlignmentError, match=rf"bad\.wav: alignment failed .*{reason}"):
        align(wav, 16000, text, source="bad.wav")


def test_out_of_dictionary_words(monkeypatch):
    from spokenlm.align import pocketsphinx_aligner
    from spokenlm.align.lexicon import pronunciation

    assert pronunciation("schoeffer") == ["S", "K", "OW", "F", "ER"]  # espeak-ng letter-to-sound, not in CMUdict
    monkeypatch.setattr(pocketsphinx_aligner, "pronunciation", lambda word: None)
    with pytest.raises(AlignmentError, match=r"oov\.wav: .*no pronunciation .* for: qzxqzv"):
        align(np.full(16000, 0.1, np.float32), 16000, "hello qzxqzv", source="oov.wav")


def test_align_error_when_text_does_not_fit_audio():
    wav, sr = load_audio(CLIP.with_suffix(".wav"), 16000)
    with pytest.raises(AlignmentError, match="short.wav"):
        align(wav[:1600], sr, CLIP.with_suffix(".txt").read_text(), source="short.wav")


def test_supervision_alignment_round_trip():
    from lhotse import SupervisionSegment

    segments = [PhoneSegment("SIL", 0.0, 0.2), PhoneSegment("HH", 0.2, 0.3), PhoneSegment("AH", 0.3, 0.45)]
    supervision = SupervisionSegment("s", "rec", start=1.5, duration=0.45)
    assert supervision_phones(supervision) is None
    restored = supervision_phones(with_phones(supervision, segments))
    assert [s.phone for s in restored] == ["SIL", "HH", "AH"]
    np.testing.assert_allclose([s.end for s in restored], [0.2, 0.3, 0.45], atol=1e-6)
    # lhotse's own phone tier, on the recording's time axis
    from lhotse.supervision import AlignmentItem

    native = supervision.with_alignment("phones", [AlignmentItem("hh", 1.7, 0.1), AlignmentItem("ah0", 1.8, 0.15)])
    assert supervision_phones(native) == [PhoneSegment("HH", pytest.approx(0.2), pytest.approx(0.3)), PhoneSegment("AH", pytest.approx(0.3), pytest.approx(0.45))]


def test_reader_rejects_broken_file(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    with pytest.raises(SpokenLMError, match="broken.json"):
        read_pocketsphinx_json(bad)
