"""The codec task (``type: codec``) and the mixed-tokenizer task (``type: mixed``, codebook 1 distilled from a teacher).

Losses: multi-scale STFT + multi-scale log-mel + waveform L1 + RVQ commitment, optionally multi-scale
STFT discriminators (hinge) with feature matching from ``discriminator_start`` on, and for ``mixed``
the cosine distillation of a teacher's features (any encoder, picked by a spec such as
``{"type": "mfcc"}``) into the first RVQ level.

Outputs in the run folder: ``config.yaml`` (resolved), ``metrics.jsonl``/``.csv``, ``checkpoints/``
(rerunning continues from the latest) and the trained tokenizer itself (``config.json`` +
``model.safetensors``, so ``load_tokenizer(out_dir)`` opens it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
import torch.nn.functional as F

from spokenlm.audio.io import resample
from spokenlm.audio.loader import AudioDataConfig, load_training_audio
from spokenlm.audio.reporting import report_skipped
from spokenlm.config import Renamed
from spokenlm.encoders.base import Encoder, build_encoder
from spokenlm.errors import ConfigError
from spokenlm.nn.discriminators import MultiScaleSTFTDiscriminator
from spokenlm.nn.gan import discriminate, hinge_discriminator_loss, hinge_generator_loss, relative_feature_matching_loss
from spokenlm.nn.losses import MultiScaleMelLoss, MultiScaleSTFTLoss, semantic_distillation_loss
from spokenlm.tokenizers.codec.config import CodecConfig
from spokenlm.tokenizers.codec.model import CodecModel
from spokenlm.tokenizers.codec.tokenizer import CodecTokenizer, MixedTokenizer
from spokenlm.train.checkpoints import MAIN
from spokenlm.train.config import LOOP_RENAMES, LoopConfig, OptimConfig
from spokenlm.train.task import LoopContext, Metrics, Phase, Task

DISCRIMINATOR = "discriminator"


@dataclass
class CodecTrainConfig(LoopConfig):
    """A codec / mixed tokenizer training run (``optim.batch_size`` crops per step).

    Attributes:
        type: ``"codec"`` or ``"mixed"`` (semantic distillation into codebook 1).
        name: tokenizer name stored in its tokens.
        model: the codec architecture.
        data: training utterances (lhotse manifest and/or audio globs).
        segment_seconds: length of the random training crops, seconds.
        stft_weight: weight of the multi-scale STFT loss.
        mel_weight: weight of the multi-scale log-mel L1 loss (0 leaves it out).
        waveform_l1_weight: weight of the time-domain L1 loss.
        adversarial_weight: weight of the hinge GAN loss; 0 trains without discriminators.
        feature_matching_weight: weight of discriminator feature matching (when adversarial).
        discriminator_start: step from which the discriminators train and give losses.
        discriminator_channels: channels of each STFT discriminator.
        discriminator_fft_sizes: FFT sizes of the discriminator scales.
        teacher: encoder spec (``{"type": "mfcc"}``, ``{"type": "saved", "path": …}`` …) of the semantic teacher (mixed only).
        semantic_weight: weight of the distillation loss (mixed only).

    The networks run under ``precision``'s autocast; the RVQ and every loss stay fp32.
    """

    RENAMED_KEYS: ClassVar[Renamed] = LOOP_RENAMES

    type: Literal["codec", "mixed"] = "codec"
    name: str = "codec"
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(
        lr=1e-3, schedule="constant", warmup_steps=0, max_steps=1000, batch_size=8, weight_decay=0.0, decay_matrices_only=False,
        beta1=0.5, beta2=0.9, grad_clip=0.0))
    model: CodecConfig = field(default_factory=CodecConfig)
    data: AudioDataConfig = field(default_factory=AudioDataConfig)
    segment_seconds: float = 1.0
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


def teacher_frames(encoder: Encoder, wav: np.ndarray, sr: int, frames: int) -> torch.Tensor:
    """Teacher features of ``wav`` ``[samples]`` at ``sr`` Hz, linearly resampled in time to ``[D, frames]``."""
    features = encoder.extract(resample(wav, sr, encoder.sample_rate)).float()  # [T', D]
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


def load_corpus(config: CodecTrainConfig) -> tuple[Corpus, Encoder | None]:
    """Load the training audio (skipping and reporting bad files) and, for mixed, the teacher features."""
    from rich.progress import track

    sr, hop = config.model.sample_rate, config.model.hop_length
    wavs, skipped = load_training_audio(config.data, sr)
    report_skipped(skipped)
    if not wavs:
        raise ConfigError("no usable training audio")
    if config.type != "mixed":
        return Corpus(wavs, None, hop), None
    encoder = build_encoder(config.teacher)
    teachers = [teacher_frames(encoder, w, sr, -(-len(w) // hop)) for w in track(wavs, description="teacher features", transient=True)]
    return Corpus(wavs, teachers, hop), encoder


@dataclass
class CodecBatch:
    """One micro-batch: audio ``[b, 1, samples]``, teacher ``[b, D, frames]`` or ``None``, valid frames ``[b, frames]``,
    and the step's number of codebooks (quantizer dropout)."""

    audio: torch.Tensor
    teacher: torch.Tensor | None
    valid: torch.Tensor
    num_codebooks: int


