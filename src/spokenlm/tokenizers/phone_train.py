"""Train a :class:`~spokenlm.tokenizers.phone.PhoneTokenizer` ("phone") on a paired corpus.

Each cut's frame phone labels come from its supervisions' stored phone timings
(``custom["alignment"]``, as TTS engines give them, or lhotse's
``alignment["phones"]``) or else from a pocketsphinx forced alignment of the
supervision text (:mod:`spokenlm.align`). The classifier is trained with
frame-level cross-entropy on random crops.

Outputs in ``out_dir``: ``config.yaml`` (resolved), ``metrics.jsonl``,
``trainer_state/`` (rerunning resumes from it) and the tokenizer itself
(``config.json`` + ``model.safetensors``: ``load_tokenizer(out_dir)`` opens it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from spokenlm.align.cuts import cut_phones
from spokenlm.align.phones import PHONE_SET, frame_labels
from spokenlm.align.pocketsphinx_aligner import AlignmentError
from spokenlm.atomic import atomic_write_text
from spokenlm.config import load_config, save_config
from spokenlm.errors import AudioError, ConfigError
from spokenlm.tokenizers.audio_source import iter_cuts, load_cut
from spokenlm.tokenizers.base import TOKENIZER_TRAINERS
from spokenlm.train.resume_state import load_training_state, save_training_state
from spokenlm.tokenizers.phone import PhoneTokenizer
from spokenlm.tokenizers.phone_model import PhoneClassifier, PhoneClassifierConfig, normalized_log_mel

STATE_DIR = "trainer_state"
METRICS = "metrics.jsonl"
IGNORE = -100


@dataclass
class PhoneDataConfig:
    """The paired corpus.

    Attributes:
        manifest: lhotse CutSet (``cuts.jsonl.gz``) whose supervisions have ``text`` and/or phone timings.
        split: keep only cuts whose supervisions' ``custom["split"]`` equals this (``None``: all cuts).
        max_items: use at most this many cuts (first in order), ``None`` for all.
    """

    manifest: str = ""
    split: str | None = "train"
    max_items: int | None = None


@dataclass
class PhoneTrainConfig:
    """A phone-tokenizer training run.

    Attributes:
        type: always ``"phone"``.
        name: tokenizer name stored in its tokens.
        dedup: the saved tokenizer collapses repeated phones (tokens with durations).
        seed: seeds model init and batch sampling.
        model: classifier architecture.
        data: training corpus.
        segment_seconds: random crop length, seconds.
        batch_size: crops per step.
        steps: optimizer steps in total.
        learning_rate: AdamW learning rate (cosine decay to 10 % over ``steps``).
        mel_shift: largest random shift of the mel axis, bins (a cheap vocal-tract-length perturbation; 0 = off).
        log_every: steps between ``metrics.jsonl`` lines.
        checkpoint_every: steps between saves of ``trainer_state/``.
    """

    type: Literal["phone"] = "phone"
    name: str = "phone"
    dedup: bool = True
    seed: int = 0
    model: PhoneClassifierConfig = field(default_factory=PhoneClassifierConfig)
    data: PhoneDataConfig = field(default_factory=PhoneDataConfig)
    segment_seconds: float = 3.0
    batch_size: int = 16
    steps: int = 600
    learning_rate: float = 3e-3
    mel_shift: int = 2
    log_every: int = 10
    checkpoint_every: int = 100


@dataclass
class LabelledCorpus:
    """Normalised log-mel ``[n_mels, T_mel]`` and phone ids ``[T]`` (at the classifier rate) per utterance."""

    mels: list[torch.Tensor]
    labels: list[torch.Tensor]
    skipped: list[str]

    def batch(
        self, size: int, frames: int, stride: int, mel_shift: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Random crops: mel ``[B, n_mels, frames·stride]``, lengths ``[B]`` (mel frames), labels ``[B, frames]`` (−100 = padding)."""
        n_mels = self.mels[0].shape[0]
        mel = torch.zeros(size, n_mels, frames * stride)
        labels = torch.full((size, frames), IGNORE, dtype=torch.long)
        lengths = torch.zeros(size, dtype=torch.long)
        for b in range(size):
            index = int(torch.randint(len(self.mels), (), generator=generator))
            target = self.labels[index]
            start = int(torch.randint(max(len(target) - frames, 0) + 1, (), generator=generator))
            piece = target[start : start + frames]
            labels[b, : len(piece)] = piece
            crop = self.mels[index][:, start * stride : (start + frames) * stride]
            shift = int(torch.randint(-mel_shift, mel_shift + 1, (), generator=generator)) if mel_shift else 0
            if shift:
                crop = torch.roll(crop, shift, dims=0)
                edge = slice(0, shift) if shift > 0 else slice(n_mels + shift, n_mels)
                crop[edge] = crop[shift if shift > 0 else n_mels + shift - 1]
            mel[b, :, : crop.shape[1]] = crop
            lengths[b] = crop.shape[1]
        return mel, lengths, labels


