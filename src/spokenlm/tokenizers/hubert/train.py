"""HuBERT-style pre-training iterations and the ``hubert`` tokenizer trainer.

Iteration 1 predicts k-means clusters of MFCC frames; iteration ``i > 1``
predicts k-means clusters of layer ``target_layer`` of iteration ``i - 1``.
The final tokenizer is k-means on layer ``model.layer`` of the last iteration.

Work folder (``OUT/train/``), so a killed run resumes where it stopped::

    iter1/targets.safetensors   frame targets of every utterance (+ lengths)
    iter1/checkpoint/           model + optimizer + RNG + step (spokenlm.train.resume_state), every ``checkpoint_every`` steps
    iter1/encoder/              the finished encoder (an extractor folder)
    iter1/metrics.jsonl         {"step", "loss", "accuracy", "lr"} per step
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from spokenlm.atomic import atomic_write_text
from spokenlm.config import load_config, save_config
from spokenlm.errors import ConfigError
from spokenlm.perf import autocast
from spokenlm.tokenizers.audio_source import AudioDataConfig, load_training_audio
from spokenlm.tokenizers.base import TOKENIZER_TRAINERS
from spokenlm.tokenizers.extractors.base import FeatureExtractor, load_extractor
from spokenlm.tokenizers.extractors.own_hubert import OwnHubertExtractor
from spokenlm.tokenizers.extractors.spectral import MfccConfig, MfccExtractor
from spokenlm.tokenizers.fitting import extract_all, fit_unit_tokenizer
from spokenlm.train.resume_state import STATE_JSON, load_training_state, save_training_state
from spokenlm.tokenizers.hubert.model import HubertConfig, HubertModel
from spokenlm.tokenizers.quantizer import KMeansConfig, KMeansQuantizer
from spokenlm.tokenizers.reporting import console, report_skipped
from spokenlm.tokenizers.train_kmeans import RECIPE_NAME
from spokenlm.tokenizers.units import UnitTokenizer

StepCallback = Callable[[int, float], None]


@dataclass
class HubertTrainConfig:
    """Optimisation of one iteration.

    Attributes:
        steps: updates per iteration.
        batch_size: utterances per update.
        crop_seconds: longest crop per utterance; a batch is cropped to its shortest member.
        lr: peak AdamW learning rate after ``warmup_steps`` of linear warm-up, then cosine decay to 0.
        weight_decay / grad_clip: AdamW decay, gradient-norm clip.
        checkpoint_every: steps between resumable checkpoints.
        threads: torch CPU threads (0 = torch's default).
        device: where the encoder trains (``"cpu"``, ``"cuda"``, ``"cuda:1"`` …); features for
            targets and the final tokenizer run on the CPU.
        precision: ``auto`` (bf16 autocast on bf16-capable GPUs and AMX / AVX-512 BF16 CPUs), ``fp32`` or ``bf16``.
    """

    steps: int = 400
    batch_size: int = 8
    crop_seconds: float = 2.0
    lr: float = 5e-4
    warmup_steps: int = 40
    weight_decay: float = 0.01
    grad_clip: float = 10.0
    checkpoint_every: int = 100
    threads: int = 0
    device: str = "cpu"
    precision: str = "auto"


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


def compute_targets(extractor: FeatureExtractor, wavs: list[np.ndarray], kmeans: KMeansConfig) -> list[torch.Tensor]:
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
    data = load_file(str(path))
    return list(data["ids"].split(data["lengths"].tolist()))


def learning_rate(step: int, config: HubertTrainConfig) -> float:
    """Linear warm-up to ``lr`` over ``warmup_steps``, cosine decay to 0 at ``steps`` (``step`` counts from 1)."""
    if step <= config.warmup_steps:
        return config.lr * step / max(config.warmup_steps, 1)
    progress = (step - config.warmup_steps) / max(config.steps - config.warmup_steps, 1)
    return config.lr * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def sample_batch(
    wavs: list[np.ndarray], targets: list[torch.Tensor], model: HubertModel, config: HubertTrainConfig, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Frame-aligned random crops: waveforms ``[B, S]`` and their targets ``[B, T]`` (``T = model.num_frames(S)``)."""
    hop = model.config.hop_length
    picks = torch.randint(0, len(wavs), (config.batch_size,), generator=generator).tolist()
    crop = min(int(config.crop_seconds * model.config.sample_rate), *(len(wavs[i]) for i in picks))
    frames = model.num_frames(crop)
    batch_wavs, batch_targets = [], []
    for index in picks:
        usable = min((len(wavs[index]) - crop) // hop, len(targets[index]) - frames)
        start = int(torch.randint(0, max(usable, 0) + 1, (1,), generator=generator))
        batch_wavs.append(torch.from_numpy(wavs[index][start * hop : start * hop + crop]))
        batch_targets.append(targets[index][start : start + frames])
    return torch.stack(batch_wavs), torch.stack(batch_targets)


def train_iteration(
    model: HubertModel,
    wavs: list[np.ndarray],
    targets: list[torch.Tensor],
    config: HubertTrainConfig,
    work: Path,
    seed: int,
    on_step: StepCallback | None = None,
) -> list[float]:
    """Masked-prediction training of ``model`` on ``wavs`` (at the model's rate), resuming from ``work/checkpoint``.

    Every step is seeded by ``(seed, step)``, so a resumed run computes the same losses as
    an uninterrupted one. Returns the losses of the steps run in this call.
    """
    from rich.progress import Progress

    if config.threads:
        torch.set_num_threads(config.threads)
    device = torch.device(config.device)
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, betas=(0.9, 0.98), weight_decay=config.weight_decay)
    checkpoint, metrics_path = work / "checkpoint", work / "metrics.jsonl"
    step = int(load_training_state(checkpoint, {"model": model}, {"model": optimizer}, {})["step"]) if (checkpoint / STATE_JSON).exists() else 0
    kept = [line for line in (metrics_path.read_text().splitlines() if metrics_path.exists() else []) if json.loads(line)["step"] <= step]
    atomic_write_text(metrics_path, "".join(line + "\n" for line in kept))
    losses: list[float] = []
    model.train()
    with Progress(console=console, transient=True) as progress, open(metrics_path, "a") as metrics:
        task = progress.add_task(f"training {work.name}", total=config.steps, completed=step)
        while step < config.steps:
            step += 1
            torch.manual_seed(seed * 1_000_003 + step)
            generator = torch.Generator().manual_seed(seed * 1_000_003 + step)
            wav, target = sample_batch(wavs, targets, model, config, generator)
            lr = learning_rate(step, config)
            for group in optimizer.param_groups:
                group["lr"] = lr
            with autocast(config.precision, device):
                loss, accuracy = model.masked_prediction_loss(wav.to(device), target.to(device), generator)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            losses.append(loss.item())
            metrics.write(json.dumps({"step": step, "loss": loss.item(), "accuracy": accuracy, "lr": lr}) + "\n")
            metrics.flush()
            progress.update(task, advance=1, description=f"training {work.name} loss {loss.item():.3f}")
            if step % config.checkpoint_every == 0 or step == config.steps:
                save_training_state(checkpoint, step, {"model": model}, {"model": optimizer}, {})
            if on_step is not None:
                on_step(step, loss.item())
    model.cpu().eval()
    return losses


def run_iteration(recipe: HubertRecipe, iteration: int, wavs: list[np.ndarray], work: Path, on_step: StepCallback | None) -> OwnHubertExtractor:
    """Targets, training and the saved encoder of one iteration (each step skipped when already done)."""
    encoder_dir = work / "encoder"
    if (encoder_dir / "config.json").exists():
        return load_extractor(encoder_dir)  # type: ignore[return-value]
    work.mkdir(parents=True, exist_ok=True)
    targets_path = work / "targets.safetensors"
    clusters = recipe.target_clusters[iteration - 1]
    if targets_path.exists():
        targets = load_targets(targets_path)
    else:
        if iteration == 1:
            source: FeatureExtractor = MfccExtractor(recipe.mfcc)
        else:
            source = load_extractor(work.parent / f"iter{iteration - 1}" / "encoder", layer=recipe.target_layer)
        targets = compute_targets(source, wavs, dataclasses.replace(recipe.target_kmeans, k=clusters))
        save_targets(targets_path, targets)
    torch.manual_seed(recipe.seed + iteration)
    model = HubertModel(dataclasses.replace(recipe.model, num_targets=clusters))
    started = time.perf_counter()
    train_iteration(model, wavs, targets, recipe.train, work, recipe.seed + iteration, on_step)
    console.print(f"iteration {iteration}: {recipe.train.steps} steps, this run {time.perf_counter() - started:.1f} s")
    extractor = OwnHubertExtractor.from_model(model, recipe.model.layer)
    extractor.save_pretrained(encoder_dir)
    return extractor


@TOKENIZER_TRAINERS.register("hubert")
def train_hubert_tokenizer(
    config_path: str | Path | None, overrides: list[str], out_dir: str | Path, on_step: StepCallback | None = None
) -> UnitTokenizer:
    """Run the SSL iterations (resumable under ``out_dir/train``), then k-means on the last encoder; save into ``out_dir``."""
    recipe = load_config(HubertRecipe, config_path, overrides)
    out_dir = Path(out_dir)
    if recipe.mfcc.sample_rate / recipe.mfcc.hop_length != recipe.model.sample_rate / recipe.model.hop_length:
        raise ConfigError("mfcc frame rate must equal the encoder frame rate (set mfcc.hop_length to the conv stride product)")
    wavs, skipped = load_training_audio(recipe.data, recipe.model.sample_rate)
    report_skipped(skipped)
    encoders = [
        run_iteration(recipe, iteration, wavs, out_dir / "train" / f"iter{iteration}", on_step)
        for iteration in range(1, recipe.iterations + 1)
    ]
    tokenizer = fit_unit_tokenizer(encoders[-1], wavs, recipe.kmeans, recipe.name, recipe.dedup, recipe.bpe_vocab_size)
    tokenizer.save_pretrained(out_dir)
    save_config(recipe, out_dir, RECIPE_NAME)
    return tokenizer
