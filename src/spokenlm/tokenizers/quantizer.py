"""k-means quantizer: frame features ``[T, D]`` → unit ids ``[T]``; centroids stored in safetensors (no pickle)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from spokenlm.atomic import atomic_write_json
from spokenlm.checkpoint import read_json, read_weights
from spokenlm.config import from_dict, to_dict
from spokenlm.errors import SpokenLMError

CENTROIDS_NAME = "kmeans.safetensors"
KMEANS_CONFIG_NAME = "kmeans.json"


@dataclass
class KMeansConfig:
    """k-means training and assignment.

    Attributes:
        k: number of clusters (the unit vocabulary).
        max_frames: frames sampled (uniformly, seeded) from the training features to fit on.
        algorithm: ``"minibatch"`` (scikit-learn MiniBatchKMeans, scales to millions of frames) or ``"full"`` (KMeans).
        batch_size: MiniBatchKMeans batch size, frames.
        max_iter: iterations (epochs for MiniBatchKMeans).
        n_init: k-means++ restarts.
        downsample: keep one frame in ``downsample`` by averaging features over non-overlapping
            windows before assignment (lowers the frame rate by this factor; 1 = off).
        assign_chunk: frames per distance-matrix chunk during assignment (bounds memory).
        seed: random seed.
    """

    k: int = 100
    max_frames: int = 200_000
    algorithm: str = "minibatch"
    batch_size: int = 10_000
    max_iter: int = 100
    n_init: int = 3
    downsample: int = 1
    assign_chunk: int = 8192
    seed: int = 0


def downsample_frames(features: torch.Tensor, factor: int) -> torch.Tensor:
    """Average ``[T, D]`` over windows of ``factor`` frames → ``[ceil(T / factor), D]`` (last window may be short)."""
    if factor == 1 or features.shape[0] == 0:
        return features
    t, d = features.shape
    pad = (-t) % factor
    padded = torch.cat([features, features.new_zeros(pad, d)]) if pad else features
    counts = torch.full((padded.shape[0] // factor, 1), float(factor))
    if pad:
        counts[-1] = factor - pad
    return padded.reshape(-1, factor, d).sum(dim=1) / counts


class KMeansQuantizer:
    """Nearest-centroid assignment with ``centroids [K, D]``."""

    def __init__(self, centroids: torch.Tensor, config: KMeansConfig) -> None:
        if centroids.dim() != 2 or centroids.shape[0] != config.k:
            raise SpokenLMError(f"centroids must be [k={config.k}, D], got {tuple(centroids.shape)}")
        self.centroids = centroids.float().contiguous()
        self.config = config
        self._sq_norms = (self.centroids**2).sum(dim=1)

    @property
    def k(self) -> int:
        return self.config.k

    @property
    def dim(self) -> int:
        return int(self.centroids.shape[1])

    @classmethod
    def fit(cls, features: list[torch.Tensor], config: KMeansConfig) -> KMeansQuantizer:
        """Fit on a sample of at most ``config.max_frames`` frames from ``features`` (each ``[T_i, D]``)."""
        from sklearn.cluster import KMeans, MiniBatchKMeans

        frames = torch.cat([downsample_frames(f, config.downsample) for f in features]).numpy().astype(np.float32)
        if frames.shape[0] < config.k:
            raise SpokenLMError(f"k-means needs at least k={config.k} frames, got {frames.shape[0]}")
        rng = np.random.default_rng(config.seed)
        if frames.shape[0] > config.max_frames:
            frames = frames[np.sort(rng.choice(frames.shape[0], config.max_frames, replace=False))]
        if config.algorithm == "minibatch":
            model = MiniBatchKMeans(
                n_clusters=config.k, batch_size=config.batch_size, max_iter=config.max_iter,
                n_init=config.n_init, random_state=config.seed,
            )
        elif config.algorithm == "full":
            model = KMeans(n_clusters=config.k, max_iter=config.max_iter, n_init=config.n_init, random_state=config.seed)
        else:
            raise SpokenLMError(f"unknown k-means algorithm {config.algorithm!r}; use 'minibatch' or 'full'")
        model.fit(frames)
        return cls(torch.from_numpy(model.cluster_centers_.astype(np.float32)), config)

    def _nearest(self, features: torch.Tensor) -> torch.Tensor:
        """Index of the nearest centroid ``[T]`` (int64) of each frame of ``[T, D]``, in chunks."""
        if features.shape[-1] != self.dim:
            raise SpokenLMError(f"features have D={features.shape[-1]}, k-means centroids have D={self.dim}")
        ids = [
            (self._sq_norms[None, :] - 2.0 * chunk @ self.centroids.T).argmin(dim=1)
            for chunk in features.float().split(self.config.assign_chunk)
        ]
        return torch.cat(ids) if ids else torch.zeros(0, dtype=torch.long)

    def assign(self, features: torch.Tensor) -> torch.Tensor:
        """Unit ids ``[T']`` (int64) of ``[T, D]`` features; ``T' = ceil(T / downsample)``."""
        return self._nearest(downsample_frames(features.float(), self.config.downsample))

    def assign_batch(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        """Unit ids of each ``[T_i, D]``, computed in one pass over their concatenation."""
        if not features:
            return []
        reduced = [downsample_frames(f.float(), self.config.downsample) for f in features]
        return list(self._nearest(torch.cat(reduced)).split([r.shape[0] for r in reduced]))

    def save(self, directory: str | Path) -> None:
        """Write ``kmeans.safetensors`` (centroids) and ``kmeans.json`` (config) into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{CENTROIDS_NAME}.tmp"
        save_file({"centroids": self.centroids}, str(tmp))
        tmp.replace(directory / CENTROIDS_NAME)
        atomic_write_json(directory / KMEANS_CONFIG_NAME, to_dict(self.config))

    @classmethod
    def load(cls, directory: str | Path) -> KMeansQuantizer:
        """Read a quantizer written by :meth:`save`."""
        directory = Path(directory)
        for name in (CENTROIDS_NAME, KMEANS_CONFIG_NAME):
            if not (directory / name).is_file():
                raise SpokenLMError(f"{directory / name}: missing (no k-means quantizer here)")
        config = from_dict(KMeansConfig, read_json(directory / KMEANS_CONFIG_NAME))
        return cls(read_weights(directory / CENTROIDS_NAME)["centroids"], config)
