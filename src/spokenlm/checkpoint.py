"""HF-style checkpoint directories: ``config.json`` + ``model.safetensors`` (no pickle).

``save_module(dir, module, config_dict)`` writes both atomically;
``load_state(dir)`` returns the config dict and the tensors; :func:`read_weights`, :func:`read_json` and
:func:`read_stamped_cache` are the readers every saved folder and cache goes through, so an unreadable file is always
one line naming it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save

from spokenlm.atomic import atomic_directory, atomic_write_bytes, atomic_write_text
from spokenlm.errors import SpokenLMError

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


def _contiguous_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    state = {}
    seen: dict[int, str] = {}
    for name, tensor in module.state_dict().items():
        key = tensor.data_ptr()
        if key in seen and tensor.numel() > 0:
            continue  # tied weight: stored once, re-tied by the model on load
        seen[key] = name
        state[name] = tensor.detach().cpu().contiguous()
    return state


def save_module(
    directory: str | Path,
    module: torch.nn.Module,
    config: dict[str, Any],
    extra_files: dict[str, bytes] | None = None,
    replace: bool = True,
) -> Path:
    """Write ``config.json``, ``model.safetensors`` and ``extra_files`` into ``directory``.

    ``replace=True`` swaps in a whole new folder atomically (checkpoints). ``replace=False``
    keeps other files in the folder (a trainer's state and logs beside the model): the old
    ``config.json`` is removed first and the new one written last, each file atomically, so a
    folder with a ``config.json`` always holds matching weights.
    """
    directory = Path(directory)
    weights = save(_contiguous_state(module), metadata={"format": "pt"})
    config_text = json.dumps(config, indent=2) + "\n"
    if replace:
        with atomic_directory(directory) as tmp:
            (tmp / WEIGHTS_NAME).write_bytes(weights)
            for name, data in (extra_files or {}).items():
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                (tmp / name).write_bytes(data)
            (tmp / CONFIG_NAME).write_text(config_text)
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    (directory / CONFIG_NAME).unlink(missing_ok=True)
    atomic_write_bytes(directory / WEIGHTS_NAME, weights)
    for name, data in (extra_files or {}).items():
        atomic_write_bytes(directory / name, data)
    atomic_write_text(directory / CONFIG_NAME, config_text)
    return directory


def read_json(path: str | Path) -> Any:
    """A checkpoint's JSON file; missing, unreadable or invalid is a one-line :class:`SpokenLMError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise SpokenLMError(f"{path}: missing (not a spokenlm checkpoint directory)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise SpokenLMError(f"{path}: not valid JSON ({err.msg} at line {err.lineno})") from err
    except (OSError, UnicodeDecodeError) as err:
        raise SpokenLMError(f"{path}: unreadable ({getattr(err, 'strerror', None) or err})") from err


def read_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Every tensor of a ``.safetensors`` file; missing, truncated or foreign is a one-line :class:`SpokenLMError` naming it.

    The one reader of safetensors weights (models, tokenizers, quantizers, training checkpoints, HF folders).
    """
    path = Path(path)
    if not path.is_file():
        raise SpokenLMError(f"{path}: missing (not a spokenlm checkpoint directory)")
    try:
        return load_file(str(path))
    except Exception as err:  # safetensors raises its own error types for truncated or foreign files
        raise SpokenLMError(f"{path}: unreadable weights, truncated or not a safetensors file ({_first_line(err)})") from err


def read_stamped_cache(path: str | Path, stamp_key: str, stamp: str, framework: str = "pt") -> dict[str, Any]:
    """The tensors of a cache file written for ``stamp`` (the value of ``stamp_key`` in its metadata: the encoder or
    tokenizer it was made with), as ``framework`` (``pt``/``np``) arrays; empty when the file is absent or was made for
    another stamp. Truncated or foreign is a one-line :class:`SpokenLMError` naming it."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        with safe_open(str(path), framework) as handle:
            if (handle.metadata() or {}).get(stamp_key) != stamp:
                return {}
            return {key: handle.get_tensor(key) for key in handle.keys()}
    except Exception as err:  # safetensors raises its own error types for truncated or foreign files
        raise SpokenLMError(f"{path}: unreadable cache, truncated or not a safetensors file ({_first_line(err)}); "
                            "delete it to recompute") from err


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def load_state(directory: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Read ``config.json`` and ``model.safetensors`` from ``directory`` (errors as :func:`read_json` and :func:`read_weights`)."""
    directory = Path(directory)
    config = read_json(directory / CONFIG_NAME)
    return config, read_weights(directory / WEIGHTS_NAME)
