"""Train a vocoder (``spokenlm train-vocoder``): unit→mel, or a direct unit generator with GAN losses.

- ``unit-mel``: masked L1 between predicted and true log-mels (+ duration loss).
- ``unit-istft`` / ``unit-hifigan``: ``λ_mel·mel-L1 + λ_stft·multi-resolution STFT``, and after
  ``adversarial_start`` steps LSGAN + ``λ_fm·feature matching`` against MPD + MSD (HiFi-GAN);
  ``adversarial_start >= steps`` trains without discriminators.

Outputs in ``out_dir``: ``config.yaml`` (resolved), ``metrics.jsonl``, ``trainer_state/``
(rerunning the same command resumes from it), ``prepared_corpus.safetensors`` (token ids and
d-vectors, so a rerun does not tokenize the corpus again) and ``vocoder/`` (load with
:func:`spokenlm.vocoders.load_vocoder`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from spokenlm.atomic import atomic_write_text
from spokenlm.audio.features import MelConfig
from spokenlm.config import from_dict, save_config, to_dict
from spokenlm.errors import ConfigError
from spokenlm.nn.gan import discriminate
from spokenlm.perf import autocast
from spokenlm.tokenizers.audio_source import AudioDataConfig
from spokenlm.tokenizers.base import SpeechTokenizer, load_tokenizer
from spokenlm.tokenizers.codec.losses import MultiScaleSTFTLoss
from spokenlm.train.resume_state import load_training_state, save_training_state
from spokenlm.vocoders.corpus import Batch, load_vocoder_corpus, sample_batch
from spokenlm.vocoders.discriminators import DiscriminatorConfig, HiFiGANDiscriminator
from spokenlm.vocoders.losses import discriminator_loss, feature_matching_loss, generator_adversarial_loss, mel_l1_loss
from spokenlm.vocoders.model import VocoderModelConfig, VocoderNet
from spokenlm.vocoders.vocoder import VOCODER_SUBDIR, UnitVocoder

CPU = torch.device("cpu")
STATE_DIR = "trainer_state"
PREPARED_CACHE = "prepared_corpus.safetensors"  # token ids + d-vectors of the training corpus
METRICS = "metrics.jsonl"


@dataclass
class VocoderTrainConfig:
    """A vocoder training run.

    Attributes:
        tokenizer: folder of the tokenizer whose units the vocoder voices (sets vocab, rate, streams).
        data: training utterances (lhotse manifest and/or audio globs).
        model: the vocoder (kind, conditioning, network).
        speaker: ``"none"``, ``"table"`` (learned, one row per speaker) or ``"dvector"`` (resemblyzer).
        speaker_pattern: regex whose group 1 is the speaker in a file stem (when the manifest has none).
        discriminator: MPD + MSD widths (direct kinds with GAN).
        steps / batch_size / segment_frames: optimizer steps, crops per step, input frames per crop.
        learning_rate / betas: AdamW settings (HiFi-GAN: 2e-4, (0.8, 0.99)).
        lr_decay: multiplicative learning-rate decay per step.
        mel_weight / stft_weight / fm_weight / duration_weight: loss weights.
        adversarial_start: step at which discriminators join (``>= steps``: no GAN).
        log_every / checkpoint_every: steps between metric lines / resumable checkpoints.
        seed: seeds model init and crop sampling.
        precision: ``auto`` (bf16 autocast of the networks on AMX / AVX-512 BF16 CPUs), ``fp32`` or ``bf16``;
            losses (mels, STFTs) are always computed in fp32.
    """

    tokenizer: str = ""
    data: AudioDataConfig = field(default_factory=AudioDataConfig)
    model: VocoderModelConfig = field(default_factory=VocoderModelConfig)
    speaker: str = "none"
    speaker_pattern: str = r"^[^_]+_([^_]+)_"
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    steps: int = 1000
    batch_size: int = 8
    segment_frames: int = 32
    learning_rate: float = 2e-4
    betas: list[float] = field(default_factory=lambda: [0.8, 0.99])
    lr_decay: float = 1.0
    mel_weight: float = 45.0
    stft_weight: float = 0.0
    fm_weight: float = 2.0
    duration_weight: float = 1.0
    adversarial_start: int = 0
    log_every: int = 20
    checkpoint_every: int = 200
    seed: int = 0
    precision: str = "auto"


def loss_mel_config(sample_rate: int) -> MelConfig:
    """Mel used by the mel-L1 loss of direct generators (HiFi-GAN's, with fmax at Nyquist)."""
    return MelConfig(sample_rate=sample_rate, n_fft=1024, hop_length=256, n_mels=80, fmin=0.0, fmax=sample_rate / 2, power=1.0)


def resolve_model_config(config: VocoderTrainConfig, tokenizer: SpeechTokenizer) -> VocoderModelConfig:
    """Fill the model config from the tokenizer (vocab, streams, rate, name) and the speaker mode."""
    if config.speaker not in ("none", "table", "dvector"):
        raise ConfigError(f"speaker {config.speaker!r} is not one of none, table, dvector")
    model = config.model
    model.tokenizer = tokenizer.name
    model.frame_rate = float(tokenizer.frame_rate)
    model.conditioning.vocab_size = int(tokenizer.vocab_size)
    model.conditioning.num_streams = int(tokenizer.num_streams)
    model.conditioning.dvector = config.speaker == "dvector"
    if model.kind == "unit-istft":
        model.istft.hop_length = model.hop_length
        model.istft.n_fft = 4 * model.hop_length
    return model


def _write_metrics(path: Path, rows: list[dict[str, float]], after_step: int | None = None) -> None:
    """Append ``rows``; with ``after_step``, first drop lines logged after that step (not covered by a resumed state)."""
    lines = path.read_text().splitlines() if path.is_file() else []
    if after_step is not None:
        lines = [line for line in lines if line and json.loads(line)["step"] <= after_step]
    lines += [json.dumps(row) for row in rows]
    atomic_write_text(path, "".join(line + "\n" for line in lines))


def _generator_losses(
    net: VocoderNet, batch: Batch, config: VocoderTrainConfig, mel_config: MelConfig, stft: MultiScaleSTFTLoss
) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
    """Reconstruction + duration losses; returns (losses, generated waveform or None for unit-mel)."""
    losses = {"duration": net.duration.loss(batch.dedup_ids, batch.durations, batch.dedup_mask)}
    with autocast(config.precision, CPU):
        output = net.acoustic(batch.ids, batch.speaker, batch.f0_bins).float()
    if config.model.kind == "unit-mel":
        mask = batch.mask[:, None, :].expand_as(output)
        losses["mel"] = F.l1_loss(output[mask], batch.target[mask])
        return losses, None
    losses["mel"] = mel_l1_loss(output, batch.target, mel_config)
    if config.stft_weight:
        losses["stft"] = stft(output, batch.target)
    return losses, output


def train_step(
    net: VocoderNet,
    discriminator: HiFiGANDiscriminator | None,
    optimizers: dict[str, torch.optim.Optimizer],
    batch: Batch,
    config: VocoderTrainConfig,
    mel_config: MelConfig,
    stft: MultiScaleSTFTLoss,
) -> dict[str, float]:
    """One optimizer step on ``batch`` (discriminator first when given); returns the losses and their weighted ``total``."""
    losses, fake = _generator_losses(net, batch, config, mel_config, stft)
    total = config.duration_weight * losses["duration"] + config.mel_weight * losses["mel"] + config.stft_weight * losses.get("stft", 0.0)
    if discriminator is not None and fake is not None:
        d_loss = discriminator_loss(discriminate(discriminator, batch.target, config.precision),
                                    discriminate(discriminator, fake.detach(), config.precision))
        optimizers["discriminator"].zero_grad()
        d_loss.backward()
        optimizers["discriminator"].step()
        real_out = discriminate(discriminator, batch.target, config.precision)
        fake_out = discriminate(discriminator, fake, config.precision)
        losses.update(discriminator=d_loss, adversarial=generator_adversarial_loss(fake_out), feature_matching=feature_matching_loss(real_out, fake_out))
        total = total + losses["adversarial"] + config.fm_weight * losses["feature_matching"]
    optimizers["net"].zero_grad()
    total.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), 100.0)
    optimizers["net"].step()
    return {"total": float(total.detach()), **{k: float(v.detach()) for k, v in losses.items()}}