class CodecTask(Task):
    """Reconstruction (+ distillation, + adversarial) training of a :class:`CodecModel`; one item is a crop."""

    item_name = "crops"
    metric_names = ("stft", "l1", "commitment", "mel", "semantic", "adversarial", "feature_matching", "num_codebooks")

    def __init__(self, config: CodecTrainConfig) -> None:
        super().__init__()
        self.config = config
        self.step = 0

    def load(self, ctx: LoopContext) -> None:
        self.corpus, encoder = load_corpus(self.config)
        self.config.model.semantic_dim = encoder.dim if encoder is not None else 0

    def build(self, ctx: LoopContext) -> None:
        c = self.config
        self.generators = {"batches": torch.Generator().manual_seed(c.seed)}
        self.modules = {MAIN: CodecModel(c.model).to(ctx.device)}
        if c.adversarial_weight > 0:
            self.modules[DISCRIMINATOR] = MultiScaleSTFTDiscriminator(tuple(c.discriminator_fft_sizes), c.discriminator_channels).to(ctx.device)
        self.frames = max(1, round(c.segment_seconds * c.model.frame_rate))
        self.stft_loss = MultiScaleSTFTLoss()
        self.mel_loss = MultiScaleMelLoss(c.model.sample_rate)

    def phases(self) -> list[Phase]:
        main = Phase(MAIN, self.config.optim)
        if DISCRIMINATOR not in self.modules:
            return [main]
        return [Phase(DISCRIMINATOR, self.config.optim, start_step=self.config.discriminator_start), main]

    def draw(self, step: int) -> None:
        generator = self.generators["batches"]
        self.step = step
        self.drawn = (*self.corpus.batch(self.config.optim.batch_size, self.frames, generator), self.modules[MAIN].quantizer.sample_num_codebooks(generator))

    def batch(self, step: int, positions: list[int]) -> CodecBatch:
        audio, teacher, valid, num_codebooks = self.drawn
        device = self.ctx.device
        return CodecBatch(audio[positions].to(device), None if teacher is None else teacher[positions].to(device), valid[positions].to(device), num_codebooks)

    def _reconstruction(self, batch: CodecBatch) -> dict[str, Any]:
        c = self.config
        with self.ctx.autocast():
            out = self.train_modules[MAIN](batch.audio, batch.num_codebooks)
        out = out.float()
        terms = {"stft": self.stft_loss(out.reconstruction, batch.audio), "l1": F.l1_loss(out.reconstruction, batch.audio), "commitment": out.commitment}
        total = c.stft_weight * terms["stft"] + c.waveform_l1_weight * terms["l1"] + c.model.commitment_weight * out.commitment
        if c.mel_weight > 0:
            terms["mel"] = self.mel_loss(out.reconstruction, batch.audio)
            total = total + c.mel_weight * terms["mel"]
        if out.semantic is not None and batch.teacher is not None:
            mask = batch.valid
            terms["semantic"] = semantic_distillation_loss(out.semantic.transpose(1, 2)[mask][..., None], batch.teacher.transpose(1, 2)[mask][..., None])
            total = total + c.semantic_weight * terms["semantic"]
        return {"reconstruction": out.reconstruction, "terms": terms, "total": total}

    def loss(self, phase: str, batch: CodecBatch, scratch: dict[str, Any]) -> tuple[torch.Tensor, Metrics]:
        if "total" not in scratch:
            scratch.update(self._reconstruction(batch))
        discriminator, precision = self.train_modules.get(DISCRIMINATOR), self.ctx.precision
        if phase == DISCRIMINATOR:
            return hinge_discriminator_loss(discriminate(discriminator, batch.audio, precision),
                                            discriminate(discriminator, scratch["reconstruction"].detach(), precision)), {}
        terms, total = dict(scratch["terms"]), scratch["total"]
        if discriminator is not None and self.step >= self.config.discriminator_start:
            real, fake = discriminate(discriminator, batch.audio, precision), discriminate(discriminator, scratch["reconstruction"], precision)
            terms.update(adversarial=hinge_generator_loss(fake), feature_matching=relative_feature_matching_loss(real, fake))
            total = total + self.config.adversarial_weight * terms["adversarial"] + self.config.feature_matching_weight * terms["feature_matching"]
        return total, {**terms, "num_codebooks": batch.num_codebooks}

    def finish(self, states: dict[str, dict[str, torch.Tensor]], val_loss: float | None, steps: int) -> dict[str, Any]:
        model = self.modules[MAIN]
        model.load_state_dict(states[MAIN])
        model.eval()
        if self.config.type == "mixed":
            tokenizer: CodecTokenizer = MixedTokenizer(model, self.config.name, teacher=self.config.teacher)
        else:
            tokenizer = CodecTokenizer(model, self.config.name)
        tokenizer.save_pretrained(self.ctx.out_dir)
        self.artifact = tokenizer
        return {"name": tokenizer.name, "bitrate": tokenizer.bitrate}
