"""Trainer checkpoints without pickle: model, optimizer, RNG and step, written atomically.

A checkpoint is a folder ``checkpoints/step-XXXXXXXX/``::

    config.json, model.safetensors     the model (loadable by UnitLM.from_pretrained)
    optimizer.safetensors              every optimizer tensor, keyed ``state/<param name>/<key>``
    optimizer.json                     param groups and non-tensor state (structure of the state dict)
    rng.safetensors                    each rank's torch RNG state (``cpu.<rank>``, ``cuda.<rank>``)
    trainer.json                       {"step", "tokens_seen", ...}

``checkpoints/latest`` names the newest complete checkpoint; it is updated after the folder is in place.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from spokenlm.atomic import atomic_directory, atomic_write_text
from spokenlm.checkpoint import CONFIG_NAME, WEIGHTS_NAME
from spokenlm.errors import SpokenLMError

LATEST = "latest"


def flatten_optimizer_state(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """An optimizer state dict keyed by parameter names → (tensors, JSON-safe structure)."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for name, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state/{name}/{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(name), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def unflatten_optimizer_state(tensors: dict[str, torch.Tensor], structure: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`flatten_optimizer_state`."""
    state: dict[str, dict[str, Any]] = {}
    for flat, value in tensors.items():
        _, rest = flat.split("/", 1)
        name, key = rest.rsplit("/", 1)
        state.setdefault(name, {})[key] = value
    for name, values in structure["scalars"].items():
        state.setdefault(name, {}).update(values)
    return {"state": state, "param_groups": structure["param_groups"]}


def step_dir(root: Path, step: int) -> Path:
    return root / f"step-{step:08d}"


def save_checkpoint(
    root: str | Path,
    step: int,
    model_config: dict[str, Any],
    model_state: dict[str, torch.Tensor],
    optimizer_state: dict[str, Any],
    rng: dict[str, torch.Tensor],
    trainer: dict[str, Any],
    keep: int = 2,
) -> Path:
    """Write checkpoint ``step`` under ``root`` atomically, point ``latest`` at it, prune old ones."""
    root = Path(root)
    directory = step_dir(root, step)
    tensors, structure = flatten_optimizer_state(optimizer_state)
    with atomic_directory(directory) as tmp:
        (tmp / CONFIG_NAME).write_text(json.dumps(model_config, indent=2) + "\n")
        save_file({k: v.detach().cpu().contiguous() for k, v in model_state.items()}, str(tmp / WEIGHTS_NAME), metadata={"format": "pt"})
        save_file(tensors, str(tmp / "optimizer.safetensors"))
        (tmp / "optimizer.json").write_text(json.dumps(structure, indent=1) + "\n")
        save_file({k: v.contiguous() for k, v in rng.items()}, str(tmp / "rng.safetensors"))
        (tmp / "trainer.json").write_text(json.dumps({"step": step, **trainer}, indent=2) + "\n")
    atomic_write_text(root / LATEST, directory.name + "\n")
    kept = sorted(p for p in root.glob("step-*") if p.is_dir())
    for old in kept[: max(len(kept) - keep, 0)]:
        shutil.rmtree(old, ignore_errors=True)
    return directory


def latest_checkpoint(root: str | Path) -> Path | None:
    """The newest complete checkpoint under ``root``, or ``None``."""
    pointer = Path(root) / LATEST
    if not pointer.is_file():
        return None
    directory = Path(root) / pointer.read_text().strip()
    if not (directory / "trainer.json").is_file():
        raise SpokenLMError(f"{pointer}: points at {directory}, which is not a complete checkpoint")
    return directory


def load_checkpoint(directory: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any], dict[str, torch.Tensor], dict[str, Any]]:
    """Read (model state, optimizer state, rng tensors, trainer.json) of a checkpoint folder."""
    directory = Path(directory)
    model_state = load_file(str(directory / WEIGHTS_NAME))
    structure = json.loads((directory / "optimizer.json").read_text())
    optimizer_state = unflatten_optimizer_state(load_file(str(directory / "optimizer.safetensors")), structure)
    rng = load_file(str(directory / "rng.safetensors"))
    trainer = json.loads((directory / "trainer.json").read_text())
    return model_state, optimizer_state, rng, trainer
