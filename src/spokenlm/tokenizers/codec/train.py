"""Train a codec ("codec") or a mixed tokenizer ("mixed", first codebook distilled from a teacher).

Losses: multi-scale STFT + multi-scale log-mel + waveform L1 + RVQ commitment, optionally multi-scale
STFT discriminators (hinge) with feature matching, and for "mixed" the cosine
distillation of a teacher's features (any :class:`FeatureExtractor`, picked by
an extractor spec such as ``{"type": "mfcc"}``) into the first RVQ level.

Outputs in ``out_dir``: ``config.yaml`` (resolved), ``metrics.jsonl`` (one line
per logged step: losses and wall-clock seconds since this process started training), ``trainer_state/`` (resumable: rerunning continues from it)
and the trained tokenizer itself (``config.json`` + ``model.safetensors``, so ``load_tokenizer(out_dir)`` opens it).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from spokenlm.atomic import atomic_write_text
from spokenlm.audio.io import resample
from spokenlm.config import load_config, save_config
from spokenlm.nn.gan import discriminate
from spokenlm.perf import autocast
from spokenlm.errors import ConfigError
from spokenlm.tokenizers.audio_source import AudioDataConfig, load_training_audio
from spokenlm.tokenizers.base import TOKENIZER_TRAINERS
from spokenlm.tokenizers.codec.config import CodecConfig
from spokenlm.tokenizers.codec.discriminator import MultiScaleSTFTDiscriminator, discriminator_loss, generator_losses
from spokenlm.tokenizers.codec.losses import MultiScaleMelLoss, MultiScaleSTFTLoss, semantic_distillation_loss
from spokenlm.tokenizers.codec.model import CodecModel
from spokenlm.tokenizers.codec.tokenizer import CodecTokenizer, MixedTokenizer
from spokenlm.train.resume_state import load_training_state, save_training_state

STATE_DIR = "trainer_state"
METRICS = "metrics.jsonl"


@dataclass
class CodecTrainConfig:
    """A codec / mixed tokenizer training run.

    Attributes:
        type: ``"codec"`` or ``"mixed"`` (semantic distillation into codebook 1).
        name: tokenizer name stored in its tokens.
        seed: seeds model init, batch sampling and quantizer dropout.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        model: the codec architecture.
        data: training utterances (lhotse manifest and/or audio globs).
        segment_seconds: length of the random training crops, seconds.
        batch_size: crops per step.
        steps: optimizer steps in total.
        learning_rate: Adam learning rate (generator and discriminator).
        stft_weight: weight of the multi-scale STFT loss.
        mel_weight: weight of the multi-scale log-mel L1 loss (0 leaves it out).
        waveform_l1_weight: weight of the time-domain L1 loss.
        adversarial_weight: weight of the hinge GAN loss; 0 trains without discriminators.
        feature_matching_weight: weight of discriminator feature matching (when adversarial).
        discriminator_start: step from which the discriminators train and give losses.
        discriminator_channels: channels of each STFT discriminator.
        discriminator_fft_sizes: FFT sizes of the discriminator scales.
        teacher: extractor spec (``{"type": "mfcc"}``, ``{"type": "saved", "path": …}`` …) of the semantic teacher (mixed only).
        semantic_weight: weight of the distillation loss (mixed only).
        log_every: steps between lines of ``metrics.jsonl``.
        checkpoint_every: steps between saves of ``trainer_state/``.
        precision: ``auto`` (bf16 autocast of the convolutions on AMX / AVX-512 BF16 CPUs and on GPUs),
            ``fp32`` or ``bf16``; the RVQ and every loss stay fp32.
    """

    type: Literal["codec", "mixed"] = "codec"
    name: str = "codec"
    seed: int = 0
    device: str = "cpu"
    model: CodecConfig = field(default_factory=CodecConfig)
    data: AudioDataConfig = field(default_factory=AudioDataConfig)
    segment_seconds: float = 1.0
    batch_size: int = 8
    steps: int = 1000
    learning_rate: float = 1e-3
    stft_weight: float = 1.0
    mel_weight: float = 0.0
    waveform_l1_weight: float = 0.1
    adversarial_weight: float = 0.0
    feature_matching_weight: float = 2.0
    discriminator_start: int = 0
    discriminator_channels: int = 16
    discriminator_fft_sizes: list[int] = field(default_factory=lambda: [256, 512, 1024])
    teacher: dict[str, Any] = field(default_factory=lambda: {"type": "mfcc"})
    semantic_weight: float = 1.0
    log_every: int = 10
    checkpoint_every: int = 200
    precision: str = "auto"


def teacher_frames(extractor: Any, wav: np.ndarray, sr: int, frames: int) -> torch.Tensor:
    """Teacher features of ``wav`` ``[samples]`` at ``sr`` Hz, linearly resampled in time to ``[D, frames]``."""
    features = extractor.extract(resample(wav, sr, extractor.sample_rate)).float()  # [T', D]
    return F.interpolate(features.t()[None], size=frames, mode="linear", align_corners=False)[0]


@dataclass
class Corpus:
    """Training waveforms ``[samples]`` at the model rate and, for mixed, teacher features ``[D, frames]`` per clip."""

    wavs: list[np.ndarray]
    teachers: list[torch.Tensor] | None
    hop: int

    def batch(self, size: int, frames: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """Random crops: audio ``[B, 1, frames * hop]``, teacher ``[B, D, frames]`` or ``None``, valid-frame mask ``[B, frames]``."""
        audio = torch.zeros(size, 1, frames * self.hop)
        teacher = torch.zeros(size, self.teachers[0].shape[0], frames) if self.teachers else None
        valid = torch.zeros(size, frames, dtype=torch.bool)
        for b in range(size):
            index = int(torch.randint(len(self.wavs), (), generator=generator))
            wav = self.wavs[index]
            clip_frames = -(-len(wav) // self.hop)
            start = int(torch.randint(max(clip_frames - frames, 0) + 1, (), generator=generator))
            piece = wav[start * self.hop : (start + frames) * self.hop]
            audio[b, 0, : len(piece)] = torch.from_numpy(piece)
            used = min(frames, clip_frames - start)
            valid[b, :used] = True
            if teacher is not None:
                teacher[b, :, :used] = self.teachers[index][:, start : start + used]
        return audio, teacher, valid


def load_corpus(config: CodecTrainConfig) -> tuple[Corpus, Any]:
    """Load the training audio (skipping and reporting bad files) and, for mixed, the teacher features."""
    from rich.console import Console
    from rich.progress import track

    console = Console(stderr=True)
    sr, hop = config.model.sample_rate, config.model.hop_length
    wavs, skipped = load_training_audio(config.data, sr)
    if skipped:
        console.print(f"skipped {len(skipped)} unusable file(s); first: {skipped[0]}")
    if not wavs:
        raise ConfigError("no usable training audio")
    if config.type != "mixed":
        return Corpus(wavs, None, hop), None
    from spokenlm.tokenizers.extractors.base import build_extractor

    extractor = build_extractor(config.teacher)
    teachers = [teacher_frames(extractor, w, sr, -(-len(w) // hop)) for w in track(wavs, description="teacher features", transient=True)]
    return Corpus(wavs, teachers, hop), extractor


def _device(name: str) -> torch.device:
    return torch.device("cuda" if name == "auto" and torch.cuda.is_available() else ("cpu" if name == "auto" else name))


def _append_metrics(path: Path, rows: list[dict[str, float]]) -> None:
    with path.open("a") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop metric lines after ``step`` (logged before a crash but not covered by the resumed state)."""
    if path.is_file():
        kept = [line for line in path.read_text().splitlines() if line and json.loads(line)["step"] <= step]
        atomic_write_text(path, "".join(line + "\n" for line in kept))


