"""Process groups, DDP/FSDP wrapping and full (unsharded) state dicts under ``torchrun``.

Launch ``torchrun --nproc_per_node N -m spokenlm train ...`` (or ``train-tokenizer``, ``train-vocoder``):
WORLD_SIZE/RANK come from the environment; CPU runs use the gloo backend, GPU runs NCCL.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from spokenlm.errors import ConfigError


@dataclass
class DistInfo:
    """Where this process sits: ``mode`` is ``none``, ``ddp`` or ``fsdp``."""

    mode: str = "none"
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(requested: str, device_type: str) -> DistInfo:
    """Join the torchrun process group when WORLD_SIZE > 1 (``auto`` picks DDP)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1 or requested == "none":
        return DistInfo()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device_type == "cuda":
        torch.cuda.set_device(local)
    mode = "ddp" if requested == "auto" else requested
    return DistInfo(mode=mode, rank=dist.get_rank(), world_size=world, local_rank=local)


def teardown(info: DistInfo) -> None:
    if info.mode != "none" and dist.is_initialized():
        dist.destroy_process_group()


def wrap(model: nn.Module, info: DistInfo, shard_units: list[nn.Module] | None = None) -> nn.Module:
    """DDP wrapper, or FSDP2 sharding of each of ``shard_units`` (e.g. transformer blocks) and of the root (in place)."""
    if info.mode == "ddp":
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model)
    if info.mode == "fsdp":
        from torch.distributed.fsdp import fully_shard

        for unit in shard_units or []:
            fully_shard(unit)
        fully_shard(model)
        return model
    if info.mode != "none":
        raise ConfigError(f"distributed={info.mode!r} is not one of auto, none, ddp, fsdp")
    return model


def _options(**kwargs: Any) -> Any:
    from torch.distributed.checkpoint.state_dict import StateDictOptions

    return StateDictOptions(full_state_dict=True, **kwargs)


def full_state(model: nn.Module, optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Unsharded model and optimizer state dicts keyed by parameter names, on CPU (collective under FSDP)."""
    from torch.distributed.checkpoint.state_dict import get_state_dict

    return get_state_dict(model, optimizer, options=_options(cpu_offload=True))


def load_full_state(model: nn.Module, optimizer: torch.optim.Optimizer, model_state: dict[str, torch.Tensor], optimizer_state: dict[str, Any]) -> None:
    """Load full states (every rank passes them) into a possibly wrapped/sharded model and its optimizer."""
    from torch.distributed.checkpoint.state_dict import set_state_dict

    set_state_dict(model, optimizer, model_state_dict=model_state, optim_state_dict=optimizer_state, options=_options())


def gather_rng(info: DistInfo) -> dict[str, torch.Tensor]:
    """Every rank's torch RNG states as ``{"cpu.<rank>": uint8 tensor, "cuda.<rank>": …}`` (collective)."""
    mine = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        mine["cuda"] = torch.cuda.get_rng_state()
    if info.mode == "none":
        return {f"{k}.0": v for k, v in mine.items()}
    out = {}
    for kind, state in mine.items():
        parts = [torch.empty_like(state) for _ in range(info.world_size)]
        dist.all_gather(parts, state)
        out.update({f"{kind}.{r}": p for r, p in enumerate(parts)})
    return out


def restore_rng(rng: dict[str, torch.Tensor], info: DistInfo) -> bool:
    """Restore this rank's RNG states; False when the checkpoint has none for this rank."""
    key = f"cpu.{info.rank}"
    if key not in rng:
        return False
    torch.set_rng_state(rng[key])
    if f"cuda.{info.rank}" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state(rng[f"cuda.{info.rank}"])
    return True


def mean_across(value: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Average a scalar tensor over ranks (identity when not distributed)."""
    if info.mode == "none":
        return value
    value = value.detach().clone()
    dist.all_reduce(value)
    return value / info.world_size
