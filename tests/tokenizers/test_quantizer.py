"""k-means quantizer and unit BPE: hand-checkable clusters, brute-force assignment, save → load, exact durations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spokenlm.errors import SpokenLMError
from spokenlm.tokenizers.bpe import UnitBPE
from spokenlm.tokenizers.quantizer import KMeansConfig, KMeansQuantizer, downsample_frames
from spokenlm.tokenizers.units import apply_bpe
from spokenlm.tokens import Tokens


def _blobs(seed: int = 0) -> tuple[torch.Tensor, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], dtype=np.float32)
    labels = rng.integers(0, 4, 400)
    return torch.from_numpy(centres[labels] + rng.normal(0, 0.3, (400, 2)).astype(np.float32)), labels


@pytest.mark.parametrize("algorithm", ["minibatch", "full"])
def test_tok_kmeans_recovers_separated_clusters(algorithm):
    points, labels = _blobs()
    quantizer = KMeansQuantizer.fit([points[:200], points[200:]], KMeansConfig(k=4, algorithm=algorithm, n_init=3))
    ids = quantizer.assign(points).numpy()
    # a perfect clustering: a one-to-one map between true labels and unit ids
    pairs = set(zip(labels.tolist(), ids.tolist()))
    assert len(pairs) == 4 and len({a for a, _ in pairs}) == 4 and len({b for _, b in pairs}) == 4


def test_tok_kmeans_assignment_is_brute_force_nearest_and_round_trips(tmp_path):
    points, _ = _blobs(1)
    quantizer = KMeansQuantizer.fit([points], KMeansConfig(k=7, assign_chunk=33))
    brute = torch.cdist(points, quantizer.centroids).argmin(1)
    assert torch.equal(quantizer.assign(points), brute)
    parts = quantizer.assign_batch([points[:150], points[150:]])
    assert torch.equal(torch.cat(parts), brute) and [len(p) for p in parts] == [150, 250]
    quantizer.save(tmp_path)
    loaded = KMeansQuantizer.load(tmp_path)
    assert torch.equal(loaded.centroids, quantizer.centroids) and loaded.config == quantizer.config
    assert not list(tmp_path.glob("*.pkl")) and not list(tmp_path.glob("*.pt"))


def test_tok_downsampling_averages_windows():
    frames = torch.arange(10, dtype=torch.float32)[:, None]
    assert downsample_frames(frames, 4)[:, 0].tolist() == [1.5, 5.5, 8.5]  # means of 0-3, 4-7, 8-9


def test_tok_kmeans_needs_k_frames():
    with pytest.raises(SpokenLMError, match="at least k=10"):
        KMeansQuantizer.fit([torch.zeros(5, 3)], KMeansConfig(k=10))


def test_tok_bpe_round_trip_and_durations(tmp_path):
    rng = np.random.default_rng(0)
    motifs = [rng.integers(0, 20, 4) for _ in range(5)]
    sequences = [np.concatenate([motifs[i] for i in rng.integers(0, 5, 12)]) for _ in range(40)]
    bpe = UnitBPE.train(sequences, num_units=20, vocab_size=40)
    ids, spans = bpe.encode(sequences[0])
    assert len(ids) < len(sequences[0]) and spans.sum() == len(sequences[0])
    assert np.array_equal(bpe.decode(ids), sequences[0])
    bpe.save(tmp_path)
    assert np.array_equal(UnitBPE.load(tmp_path).encode(sequences[0])[0], ids)
    (tmp_path / "bpe.json").write_text((tmp_path / "bpe.json").read_text()[:50])
    with pytest.raises(SpokenLMError, match=r"bpe\.json: not a HF tokenizers file"):
        UnitBPE.load(tmp_path)  # a truncated file: one line naming it
    # durations of BPE tokens are the frames of the deduplicated units they cover
    tokens = Tokens(np.repeat(sequences[0], 3)[None], 50.0, "t").deduplicated()
    merged = apply_bpe(tokens, bpe)
    assert merged.durations.sum() == 3 * len(sequences[0]) and merged.duration_seconds == tokens.duration_seconds