def train_codec(config: CodecTrainConfig, out_dir: str | Path) -> CodecTokenizer:
    """Train (or resume training) as ``config`` says; returns the trained tokenizer, also saved to ``out_dir/tokenizer``."""
    from rich.progress import Progress

    out_dir = Path(out_dir)
    save_config(config, out_dir)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    corpus, extractor = load_corpus(config)
    model_config = config.model
    model_config.semantic_dim = extractor.dim if extractor is not None else 0
    device = _device(config.device)
    model = CodecModel(model_config).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, betas=(0.5, 0.9))
    modules: dict[str, torch.nn.Module] = {"model": model}
    optimizers: dict[str, torch.optim.Optimizer] = {"model": optimizer}
    discriminator = None
    if config.adversarial_weight > 0:
        discriminator = MultiScaleSTFTDiscriminator(tuple(config.discriminator_fft_sizes), config.discriminator_channels).to(device)
        modules["discriminator"] = discriminator
        optimizers["discriminator"] = torch.optim.Adam(discriminator.parameters(), lr=config.learning_rate, betas=(0.5, 0.9))
    step = 0
    metrics_path = out_dir / METRICS
    if (out_dir / STATE_DIR).is_dir():
        step = int(load_training_state(out_dir / STATE_DIR, modules, optimizers, {"batches": generator})["step"])
    _truncate_metrics(metrics_path, step)
    stft_loss = MultiScaleSTFTLoss()
    mel_loss = MultiScaleMelLoss(model_config.sample_rate)
    frames = max(1, round(config.segment_seconds * model_config.frame_rate))
    pending: list[dict[str, float]] = []
    started = time.monotonic()
    with Progress(transient=True) as progress:
        task = progress.add_task(f"training {config.type}", total=config.steps, completed=step)
        while step < config.steps:
            audio, teacher, valid = corpus.batch(config.batch_size, frames, generator)
            audio = audio.to(device)
            num_codebooks = model.quantizer.sample_num_codebooks(generator)
            with autocast(config.precision, device):
                out = model(audio, num_codebooks)
            out = out.float()
            losses = {
                "stft": stft_loss(out.reconstruction, audio),
                "l1": F.l1_loss(out.reconstruction, audio),
                "commitment": out.commitment,
            }
            total = config.stft_weight * losses["stft"] + config.waveform_l1_weight * losses["l1"] + model_config.commitment_weight * out.commitment
            if config.mel_weight > 0:
                losses["mel"] = mel_loss(out.reconstruction, audio)
                total = total + config.mel_weight * losses["mel"]
            if out.semantic is not None and teacher is not None:
                mask = valid.to(device)
                losses["semantic"] = semantic_distillation_loss(
                    out.semantic.transpose(1, 2)[mask][..., None], teacher.to(device).transpose(1, 2)[mask][..., None]
                )
                total = total + config.semantic_weight * losses["semantic"]
            if discriminator is not None and step >= config.discriminator_start:
                d_loss = discriminator_loss(discriminate(discriminator, audio, config.precision),
                                            discriminate(discriminator, out.reconstruction.detach(), config.precision))
                optimizers["discriminator"].zero_grad()
                d_loss.backward()
                optimizers["discriminator"].step()
                adversarial, matching = generator_losses(discriminate(discriminator, audio, config.precision),
                                                         discriminate(discriminator, out.reconstruction, config.precision))
                losses.update(discriminator=d_loss, adversarial=adversarial, feature_matching=matching)
                total = total + config.adversarial_weight * adversarial + config.feature_matching_weight * matching
            optimizer.zero_grad()
            total.backward()
            optimizer.step()
            step += 1
            progress.update(task, completed=step)
            if step % config.log_every == 0 or step == config.steps:
                pending.append({"step": step, "elapsed_s": round(time.monotonic() - started, 3), "num_codebooks": num_codebooks, "total": float(total.detach()), **{k: float(v.detach()) for k, v in losses.items()}})
            if step % config.checkpoint_every == 0 or step == config.steps:
                _append_metrics(metrics_path, pending)
                pending = []
                save_training_state(out_dir / STATE_DIR, step, modules, optimizers, {"batches": generator})
    model = model.eval()
    if config.type == "mixed":
        tokenizer: CodecTokenizer = MixedTokenizer(model, config.name, teacher=config.teacher)
    else:
        tokenizer = CodecTokenizer(model, config.name)
    tokenizer.save_pretrained(out_dir)
    return tokenizer


def _register(kind: str) -> None:
    def train(config_path: str | Path | None, overrides: list[str] | tuple[str, ...], out_dir: str | Path) -> CodecTokenizer:
        config = load_config(CodecTrainConfig, config_path, list(overrides), base=CodecTrainConfig(type=kind, name=kind))
        if config.type != kind:
            raise ConfigError(f"recipe type {config.type!r} given to the {kind!r} trainer")
        return train_codec(config, out_dir)

    train.__doc__ = f"Train a {kind!r} tokenizer from a YAML recipe plus key=value overrides into ``out_dir``."
    TOKENIZER_TRAINERS.register(kind)(train)


_register("codec")
_register("mixed")
