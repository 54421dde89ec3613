"""Resumable training state as safetensors + JSON (no pickle): modules, optimizers, RNG states and the step.

Layout of the folder (written atomically)::

    state.json          {"step": int, "optimizers": {name: param_groups}, ...extra}
    tensors.safetensors  module.<name>.<key>, optim.<name>.<param>.<key>, rng.<name>
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from spokenlm.atomic import atomic_directory
from spokenlm.errors import SpokenLMError

STATE_JSON = "state.json"
TENSORS = "tensors.safetensors"


def save_training_state(
    directory: str | Path,
    step: int,
    modules: dict[str, torch.nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    generators: dict[str, torch.Generator],
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write everything needed to continue training at ``step`` into ``directory``."""
    tensors: dict[str, torch.Tensor] = {}
    for name, module in modules.items():
        for key, value in module.state_dict().items():
            tensors[f"module.{name}.{key}"] = value.detach().cpu().contiguous()
    groups = {}
    for name, optimizer in optimizers.items():
        state = optimizer.state_dict()
        groups[name] = state["param_groups"]
        for index, values in state["state"].items():
            for key, value in values.items():
                tensors[f"optim.{name}.{index}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    tensors["rng.torch"] = torch.get_rng_state()
    for name, generator in generators.items():
        tensors[f"rng.{name}"] = generator.get_state()
    directory = Path(directory)
    with atomic_directory(directory) as tmp:
        save_file(tensors, str(tmp / TENSORS))
        (tmp / STATE_JSON).write_text(json.dumps({"step": step, "optimizers": groups, **(extra or {})}, indent=2))
    return directory


def load_training_state(
    directory: str | Path,
    modules: dict[str, torch.nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    generators: dict[str, torch.Generator],
) -> dict[str, Any]:
    """Restore what :func:`save_training_state` wrote (in place); returns the JSON part (``step`` …)."""
    directory = Path(directory)
    if not (directory / STATE_JSON).is_file() or not (directory / TENSORS).is_file():
        raise SpokenLMError(f"{directory}: not a training-state folder")
    meta = json.loads((directory / STATE_JSON).read_text())
    tensors = load_file(str(directory / TENSORS))
    for name, module in modules.items():
        prefix = f"module.{name}."
        module.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})
    for name, optimizer in optimizers.items():
        prefix = f"optim.{name}."
        state: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in tensors.items():
            if key.startswith(prefix):
                index, field = key[len(prefix) :].split(".", 1)
                state.setdefault(int(index), {})[field] = value
        optimizer.load_state_dict({"state": state, "param_groups": meta["optimizers"][name]})
    torch.set_rng_state(tensors["rng.torch"])
    for name, generator in generators.items():
        generator.set_state(tensors[f"rng.{name}"])
    return meta
