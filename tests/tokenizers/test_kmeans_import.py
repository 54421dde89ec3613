"""Published k-means files: a real scikit-learn k-means saved by joblib, read without unpickling code, assigns as
``KMeans.predict``; a pickle carrying a malicious global is refused without running it; HF HuBERT + km.bin."""

from __future__ import annotations

import os
import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans, MiniBatchKMeans
from typer.testing import CliRunner

from spokenlm.cli import app
from spokenlm.encoders.spectral import MfccConfig, MfccEncoder
from spokenlm.errors import SpokenLMError
from spokenlm.tokenizers.kmeans_import import RefusedGlobal, import_kmeans, read_centroids


@pytest.fixture(scope="module")
def features(fsdd_wavs):
    """MFCC frames [N, D] of real speech."""
    encoder = MfccEncoder(MfccConfig())
    return torch.cat([encoder.extract(w) for w in fsdd_wavs]).numpy().astype(np.float32)


@pytest.mark.parametrize("estimator, compress", [(KMeans, 0), (MiniBatchKMeans, 0), (KMeans, 3)])
def test_kmeans_from_joblib_assigns_like_sklearn_predict(tmp_path, features, estimator, compress):
    model = estimator(n_clusters=20, n_init=1, random_state=0).fit(features)
    path = tmp_path / "km.bin"
    joblib.dump(model, path, compress=compress)  # what fairseq's learn_kmeans.py writes
    quantizer = import_kmeans(path)
    assert quantizer.k == 20 and quantizer.dim == features.shape[1]
    assert np.array_equal(quantizer.assign(torch.from_numpy(features)).numpy(), model.predict(features))
    quantizer.save(tmp_path / "ours")
    assert sorted(p.name for p in (tmp_path / "ours").iterdir()) == ["kmeans.json", "kmeans.safetensors"]


class _Boom:
    """Unpickling this runs ``os.system`` — unless the unpickler refuses the global first."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_kmeans_refuses_malicious_globals_without_running_them(tmp_path, features):
    marker = tmp_path / "pwned"
    model = KMeans(n_clusters=4, n_init=1, random_state=0).fit(features[:200])
    model.payload = _Boom(marker)
    path = tmp_path / "km.bin"
    joblib.dump(model, path)
    with pytest.raises(RefusedGlobal, match=r"km.bin: refusing to unpickle (posix|os)\.system .*--trust-pickle"):
        read_centroids(path)
    plain = tmp_path / "evil.pkl"
    plain.write_bytes(pickle.dumps(_Boom(marker)))
    with pytest.raises(RefusedGlobal, match="evil.pkl: refusing"):
        read_centroids(plain)
    assert not marker.exists()
    result = CliRunner().invoke(app, ["import-kmeans", str(path), str(tmp_path / "out")])
    assert result.exit_code == 2 and "--trust-pickle" in " ".join(result.output.split()) and not marker.exists()


def test_kmeans_other_classes_need_trust_pickle(tmp_path, features):
    model = KMeans(n_clusters=4, n_init=1, random_state=np.random.RandomState(0)).fit(features[:200])
    path = tmp_path / "km.bin"
    joblib.dump(model, path)
    with pytest.raises(RefusedGlobal, match="numpy.random"):
        read_centroids(path)
    assert np.array_equal(read_centroids(path, trust_pickle=True), model.cluster_centers_.astype(np.float32))
    np.save(tmp_path / "centroids.npy", model.cluster_centers_)
    assert np.array_equal(read_centroids(tmp_path / "centroids.npy"), model.cluster_centers_.astype(np.float32))
    (tmp_path / "broken.bin").write_bytes(b"\x80\x04 not a pickle")
    with pytest.raises(SpokenLMError, match="broken.bin: not a readable k-means file"):
        read_centroids(tmp_path / "broken.bin")


def test_hf_hubert_with_km_bin_tokenizes_like_sklearn(tmp_path, fsdd_wavs):
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.HubertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                                       conv_dim=(16, 16), conv_stride=(5, 64), conv_kernel=(10, 64), num_conv_pos_embeddings=16,
                                       num_conv_pos_embedding_groups=4)
    transformers.HubertModel(config).eval().save_pretrained(tmp_path / "hubert")
    from spokenlm.encoders.base import build_encoder

    encoder = build_encoder({"type": "hf-ssl", "model_dir": str(tmp_path / "hubert"), "layer": 1})
    frames = [encoder.extract(w).numpy() for w in fsdd_wavs[:6]]
    model = KMeans(n_clusters=8, n_init=1, random_state=0).fit(np.concatenate(frames))
    joblib.dump(model, tmp_path / "km.bin")
    args = ["import-kmeans", str(tmp_path / "km.bin"), str(tmp_path / "tok"), "--hf-model", str(tmp_path / "hubert"), "--layer", "1", "--no-dedup"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    from spokenlm.tokenizers.base import load_tokenizer

    tokens = load_tokenizer(tmp_path / "tok").encode(fsdd_wavs[:6], 16000)
    for t, f in zip(tokens, frames):
        assert np.array_equal(t.ids[0], model.predict(f))
