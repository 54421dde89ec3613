"""Checkpoints of the training loop without pickle: modules, optimizers, RNG and step, written atomically.

A checkpoint is a folder ``checkpoints/step-XXXXXXXX/``::

    model.safetensors (+ config.json)  the task's model (with the task's config.json it loads like the finished artifact)
    <module>.safetensors               every other module (a GAN's discriminator …)
    optimizer.<name>.safetensors       every tensor of optimizer <name>, keyed ``state/<param name>/<key>``
    optimizer.<name>.json              its param groups and non-tensor state (structure of the state dict)
    rng.safetensors                    each rank's torch RNG state (``cpu.<rank>``, ``cuda.<rank>``) and the
                                       task's generators (``generator.<name>``)
    trainer.json                       {"step", "items_seen", ...}

``checkpoints/latest`` names the newest complete checkpoint; it is updated after the folder is in place,
so a run killed at any moment resumes from a whole checkpoint.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from spokenlm.atomic import atomic_directory, atomic_write_text
from spokenlm.checkpoint import CONFIG_NAME, WEIGHTS_NAME, read_json, read_weights
from spokenlm.errors import SpokenLMError

LATEST = "latest"
MAIN = "model"  # the module saved as model.safetensors


def _weights_name(module: str) -> str:
    return WEIGHTS_NAME if module == MAIN else f"{module}.safetensors"


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
    modules: dict[str, dict[str, torch.Tensor]],
    optimizers: dict[str, dict[str, Any]],
    rng: dict[str, torch.Tensor],
    trainer: dict[str, Any],
    model_config: dict[str, Any] | None = None,
    keep: int = 2,
) -> Path:
    """Write checkpoint ``step`` under ``root`` atomically, point ``latest`` at it, prune all but the ``keep`` newest.

    ``modules`` and ``optimizers`` are full (unsharded) state dicts by name; ``model_config``, when given,
    is written as ``config.json`` beside ``model.safetensors``.
    """
    root = Path(root)
    directory = step_dir(root, step)
    with atomic_directory(directory) as tmp:
        for name, state in modules.items():
            save_file({k: v.detach().cpu().contiguous() for k, v in state.items()}, str(tmp / _weights_name(name)), metadata={"format": "pt"})
        for name, state in optimizers.items():
            tensors, structure = flatten_optimizer_state(state)
            save_file(tensors, str(tmp / f"optimizer.{name}.safetensors"))
            (tmp / f"optimizer.{name}.json").write_text(json.dumps(structure, indent=1) + "\n")
        save_file({k: v.contiguous() for k, v in rng.items()}, str(tmp / "rng.safetensors"))
        if model_config is not None:
            (tmp / CONFIG_NAME).write_text(json.dumps(model_config, indent=2) + "\n")
        (tmp / "trainer.json").write_text(json.dumps({"step": step, "modules": sorted(modules), "optimizers": sorted(optimizers), **trainer}, indent=2) + "\n")
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




def load_checkpoint(directory: str | Path) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, dict[str, Any]], dict[str, torch.Tensor], dict[str, Any]]:
    """Read (module states, optimizer states, rng tensors, trainer.json) of a checkpoint folder."""
    directory = Path(directory)
    trainer = read_json(directory / "trainer.json")
    modules = {name: read_weights(directory / _weights_name(name)) for name in trainer.get("modules", [MAIN])}
    optimizers = {}
    for name in trainer.get("optimizers", []):
        structure = read_json(directory / f"optimizer.{name}.json")
        optimizers[name] = unflatten_optimizer_state(read_weights(directory / f"optimizer.{name}.safetensors"), structure)
    return modules, optimizers, read_weights(directory / "rng.safetensors"), trainer