def _keep(cut: object, split: str | None) -> bool:
    if split is None:
        return True
    return any((s.custom or {}).get("split", "train") == split for s in cut.supervisions)  # type: ignore[attr-defined]


def load_labelled_corpus(config: PhoneTrainConfig) -> LabelledCorpus:
    """Load, label and featurize the training cuts; unusable ones (bad audio, no alignment) are skipped and listed."""
    from rich.progress import track

    if not config.data.manifest:
        raise ConfigError("data.manifest is required (a lhotse CutSet with text or phone timings)")
    model = config.model
    cuts = [c for c in iter_cuts(config.data.manifest) if _keep(c, config.data.split)]
    cuts = cuts[: config.data.max_items] if config.data.max_items else cuts
    index = {phone: i for i, phone in enumerate(PHONE_SET)}
    mels, labels, skipped = [], [], []
    for cut in track(cuts, description="aligning and featurizing", transient=True):
        try:
            wav = load_cut(cut, model.sample_rate)
            segments = cut_phones(cut, wav, model.sample_rate)
        except (AudioError, AlignmentError) as err:
            skipped.append(str(err))
            continue
        unknown = sorted({s.phone for s in segments} - set(index))
        if unknown:
            skipped.append(f"{cut.id}: phones outside the ARPAbet set: {', '.join(unknown)}")
            continue
        names = frame_labels(segments, model.frame_rate, model.output_frames(len(wav)))
        mel, _ = normalized_log_mel([wav], model)
        mels.append(mel[0])
        labels.append(torch.tensor([index[n] for n in names]))
    if not mels:
        raise ConfigError(f"no usable training cuts in {config.data.manifest} ({len(skipped)} skipped)")
    return LabelledCorpus(mels, labels, skipped)


def _learning_rate(config: PhoneTrainConfig, step: int) -> float:
    """Cosine decay from ``learning_rate`` to 10 % of it over ``steps``."""
    return config.learning_rate * (0.1 + 0.45 * (1 + float(np.cos(np.pi * min(step / config.steps, 1.0)))))


def _write_metrics(path: Path, rows: list[dict]) -> None:
    import json

    atomic_write_text(path, "".join(json.dumps(row) + "\n" for row in rows))


def train_phone_tokenizer(config: PhoneTrainConfig, out_dir: str | Path) -> PhoneTokenizer:
    """Train (or resume) as ``config`` says; the tokenizer is returned and saved into ``out_dir``."""
    from rich.console import Console
    from rich.progress import Progress

    out_dir = Path(out_dir)
    save_config(config, out_dir)
    console = Console(stderr=True)
    corpus = load_labelled_corpus(config)
    if corpus.skipped:
        console.print(f"skipped {len(corpus.skipped)} cut(s); first: {corpus.skipped[0]}", highlight=False)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    model = PhoneClassifier(config.model).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
    step, rows = 0, []
    if (out_dir / STATE_DIR).is_dir():
        meta = load_training_state(out_dir / STATE_DIR, {"model": model}, {"model": optimizer}, {"batches": generator})
        step, rows = int(meta["step"]), list(meta["metrics"])
    frames = max(1, round(config.segment_seconds * config.model.frame_rate))
    with Progress(transient=True) as progress:
        task = progress.add_task("training phone classifier", total=config.steps, completed=step)
        while step < config.steps:
            mel, lengths, labels = corpus.batch(config.batch_size, frames, config.model.stride, config.mel_shift, generator)
            logits, _ = model(mel, lengths)
            loss = F.cross_entropy(logits[:, : labels.shape[1]].reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=IGNORE)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            for group in optimizer.param_groups:
                group["lr"] = _learning_rate(config, step)
            optimizer.step()
            step += 1
            progress.update(task, completed=step)
            if step % config.log_every == 0 or step == config.steps:
                mask = labels != IGNORE
                accuracy = (logits[:, : labels.shape[1]].argmax(-1)[mask] == labels[mask]).float().mean()
                rows.append({"step": step, "loss": loss.item(), "frame_accuracy": accuracy.item()})
            if step % config.checkpoint_every == 0 or step == config.steps:
                save_training_state(
                    out_dir / STATE_DIR, step, {"model": model}, {"model": optimizer}, {"batches": generator}, {"metrics": rows}
                )
                _write_metrics(out_dir / METRICS, rows)
    tokenizer = PhoneTokenizer(model.eval(), name=config.name, dedup=config.dedup)
    tokenizer.save_pretrained(out_dir)
    return tokenizer


@TOKENIZER_TRAINERS.register("phone")
def train(config_path: str | Path | None, overrides: list[str] | tuple[str, ...], out_dir: str | Path) -> PhoneTokenizer:
    """Train a ``"phone"`` tokenizer from a YAML recipe plus ``key=value`` overrides into ``out_dir``."""
    config = load_config(PhoneTrainConfig, config_path, list(overrides))
    return train_phone_tokenizer(config, out_dir)
