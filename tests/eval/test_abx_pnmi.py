"""ABX and PNMI against hand-worked examples."""

import numpy as np
import pytest

from spokenlm.align.phones import PhoneSegment
from spokenlm.eval.abx import AbxConfig, abx_error, abx_items, dtw_distances
from spokenlm.eval.pnmi import phone_unit_scores


def test_pnmi_hand_worked():
    perfect = phone_unit_scores(["a", "a", "b", "b"], [0, 0, 1, 1])
    assert (perfect.pnmi, perfect.phone_purity, perfect.cluster_purity) == pytest.approx((1.0, 1.0, 1.0))
    one_unit = phone_unit_scores(["a", "a", "b", "b"], [0, 0, 0, 0])
    assert (one_unit.pnmi, one_unit.phone_purity, one_unit.cluster_purity) == pytest.approx((0.0, 0.5, 1.0))
    mixed = phone_unit_scores(["a", "a", "a", "b"], [0, 0, 1, 1])
    h_phone = -(0.75 * np.log(0.75) + 0.25 * np.log(0.25))
    assert mixed.pnmi == pytest.approx((h_phone - 0.5 * np.log(2)) / h_phone)
    assert mixed.phone_purity == pytest.approx(0.75)
    assert mixed.cluster_purity == pytest.approx(0.75)
    assert mixed.frames == 4


def test_pnmi_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="3 phone labels but 2 units"):
        phone_unit_scores(["a", "b", "c"], [0, 1])


def test_dtw_hand_worked():
    x = np.array([[1.0, 0.0]])
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    # path (0,0) → (0,1): costs 0 and 1/2 (90° / 180°), length 2
    assert dtw_distances([(x, y)], "angular")[0] == pytest.approx(0.25)
    # an all-zero frame is at distance 1 from any other frame and 0 from another all-zero frame (ZeroSpeech's rule)
    zero = np.zeros((1, 2))
    np.testing.assert_allclose(dtw_distances([(zero, x), (zero, zero), (np.vstack([zero, x]), x)], "angular"), [1.0, 0.0, 0.5])
    units = dtw_distances([(np.array([1, 1, 2]), np.array([1, 2])), (np.array([3]), np.array([1, 2]))], "hamming")
    np.testing.assert_allclose(units, [0.0, 1.0])


def _toy_corpus(swap_second_speaker: bool):
    """Two speakers, three utterances each of SIL a b a b SIL a … with 3 frames per phone.

    Phone ``a`` frames point along [1, 0], ``b`` along [0, 1] (swapped for the second speaker when asked).
    """
    alignments, speakers, features, units = {}, {}, {}, {}
    phones = ["SIL", "a", "b", "a", "b", "a", "b", "SIL"]
    for speaker in ("s1", "s2"):
        for n in range(3):
            utt = f"{speaker}-{n}"
            alignments[utt] = [PhoneSegment(p, 0.03 * i, 0.03 * (i + 1)) for i, p in enumerate(phones)]
            speakers[utt] = speaker
            swap = swap_second_speaker and speaker == "s2"
            vectors = {"SIL": [1.0, 1.0], "a": [0.0, 1.0] if swap else [1.0, 0.0], "b": [1.0, 0.0] if swap else [0.0, 1.0]}
            rng = np.random.default_rng(n)
            features[utt] = np.concatenate([np.tile(vectors[p], (3, 1)) + 0.01 * rng.random((3, 2)) for p in phones])
            units[utt] = np.repeat([{"SIL": 0, "a": 1, "b": 2}[p] for p in phones], 3)
    return alignments, speakers, features, units


def test_abx_toy_geometry():
    alignments, speakers, features, units = _toy_corpus(swap_second_speaker=False)
    items = abx_items(alignments, speakers, 100.0, {u: len(f) for u, f in features.items()})
    # 3 frames per phone, of which ZeroSpeech's item end (floor(f·off − 0.5)) keeps the first 2
    assert len(items) == 6 * 6 and {i.end - i.start for i in items} == {2}
    within = abx_error(items, features, "within", "angular", AbxConfig(use_context=False))
    across = abx_error(items, features, "across", "angular", AbxConfig(use_context=False))
    assert within.error == 0.0 and across.error == 0.0
    assert abx_error(items, units, "across", "hamming", AbxConfig(use_context=False)).error == 0.0

    alignments, speakers, features, _ = _toy_corpus(swap_second_speaker=True)
    within = abx_error(items, features, "within", "angular", AbxConfig(use_context=False))
    across = abx_error(items, features, "across", "angular", AbxConfig(use_context=False))
    assert within.error == 0.0
    assert across.error == 1.0  # X of the other speaker always looks like the other phone


def test_abx_ties_count_half_and_context_grouping():
    alignments, speakers, features, units = _toy_corpus(swap_second_speaker=False)
    items = abx_items(alignments, speakers, 100.0, {u: len(f) for u, f in features.items()})
    constant = {u: np.zeros_like(v) for u, v in units.items()}
    assert abx_error(items, constant, "within", "hamming", AbxConfig(use_context=False)).error == 0.5
    # with context, "a" (b_b context, middle) and "b" (a_a context) never share a context → no triplets
    with pytest.raises(ValueError, match="no within-speaker ABX triplets"):
        abx_error(items, units, "within", "hamming", AbxConfig(use_context=True))
    one = [i for i in items if i.speaker == "s1"]
    with pytest.raises(ValueError, match="speakers"):
        abx_error(one, units, "across", "hamming", AbxConfig(use_context=False))
