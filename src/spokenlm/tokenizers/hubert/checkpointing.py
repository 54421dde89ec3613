"""Resumable training state of one HuBERT iteration: model + AdamW state + step, as safetensors + JSON (no pickle)."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes

from spokenlm.checkpoint import load_state, save_module

OPTIMIZER_NAME = "optimizer.safetensors"


def save_training_state(directory: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, step: int) -> None:
    """Atomically write the model, the optimizer moments and ``step`` into ``directory``."""
    state = optimizer.state_dict()
    tensors = {
        f"{index}.{key}": value.detach().cpu().contiguous() if torch.is_tensor(value) else torch.tensor(value)
        for index, slots in state["state"].items()
        for key, value in slots.items()
    }
    meta = {"step": step, "param_groups": state["param_groups"]}
    save_module(directory, model, meta, extra_files={OPTIMIZER_NAME: save_bytes(tensors)})


def load_training_state(directory: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> int:
    """Restore what :func:`save_training_state` wrote; returns the step to continue from."""
    meta, weights = load_state(directory)
    model.load_state_dict(weights)
    tensors = load_bytes((directory / OPTIMIZER_NAME).read_bytes())
    slots: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        index, key = name.split(".", 1)
        slots.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": slots, "param_groups": meta["param_groups"]})
    return int(meta["step"])