def _finished_vocoder(config: VocoderTrainConfig, out_dir: Path) -> UnitVocoder | None:
    """If ``out_dir`` holds a training state at or past ``config.steps``, export it without loading the corpus.

    This is how a run is cut short: stop it, rerun with ``steps`` = its last checkpoint step.
    """
    state = out_dir / STATE_DIR / "state.json"
    if not state.is_file():
        return None
    meta = json.loads(state.read_text())
    if meta["step"] < config.steps or "model" not in meta:
        return None
    model_config = from_dict(VocoderModelConfig, meta["model"])
    net = VocoderNet(model_config)
    load_training_state(out_dir / STATE_DIR, {"net": net}, {}, {})
    vocoder = UnitVocoder(model_config, net.eval())
    vocoder.save_pretrained(out_dir / VOCODER_SUBDIR)
    return vocoder


def train_vocoder(config: VocoderTrainConfig, out_dir: str | Path) -> UnitVocoder:
    """Train (or resume) as ``config`` says; the vocoder is saved to ``out_dir/vocoder`` and returned."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    out_dir = Path(out_dir)
    if not config.tokenizer:
        raise ConfigError("set tokenizer=<tokenizer folder> (the units the vocoder will voice)")
    finished = _finished_vocoder(config, out_dir)
    if finished is not None:
        return finished
    tokenizer = load_tokenizer(config.tokenizer)
    model_config = resolve_model_config(config, tokenizer)
    utterances, speakers, skipped = load_vocoder_corpus(
        config.data, tokenizer, model_config.validate(), config.speaker, config.speaker_pattern, out_dir / PREPARED_CACHE
    )
    if skipped:
        console.print(f"skipped {len(skipped)} unusable file(s); first: {skipped[0]}", highlight=False)
    model_config.speakers = speakers
    model_config.conditioning.num_speakers = len(speakers)
    save_config(config, out_dir)

    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    net = VocoderNet(model_config).train()
    optimizers = {"net": torch.optim.AdamW(net.parameters(), config.learning_rate, betas=tuple(config.betas))}
    modules: dict[str, torch.nn.Module] = {"net": net}
    direct = model_config.kind != "unit-mel"
    discriminator = None
    if direct and config.adversarial_start < config.steps:
        discriminator = HiFiGANDiscriminator(config.discriminator)
        modules["discriminator"] = discriminator
        optimizers["discriminator"] = torch.optim.AdamW(discriminator.parameters(), config.learning_rate, betas=tuple(config.betas))
    schedulers = [torch.optim.lr_scheduler.ExponentialLR(o, config.lr_decay) for o in optimizers.values()]
    step = 0
    metrics_path = out_dir / METRICS
    if (out_dir / STATE_DIR).is_dir():
        step = int(load_training_state(out_dir / STATE_DIR, modules, optimizers, {"batches": generator})["step"])
        for scheduler in schedulers:
            scheduler.last_epoch = step
            for group, base in zip(scheduler.optimizer.param_groups, scheduler.base_lrs):
                group["lr"] = base * config.lr_decay**step
        console.print(f"resuming from step {step}", highlight=False)
    _write_metrics(metrics_path, [], after_step=step)
    mel_config, stft = loss_mel_config(model_config.sample_rate), MultiScaleSTFTLoss()
    hop = model_config.hop_length if direct else 0
    pending: list[dict[str, float]] = []
    with Progress(transient=True) as progress:
        task = progress.add_task(f"training {model_config.kind}", total=config.steps, completed=step)
        while step < config.steps:
            batch = sample_batch(utterances, config.batch_size, config.segment_frames, hop, generator)
            losses = train_step(net, discriminator if step >= config.adversarial_start else None, optimizers, batch, config, mel_config, stft)
            for scheduler in schedulers:
                scheduler.step()
            step += 1
            progress.update(task, completed=step)
            if step % config.log_every == 0 or step == config.steps:
                pending.append({"step": step, **losses})
            if step % config.checkpoint_every == 0 or step == config.steps:
                _write_metrics(metrics_path, pending)
                pending = []
                save_training_state(out_dir / STATE_DIR, step, modules, optimizers, {"batches": generator}, {"model": to_dict(model_config)})
    vocoder = UnitVocoder(model_config, net.eval())
    vocoder.save_pretrained(out_dir / VOCODER_SUBDIR)
    return vocoder
