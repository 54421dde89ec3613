"""HuBERT-style pre-training on the loop, and the ``hubert`` tokenizer recipe that iterates it.

Iteration 1 predicts k-means clusters of MFCC frames; iteration ``i > 1``
predicts k-means clusters of layer ``target_layer`` of iteration ``i - 1``.
The final tokenizer is k-means on layer ``model.layer`` of the last iteration.

Work folder (``OUT/train/``), so a killed run resumes where it stopped::

    iter1/targets.safetensors   frame targets of every utterance (+ lengths)
    iter1/checkpoints/          the loop's checkpoints (model, optimizer, RNG, step), every ``train.save_every`` steps
    iter1/encoder/              the finished encoder (an encoder folder)
    iter1/metrics.jsonl         {"step", "loss", "accuracy", "lr", …} per step

Each step reseeds torch with ``(seed, step)``, so a step's crops, masks and dropout depend on the step alone.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from safetensors.torch import save_file

from spokenlm.audio.loader import AudioDataConfig, load_training_audio
from spokenlm.audio.reporting import console, report_skipped
from spokenlm.checkpoint import read_weights
from spokenlm.config import Renamed, load_config, save_config
from spokenlm.encoders.base import Encoder, load_encoder
from spokenlm.encoders.hubert import HubertEncoder
from spokenlm.encoders.hubert_model import HubertConfig, HubertModel
from spokenlm.encoders.spectral import MfccConfig, MfccEncoder
from spokenlm.errors import ConfigError
from spokenlm.tokenizers.fitting import extract_all, fit_unit_tokenizer
from spokenlm.tokenizers.quantizer import KMeansConfig, KMeansQuantizer
from spokenlm.tokenizers.train_kmeans import RECIPE_NAME
from spokenlm.tokenizers.units import UnitTokenizer
from spokenlm.train.checkpoints import MAIN
from spokenlm.train.config import LoopConfig, OptimConfig
from spokenlm.train.loop import Loop
from spokenlm.train.task import LoopContext, Metrics, Task


@dataclass
class HubertTrainConfig(LoopConfig):
    """Optimisation of one iteration (``optim``: AdamW, linear warmup, cosine decay to 0 at the last step; ``optim.batch_size`` crops).

    Attributes:
        crop_seconds: longest crop per utterance; a batch is cropped to its shortest member.

    ``seed`` is set per iteration from the recipe's ``seed``. Targets and the final tokenizer's
    features are computed on the CPU; the encoder trains on ``device``.
    """

    RENAMED_KEYS: ClassVar[Renamed] = {
        "steps": "optim.max_steps", "batch_size": "optim.batch_size", "lr": "optim.lr", "warmup_steps": "optim.warmup_steps",
        "weight_decay": "optim.weight_decay", "grad_clip": "optim.grad_clip", "checkpoint_every": "save_every",
    }

    optim: OptimConfig = field(default_factory=lambda: OptimConfig(
        lr=5e-4, schedule="cosine-to-floor", warmup_steps=40, min_lr_ratio=0.0, max_steps=400, batch_size=8, weight_decay=0.01,
        decay_matrices_only=False, beta1=0.9, beta2=0.98, grad_clip=10.0))
    crop_seconds: float = 2.0
    log_every: int = 1
    save_every: int = 100


@dataclass
class HubertRecipe:
    """``type: hubert`` recipe: SSL iterations, then k-means units.

    Attributes:
        type: always ``"hubert"``.
        name: tokenizer name, e.g. ``"hubert-tiny-km100"``.
        data: training audio (all of it is held in memory).
        model: encoder sizes; ``model.layer`` is the layer the final units are read from.
        train: optimisation per iteration.
        iterations: number of pre-training iterations (HuBERT Base uses 2).
        target_clusters: k of the targets of each iteration (iteration 1 on MFCC), one per iteration.
        target_layer: layer of iteration ``i - 1`` whose k-means gives iteration ``i``'s targets.
        mfcc: MFCC of iteration-1 targets (its frame rate must equal the encoder's).
        target_kmeans: k-means settings for targets (``k`` comes from ``target_clusters``).
        kmeans: k-means of the final units.
        dedup / bpe_vocab_size: as in the ``kmeans`` recipe.
        seed: seeds targets, batches, masks and dropout.
    """

    type: str = "hubert"
    name: str = "hubert-km100"
    data: AudioDataConfig = field(default_factory=AudioDataConfig)
    model: HubertConfig = field(default_factory=HubertConfig)
    train: HubertTrainConfig = field(default_factory=HubertTrainConfig)
    iterations: int = 2
    target_clusters: list[int] = field(default_factory=lambda: [100, 500])
    target_layer: int = 6
    mfcc: MfccConfig = field(default_factory=MfccConfig)
    target_kmeans: KMeansConfig = field(default_factory=KMeansConfig)
    kmeans: KMeansConfig = field(default_factory=KMeansConfig)
    dedup: bool = True
    bpe_vocab_size: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.iterations < 1:
            raise ConfigError(f"iterations must be at least 1, got {self.iterations}")
        if len(self.target_clusters) != self.iterations:
            raise ConfigError(f"target_clusters needs {self.iterations} values (one per iteration), got {self.target_clusters}")


def compute_targets(extractor: Encoder, wavs: list[np.ndarray], kmeans: KMeansConfig) -> list[torch.Tensor]:
    """k-means cluster ids ``[T_i]`` of ``extractor`` features of every waveform."""
    features = extract_all(extractor, wavs, description="target features")
    quantizer = KMeansQuantizer.fit(features, kmeans)
    return quantizer.assign_batch(features)


def save_targets(path: Path, targets: list[torch.Tensor]) -> None:
    lengths = torch.tensor([len(t) for t in targets], dtype=torch.int64)
    tmp = path.with_name(f".{path.name}.tmp")
    save_file({"ids": torch.cat(targets).to(torch.int64), "lengths": lengths}, str(tmp))
    tmp.replace(path)


def load_targets(path: Path) -> list[torch.Tensor]:
    data = read_weights(path)
    return list(data["ids"].split(data["lengths"].tolist()))


def sample_batch(
    wavs: list[np.ndarray], targets: list[torch.Tensor], model: HubertModel, config: HubertTrainConfig, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Frame-aligned random crops: waveforms ``[B, S]`` and their targets ``[B, T]`` (``T = model.num_frames(S)``)."""
    hop = model.config.hop_length
    picks = torch.randint(0, len(wavs), (config.optim.batch_size,), generator=generator).tolist()
    crop = min(int(config.crop_seconds * model.config.sample_rate), *(len(wavs[i]) for i in picks))
    frames = model.num_frames(crop)
    batch_wavs, batch_targets = [], []
    for index in picks:
        usable = min((len(wavs[index]) - crop) // hop, len(targets[index]) - frames)
        start = int(torch.randint(0, max(usable, 0) + 1, (1,), generator=generator))
        batch_wavs.append(torch.from_numpy(wavs[index][start * hop : start * hop + crop]))
        batch_targets.append(targets[index][start : start + frames])
    return torch.stack(batch_wavs), torch.stack(batch_targets)


class HubertTask(Task):
    """Masked prediction of frame targets by a :class:`HubertModel`; one item is a crop."""

    item_name = "crops"
    metric_names = ("accuracy",)

    def __init__(self, config: HubertTrainConfig, model: HubertConfig, wavs: list[np.ndarray], targets: list[torch.Tensor]) -> None:
        super().__init__()
        self.config, self.model_config, self.wavs, self.targets = config, model, wavs, targets

    def build(self, ctx: LoopContext) -> None:
        self.modules = {MAIN: HubertModel(self.model_config).to(ctx.device)}

    def training_seed(self, rank: int) -> None:
        return None  # every step reseeds (see draw)

    def draw(self, step: int) -> None:
        seed = self.config.seed * 1_000_003 + step + 1
        torch.manual_seed(seed + self.ctx.dist.rank)
        self.generator = torch.Generator().manual_seed(seed)
        self.drawn = sample_batch(self.wavs, self.targets, self.modules[MAIN], self.config, self.generator)

    def batch(self, step: int, positions: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        wav, target = self.drawn
        return wav[positions].to(self.ctx.device), target[positions].to(self.ctx.device)

    def loss(self, phase: str, batch: tuple[torch.Tensor, torch.Tensor], scratch: dict[str, Any]) -> tuple[torch.Tensor, Metrics]:
        wav, target = batch
        with self.ctx.autocast():
            loss, accuracy = self.train_modules[MAIN](wav, target, self.generator)
        return loss, {"accuracy": accuracy}

    def finish(self, states: dict[str, dict[str, torch.Tensor]], val_loss: float | None, steps: int) -> dict[str, Any]:
        model = self.modules[MAIN]
        model.load_state_dict(states[MAIN])
        model.cpu().eval()
        return {}


def train_iteration(model: HubertConfig, wavs: list[np.ndarray], targets: list[torch.Tensor], config: HubertTrainConfig, work: Path) -> HubertModel:
    """Masked-prediction training of a new model on ``wavs`` (at the model's rate) in ``work``, resuming from its checkpoints."""
    task = HubertTask(config, model, wavs, targets)
    Loop(task, work).fit()
    return task.modules[MAIN]


def run_iteration(recipe: HubertRecipe, iteration: int, wavs: list[np.ndarray], work: Path) -> HubertEncoder:
    """Targets, training and the saved encoder of one iteration (each step skipped when already done)."""
    encoder_dir = work / "encoder"
    if (encoder_dir / "config.json").exists():
        return load_encoder(encoder_dir)  # type: ignore[return-value]
    work.mkdir(parents=True, exist_ok=True)
    targets_path = work / "targets.safetensors"
    clusters = recipe.target_clusters[iteration - 1]
    if targets_path.exists():
        targets = load_targets(targets_path)
    else:
        if iteration == 1:
            source: Encoder = MfccEncoder(recipe.mfcc)
        else:
            source = load_encoder(work.parent / f"iter{iteration - 1}" / "encoder", layer=recipe.target_layer)
        targets = compute_targets(source, wavs, dataclasses.replace(recipe.target_kmeans, k=clusters))
        save_targets(targets_path, targets)
    started = time.perf_counter()
    config = dataclasses.replace(recipe.train, seed=recipe.seed + iteration)
    model = train_iteration(dataclasses.replace(recipe.model, num_targets=clusters), wavs, targets, config, work)
    console.print(f"iteration {iteration}: {config.optim.max_steps} steps, this run {time.perf_counter() - started:.1f} s")
    extractor = HubertEncoder.from_model(model, recipe.model.layer)
    extractor.save_pretrained(encoder_dir)
    return extractor


def train_hubert_tokenizer(config_path: str | Path | None, overrides: list[str] | tuple[str, ...], out_dir: str | Path) -> UnitTokenizer:
    """Run the SSL iterations (resumable under ``out_dir/train``), then k-means on the last encoder; save into ``out_dir``."""
    recipe = load_config(HubertRecipe, config_path, list(overrides))
    out_dir = Path(out_dir)
    if recipe.mfcc.sample_rate / recipe.mfcc.hop_length != recipe.model.sample_rate / recipe.model.hop_length:
        raise ConfigError("mfcc frame rate must equal the encoder frame rate (set mfcc.hop_length to the conv stride product)")
    wavs, skipped = load_training_audio(recipe.data, recipe.model.sample_rate)
    report_skipped(skipped)
    encoders = [
        run_iteration(recipe, iteration, wavs, out_dir / "train" / f"iter{iteration}")
        for iteration in range(1, recipe.iterations + 1)
    ]
    tokenizer = fit_unit_tokenizer(encoders[-1], wavs, recipe.kmeans, recipe.name, recipe.dedup, recipe.bpe_vocab_size)
    tokenizer.save_pretrained(out_dir)
    save_config(recipe, out_dir, RECIPE_NAME)
    return tokenizer
