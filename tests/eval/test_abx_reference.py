"""Our ABX equals ZeroSpeech's ``zerospeech-libriabx2`` (eval_ABX, cosine) on the same features and items.

Real speech: the LibriVox clips in tests/assets with their pocketsphinx phone alignments, as 50 Hz MFCC frames,
the clips spread over three labelled speakers so that across-speaker errors average over more than one X speaker,
and 20 frames (0.4 s) of one clip zeroed so that the zero-vector convention counts. No group is sampled on either side.
The reference runs in ``.venv-zerospeech`` (``scripts/setup_zerospeech.sh``).
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers.zerospeech_reference import UNSAMPLED, reference
from spokenlm.align.formats import read_pocketsphinx_json
from spokenlm.align.phones import SILENCE
from spokenlm.audio.io import load_audio
from spokenlm.encoders.spectral import MfccConfig, MfccEncoder
from spokenlm.eval.abx import AbxConfig, abx_error, abx_items

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, data_dir):
    """``(alignments, speakers, features, rate, item file, feature folder)``."""
    root = tmp_path_factory.mktemp("abx-ref")
    encoder = MfccEncoder(MfccConfig())
    alignments, speakers, features = {}, {}, {}
    lines = ["#file onset offset #phone prev-phone next-phone speaker"]
    for n, clip in enumerate(sorted((data_dir / "librivox").glob("*.wav"))):
        utterance = clip.stem
        alignments[utterance] = read_pocketsphinx_json(clip.with_suffix(".phone.json"))
        speakers[utterance] = f"s{n % 3}"
        features[utterance] = encoder.extract(load_audio(clip, 16000)[0]).numpy().astype(np.float64)
        segments = alignments[utterance]
        for prev, seg, nxt in zip(segments, segments[1:], segments[2:]):
            if seg.phone != SILENCE:  # times as repr, so both sides read the same doubles
                lines.append(f"{utterance} {seg.start!r} {seg.end!r} {seg.phone} {prev.phone} {nxt.phone} {speakers[utterance]}")
    first = min(features)
    features[first][20:40] = 0.0
    (root / "features").mkdir()
    for utterance, frames in features.items():
        np.save(root / "features" / f"{utterance}.npy", frames)
    (root / "test.item").write_text("\n".join(lines) + "\n")
    return alignments, speakers, features, encoder.frame_rate, root / "test.item", root / "features"


def test_abx_equals_zerospeech_libriabx2(corpus):
    alignments, speakers, features, rate, item_file, feature_dir = corpus
    theirs = reference("abx", item_file, feature_dir, rate)
    items = abx_items(alignments, speakers, rate, {u: len(f) for u, f in features.items()})
    for context, use_context in (("within", True), ("any", False)):
        config = AbxConfig(use_context=use_context, max_items=UNSAMPLED)
        for mode in ("within", "across"):
            ours = abx_error(items, features, mode, "angular", config)
            assert ours.error == pytest.approx(theirs[f"{mode}-{context}"], abs=1e-6), (mode, context, ours)
