"""The vocoder task (``spokenlm train-vocoder``): unit→mel, or a direct unit generator with GAN losses.

- ``unit-mel``: masked L1 between predicted and true log-mels (+ duration loss).
- ``unit-istft`` / ``unit-hifigan``: ``λ_mel·mel-L1 + λ_stft·multi-resolution STFT``, and from
  ``adversarial_start`` on LSGAN + ``λ_fm·feature matching`` against MPD + MSD (HiFi-GAN);
  ``adversarial_start >= optim.max_steps`` trains without discriminators.

Outputs in the run folder: ``config.yaml`` (resolved), ``metrics.jsonl``/``.csv``, ``checkpoints/``
(rerunning the same command resumes from the latest; a run whose checkpoint is at ``optim.max_steps``
only exports), ``prepared_corpus.safetensors`` (token ids and d-vectors, so a rerun does not tokenize
the corpus again) and ``vocoder/`` (load with :func:`spokenlm.vocoders.load_vocoder`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from spokenlm.audio.features import MelConfig
from spokenlm.audio.loader import AudioDataConfig
from spokenlm.audio.reporting import report_skipped
from spokenlm.config import Renamed
from spokenlm.errors import ConfigError
from spokenlm.nn.discriminators import DiscriminatorConfig, HiFiGANDiscriminator
from spokenlm.nn.gan import discriminate, feature_matching_loss, lsgan_discriminator_loss, lsgan_generator_loss
from spokenlm.nn.losses import MultiScaleSTFTLoss, mel_l1_loss
from spokenlm.tokenizers.base import SpeechTokenizer, load_tokenizer
from spokenlm.train.checkpoints import MAIN
from spokenlm.train.config import LOOP_RENAMES, LoopConfig, OptimConfig
from spokenlm.train.loop import Loop
from spokenlm.train.task import LoopContext, Metrics, Phase, Task
from spokenlm.train.tasks.vocoder_data import Batch, load_vocoder_corpus, sample_batch
from spokenlm.vocoders.model import VocoderModelConfig, VocoderNet
from spokenlm.vocoders.vocoder import VOCODER_SUBDIR, UnitVocoder

PREPARED_CACHE = "prepared_corpus.safetensors"  # token ids + d-vectors of the training corpus
DISCRIMINATOR = "discriminator"
SPEAKER_MODES = ("none", "table", "dvector")


@dataclass
class VocoderTrainConfig(LoopConfig):
    """A vocoder training run (``optim``: AdamW, HiFi-GAN's 2e-4 and betas (0.8, 0.99), ``optim.batch_size`` crops).

    Attributes:
        tokenizer: folder of the tokenizer whose units the vocoder voices (sets vocab, rate, streams).
        data: training utterances (lhotse manifest and/or audio globs).
        model: the vocoder (kind, conditioning, network).
        speaker: ``"none"``, ``"table"`` (learned, one row per speaker) or ``"dvector"`` (resemblyzer).
        speaker_pattern: regex whose group 1 is the speaker in a file stem (when the manifest has none).
        discriminator: MPD + MSD widths (direct kinds with GAN); it trains with ``optim`` without clipping.
        segment_frames: input frames per crop.
        mel_weight / stft_weight / fm_weight / duration_weight: loss weights.
        adversarial_start: step at which discriminators join (``>= optim.max_steps``: no GAN).

    The networks run under ``precision``'s autocast; losses (mels, STFTs, durations) are always fp32.
    """

    RENAMED_KEYS: ClassVar[Renamed] = LOOP_RENAMES

    tokenizer: str = ""
    data: AudioDataConfig = field(default_factory=AudioDataConfig)
    model: VocoderModelConfig = field(default_factory=VocoderModelConfig)
    speaker: str = "none"
    speaker_pattern: str = r"^[^_]+_([^_]+)_"
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(
        lr=2e-4, schedule="exponential", warmup_steps=0, lr_decay=1.0, max_steps=1000, batch_size=8, weight_decay=0.01,
        decay_matrices_only=False, beta1=0.8, beta2=0.99, grad_clip=100.0))
    segment_frames: int = 32
    mel_weight: float = 45.0
    stft_weight: float = 0.0
    fm_weight: float = 2.0
    duration_weight: float = 1.0
    adversarial_start: int = 0
    log_every: int = 20


def loss_mel_config(sample_rate: int) -> MelConfig:
    """Mel used by the mel-L1 loss of direct generators (HiFi-GAN's, with fmax at Nyquist)."""
    return MelConfig(sample_rate=sample_rate, n_fft=1024, hop_length=256, n_mels=80, fmin=0.0, fmax=sample_rate / 2, power=1.0)


def resolve_model_config(config: VocoderTrainConfig, tokenizer: SpeechTokenizer) -> VocoderModelConfig:
    """Fill the model config from the tokenizer (vocab, streams, rate, name) and the speaker mode."""
    if config.speaker not in SPEAKER_MODES:
        raise ConfigError(f"speaker {config.speaker!r} is not one of {', '.join(SPEAKER_MODES)}")
    model = config.model
    model.tokenizer = tokenizer.name
    model.frame_rate = float(tokenizer.frame_rate)
    model.conditioning.vocab_size = int(tokenizer.vocab_size)
    model.conditioning.num_streams = int(tokenizer.num_streams)
    model.conditioning.dvector = config.speaker == "dvector"
    model.kind_spec.fit_to_rate(model)
    return model


def _to(batch: Batch, positions: list[int], device: torch.device) -> Batch:
    """Rows ``positions`` of every field of ``batch``, on ``device``."""
    values = {f.name: getattr(batch, f.name) for f in fields(batch)}
    return Batch(**{k: None if v is None else v[positions].to(device) for k, v in values.items()})


class VocoderTask(Task):
    """Unit→mel or unit→waveform training of a :class:`VocoderNet` (with MPD + MSD for direct kinds); one item is a crop."""

    item_name = "crops"
    metric_names = ("duration", "mel", "stft", "adversarial", "feature_matching")

    def __init__(self, config: VocoderTrainConfig) -> None:
        super().__init__()
        if not config.tokenizer:
            raise ConfigError("set tokenizer=<tokenizer folder> (the units the vocoder will voice)")
        self.config = config
        self.step = 0

    def load(self, ctx: LoopContext) -> None:
        c = self.config
        tokenizer = load_tokenizer(c.tokenizer)
        self.model_config = resolve_model_config(c, tokenizer)
        self.utterances, speakers, skipped = load_vocoder_corpus(
            c.data, tokenizer, self.model_config.validate(), c.speaker, c.speaker_pattern, ctx.out_dir / PREPARED_CACHE
        )
        report_skipped(skipped)
        self.skipped = len(skipped)
        self.model_config.speakers = speakers
        self.model_config.conditioning.num_speakers = len(speakers)

    def build(self, ctx: LoopContext) -> None:
        c = self.config
        self.generators = {"batches": torch.Generator().manual_seed(c.seed)}
        self.modules = {MAIN: VocoderNet(self.model_config).to(ctx.device)}
        self.direct = not self.model_config.kind_spec.outputs_mel
        if self.direct and c.adversarial_start < c.optim.max_steps:
            self.modules[DISCRIMINATOR] = HiFiGANDiscriminator(c.discriminator).to(ctx.device)
        self.mel_config, self.stft = loss_mel_config(self.model_config.sample_rate), MultiScaleSTFTLoss()

    def phases(self) -> list[Phase]:
        main = Phase(MAIN, self.config.optim)
        if DISCRIMINATOR not in self.modules:
            return [main]
        return [Phase(DISCRIMINATOR, replace(self.config.optim, grad_clip=0.0), start_step=self.config.adversarial_start), main]

    def draw(self, step: int) -> None:
        self.step = step
        hop = self.model_config.hop_length if self.direct else 0
        self.drawn = sample_batch(self.utterances, self.config.optim.batch_size, self.config.segment_frames, hop, self.generators["batches"])

    def batch(self, step: int, positions: list[int]) -> Batch:
        return _to(self.drawn, positions, self.ctx.device)

    def _generator(self, batch: Batch) -> dict[str, Any]:
        """Reconstruction and duration losses and their weighted total; the generated waveform (direct kinds)."""
        c = self.config
        with self.ctx.autocast():
            output, duration = self.train_modules[MAIN](batch.ids, batch.speaker, batch.f0_bins, batch.dedup_ids, batch.durations, batch.dedup_mask)
        output = output.float()
        terms = {"duration": duration}
        if not self.direct:
            mask = batch.mask[:, None, :].expand_as(output)
            terms["mel"] = F.l1_loss(output[mask], batch.target[mask])
        else:
            terms["mel"] = mel_l1_loss(output, batch.target, self.mel_config)
            if c.stft_weight:
                terms["stft"] = self.stft(output, batch.target)
        total = c.duration_weight * terms["duration"] + c.mel_weight * terms["mel"] + c.stft_weight * terms.get("stft", 0.0)
        return {"fake": output if self.direct else None, "terms": terms, "total": total}

    def loss(self, phase: str, batch: Batch, scratch: dict[str, Any]) -> tuple[torch.Tensor, Metrics]:
        if "total" not in scratch:
            scratch.update(self._generator(batch))
        discriminator, precision = self.train_modules.get(DISCRIMINATOR), self.ctx.precision
        if phase == DISCRIMINATOR:
            return lsgan_discriminator_loss(discriminate(discriminator, batch.target, precision), discriminate(discriminator, scratch["fake"].detach(), precision)), {}
        terms, total = dict(scratch["terms"]), scratch["total"]
        if discriminator is not None and self.step >= self.config.adversarial_start:
            real, fake = discriminate(discriminator, batch.target, precision), discriminate(discriminator, scratch["fake"], precision)
            terms.update(adversarial=lsgan_generator_loss(fake), feature_matching=feature_matching_loss(real, fake))
            total = total + terms["adversarial"] + self.config.fm_weight * terms["feature_matching"]
        return total, terms

    def finish(self, states: dict[str, dict[str, torch.Tensor]], val_loss: float | None, steps: int) -> dict[str, Any]:
        net = self.modules[MAIN]
        net.load_state_dict(states[MAIN])
        self.artifact = UnitVocoder(self.model_config, net.cpu().eval())
        self.artifact.save_pretrained(self.ctx.out_dir / VOCODER_SUBDIR)
        return {"kind": self.model_config.kind, "skipped": self.skipped}


def train_vocoder(config: VocoderTrainConfig, out_dir: str | Path) -> UnitVocoder | None:
    """Train (or resume) as ``config`` says; the vocoder is saved to ``out_dir/vocoder`` and returned (``None`` on ranks but the main one)."""
    task = VocoderTask(config)
    Loop(task, out_dir).fit()
    return task.artifact
