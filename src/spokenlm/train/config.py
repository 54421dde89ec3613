"""Typed config of a unit-LM training run (one dataclass tree, loaded from a YAML recipe)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from spokenlm.models.config import UnitLMConfig


@dataclass
class DataConfig:
    """Where the tokens come from and how they are packed.

    Attributes:
        train: token corpus folder (``spokenlm tokenize`` output: shards of Tokens).
        val: separate validation corpus; when empty, ``val_fraction`` of the train documents is held out.
        seq_len: tokens per training window (T).
        stream: which stream of multi-stream tokens to model.
        document_attention: attend only within each packed document (else documents are only separated by EOS).
        val_windows: number of validation windows per evaluation (0: all).
    """

    train: str = ""
    val: str = ""
    val_fraction: float = 0.05
    seq_len: int = 256
    stream: int = 0
    document_attention: bool = False
    val_windows: int = 64


@dataclass
class OptimConfig:
    """AdamW with linear warmup then cosine decay to ``min_lr_ratio · lr``.

    ``batch_size`` is the global batch in windows per optimizer step; it is split over
    ``world_size × grad_accum`` micro-batches.
    """

    lr: float = 3e-4
    min_lr_ratio: float = 0.1
    warmup_steps: int = 100
    max_steps: int = 1000
    batch_size: int = 32
    grad_accum: int = 1
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    grad_clip: float = 1.0


@dataclass
class InitConfig:
    """Cold init (``text_lm`` empty) or TWIST warm start from a HF text-LM directory."""

    text_lm: str = ""
    keep_text: bool = False


@dataclass
class TrainConfig:
    """A whole run: model, data, optimizer, init, and run control.

    Attributes:
        out_dir: run folder (config.yaml, metrics.jsonl/csv, checkpoints/, model/).
        precision: ``auto`` = bf16 autocast on GPUs that support it and on CPUs with AMX or
            AVX-512 BF16 (1.7–2× faster training here), fp32 otherwise.
        compile: wrap the model in ``torch.compile``.
        distributed: ``auto`` = DDP when launched by torchrun with WORLD_SIZE > 1.
        log_every / eval_every / save_every: in optimizer steps (0 disables eval/save).
        keep_checkpoints: how many recent checkpoints to keep.
        tensorboard / wandb: also log there (optional packages).
    """

    model: UnitLMConfig = field(default_factory=UnitLMConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    init: InitConfig = field(default_factory=InitConfig)
    out_dir: str = "runs/unit-lm"
    seed: int = 0
    device: str = "auto"
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    compile: bool = False
    distributed: Literal["auto", "none", "ddp", "fsdp"] = "auto"
    log_every: int = 10
    eval_every: int = 200
    save_every: int = 200
    keep_checkpoints: int = 2
    tensorboard: bool = False
    wandb: bool = False
