"""Published k-means files (textlesslib/fairseq ``km.bin``, mHuBERT's ``*_km500.bin``, ``.npy`` centroids) → our k-means.

The fairseq and textlesslib k-means are scikit-learn ``KMeans``/``MiniBatchKMeans`` saved with
``joblib.dump`` (a pickle, often from an old scikit-learn). :func:`read_centroids` reads them with
a restricted unpickler by default: the estimator class becomes an inert stand-in that only keeps
its state, numpy arrays and scalars are rebuilt, and every other global (``os.system``, a
``RandomState``, any other class) is refused before it is looked up, with a one-line error naming
the file. ``trust_pickle=True`` unpickles the file with joblib instead (it may run code).
Either way :func:`import_kmeans` converts it once into :class:`KMeansQuantizer`'s safetensors
files, which are read from then on.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spokenlm.errors import SpokenLMError
from spokenlm.tokenizers.quantizer import KMeansConfig, KMeansQuantizer

ESTIMATORS = {"KMeans", "MiniBatchKMeans"}


def _numpy_globals() -> dict[tuple[str, str], Any]:
    """The globals a pickled numpy array or scalar refers to, under the numpy 1 and numpy 2 module names."""
    from joblib.numpy_pickle import NumpyArrayWrapper

    reconstruct = np.ndarray.__reduce__(np.zeros(1))[0]  # numpy's own array reconstructor
    scalar = np.float64(0).__reduce__()[0]
    table: dict[tuple[str, str], Any] = {("joblib.numpy_pickle", "NumpyArrayWrapper"): NumpyArrayWrapper}
    for module in ("numpy", "numpy.core.multiarray", "numpy._core.multiarray"):
        table |= {(module, "_reconstruct"): reconstruct, (module, "scalar"): scalar, (module, "ndarray"): np.ndarray, (module, "dtype"): np.dtype}
    return table


class _EstimatorState:
    """Stands in for the pickled scikit-learn estimator: keeps its state dictionary, runs nothing."""

    def __setstate__(self, state: Any) -> None:
        self.state = state


class RefusedGlobal(SpokenLMError):
    """A pickle refers to something the restricted unpickler does not rebuild."""


def _restricted_unpickler(path: Path, handle: Any) -> Any:
    from joblib.numpy_pickle import NumpyUnpickler

    allowed = _numpy_globals()

    class RestrictedUnpickler(NumpyUnpickler):
        def find_class(self, module: str, name: str) -> Any:
            if (module, name) in allowed:
                return allowed[(module, name)]
            if module.startswith("sklearn.cluster") and name in ESTIMATORS:
                return _EstimatorState
            raise RefusedGlobal(
                f"{path}: refusing to unpickle {module}.{name} (a k-means file needs only its estimator and numpy arrays); "
                "if you trust this file, rerun with --trust-pickle"
            )

    return RestrictedUnpickler(str(path), handle, ensure_native_byte_order=True)


def _restricted_load(path: Path) -> Any:
    from joblib.numpy_pickle import _validate_fileobject_and_memmap  # joblib's own (de)compression detection

    with path.open("rb") as raw, _validate_fileobject_and_memmap(raw, str(path), None) as (handle, _):
        if isinstance(handle, str):
            raise SpokenLMError(f"{path}: a joblib < 0.10 pickle with companion files; rerun with --trust-pickle")
        return _restricted_unpickler(path, handle).load()


def _centroids_of(obj: Any, path: Path) -> np.ndarray:
    state = obj.state if isinstance(obj, _EstimatorState) else getattr(obj, "__dict__", None)
    centers = obj if isinstance(obj, np.ndarray) else (state or {}).get("cluster_centers_")
    if not isinstance(centers, np.ndarray) or centers.ndim != 2 or not np.issubdtype(centers.dtype, np.floating):
        raise SpokenLMError(f"{path}: no cluster_centers_ [K, D] float array in this k-means file")
    return centers


def read_centroids(path: str | Path, trust_pickle: bool = False) -> np.ndarray:
    """Centroids ``[K, D]`` (float32) of a k-means file: ``.npy``, or a (joblib) pickle of a scikit-learn k-means.

    Pickles are read with the restricted unpickler unless ``trust_pickle``; a refused global raises
    :class:`RefusedGlobal`, any other unreadable file a :class:`SpokenLMError` naming it.
    """
    path = Path(path)
    if not path.is_file():
        raise SpokenLMError(f"{path}: k-means file not found")
    try:
        if path.suffix == ".npy":
            obj = np.load(path, allow_pickle=False)
        elif trust_pickle:
            import joblib

            obj = joblib.load(path)
        else:
            obj = _restricted_load(path)
    except SpokenLMError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, OSError, AttributeError, TypeError, ImportError, IndexError, KeyError) as err:
        raise SpokenLMError(f"{path}: not a readable k-means file ({type(err).__name__}: {err})") from err
    return _centroids_of(obj, path).astype(np.float32)


def import_kmeans(path: str | Path, trust_pickle: bool = False) -> KMeansQuantizer:
    """A :class:`KMeansQuantizer` with the centroids of ``path`` (assignment: nearest centroid, as ``KMeans.predict``)."""
    centroids = read_centroids(path, trust_pickle)
    return KMeansQuantizer(torch.from_numpy(centroids), KMeansConfig(k=int(centroids.shape[0])))
