"""The phone-tokenizer task (``type: phone``): a frame phone classifier trained on a paired corpus.

Each cut's frame phone labels come from its supervisions' stored phone timings
(``custom["alignment"]``, as TTS engines give them, or lhotse's
``alignment["phones"]``) or else from a pocketsphinx forced alignment of the
supervision text (:mod:`spokenlm.align`). The classifier is trained on random
crops with frame-level cross-entropy (``objective: frame``) or with CTC over each
crop's phone sequence (``objective: ctc``: a blank output is added, so frames between
phones need not be labelled and the argmax no longer flickers between phones).

Outputs in the run folder: ``config.yaml`` (resolved), ``metrics.jsonl``/``.csv``,
``checkpoints/`` (rerunning resumes from the latest) and the tokenizer itself
(``config.json`` + ``model.safetensors``: ``load_tokenizer(out_dir)`` opens it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F

from spokenlm.align.cuts import cut_phones
from spokenlm.align.phones import PHONE_SET, frame_labels
from spokenlm.align.pocketsphinx_aligner import AlignmentError
from spokenlm.audio.features import SpecAugmentConfig, spec_augment, warp_mel_bands
from spokenlm.audio.loader import iter_cuts, load_cut
from spokenlm.audio.reporting import report_skipped
from spokenlm.config import Renamed
from spokenlm.encoders.phone_model import PhoneClassifier, PhoneClassifierConfig, normalized_log_mel
from spokenlm.errors import AudioError, ConfigError
from spokenlm.tokenizers.phone import PhoneTokenizer
from spokenlm.train.checkpoints import MAIN
from spokenlm.train.config import LOOP_RENAMES, LoopConfig, OptimConfig
from spokenlm.train.loop import Loop
from spokenlm.train.task import LoopContext, Metrics, Task

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
class PhoneTrainConfig(LoopConfig):
    """A phone-tokenizer training run (``optim.batch_size`` crops per step; AdamW, cosine decay to 10 %).

    Attributes:
        type: always ``"phone"``.
        name: tokenizer name stored in its tokens.
        dedup: the saved tokenizer collapses repeated phones (tokens with durations).
        model: classifier architecture.
        data: training corpus.
        segment_seconds: random crop length, seconds.
        objective: ``frame`` (cross-entropy against each frame's phone) or ``ctc`` (CTC against the crop's phone sequence).
        mel_shift: largest random shift of the mel axis, bins (a cheap vocal-tract-length perturbation; 0 = off).
        mel_warp: each crop's mel axis is stretched by a random factor in ``[1 - mel_warp, 1 + mel_warp]``
            (vocal-tract-length perturbation by interpolation; 0 = off).
        spec_augment: frequency and time masks on each crop's normalised log-mel (none by default).
        switch_penalty: the saved tokenizer's decoding penalty per phone change, nats (0: the frame argmax).
    """

    RENAMED_KEYS: ClassVar[Renamed] = LOOP_RENAMES

    type: Literal["phone"] = "phone"
    name: str = "phone"
    dedup: bool = True
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(
        lr=3e-3, schedule="cosine", warmup_steps=0, min_lr_ratio=0.1, max_steps=600, batch_size=16, weight_decay=0.01,
        decay_matrices_only=False, beta1=0.9, beta2=0.999, grad_clip=5.0))
    model: PhoneClassifierConfig = field(default_factory=PhoneClassifierConfig)
    data: PhoneDataConfig = field(default_factory=PhoneDataConfig)
    segment_seconds: float = 3.0
    objective: Literal["frame", "ctc"] = "frame"
    mel_shift: int = 2
    mel_warp: float = 0.0
    spec_augment: SpecAugmentConfig = field(default_factory=SpecAugmentConfig)
    switch_penalty: float = 0.0
    save_every: int = 100


@dataclass
class LabelledCorpus:
    """Normalised log-mel ``[n_mels, T_mel]`` and phone ids ``[T]`` (at the classifier rate) per utterance."""

    mels: list[torch.Tensor]
    labels: list[torch.Tensor]
    skipped: list[str]

    def batch(
        self, size: int, frames: int, stride: int, mel_shift: int, generator: torch.Generator, mel_warp: float = 0.0,
        masks: SpecAugmentConfig | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Random crops: mel ``[B, n_mels, frames·stride]``, lengths ``[B]`` (mel frames), labels ``[B, frames]`` (−100 = padding).

        Each crop's mel axis is shifted by up to ``mel_shift`` bins and stretched by up to ``mel_warp`` (a share), then
        ``masks`` (SpecAugment) are applied."""
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
            if mel_warp:
                factor = 1.0 + (2.0 * float(torch.rand((), generator=generator)) - 1.0) * mel_warp
                crop = warp_mel_bands(crop[None], torch.tensor([[factor]]))[0]
            if masks is not None:
                crop = spec_augment(crop, masks, generator)
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


def ctc_loss(logits: torch.Tensor, labels: torch.Tensor, blank: int) -> torch.Tensor:
    """CTC of logits ``[B, T, phones + 1]`` against each row's phone sequence: its frame labels ``[B, T]`` (−100 = padding)
    with repeats collapsed; the blank is output ``blank``. Mean over rows of the loss per target phone."""
    targets, target_lengths, input_lengths = [], [], []
    for row in labels:
        valid = row[row != IGNORE]
        sequence = torch.unique_consecutive(valid)
        targets.append(sequence)
        target_lengths.append(len(sequence))
        input_lengths.append(len(valid))
    log_probs = logits.float().log_softmax(-1).transpose(0, 1)  # [T, B, C]
    return F.ctc_loss(log_probs, torch.cat(targets), torch.tensor(input_lengths), torch.tensor(target_lengths), blank=blank, zero_infinity=True)


class PhoneTask(Task):
    """Frame cross-entropy of a :class:`PhoneClassifier` on random crops; one item is a crop."""

    item_name = "crops"
    metric_names = ("frame_accuracy",)

    def __init__(self, config: PhoneTrainConfig) -> None:
        super().__init__()
        self.config = config

    def load(self, ctx: LoopContext) -> None:
        self.corpus = load_labelled_corpus(self.config)
        report_skipped(self.corpus.skipped, what="cut(s)")

    def build(self, ctx: LoopContext) -> None:
        self.config.model.blank = self.config.objective == "ctc"
        self.generators = {"batches": torch.Generator().manual_seed(self.config.seed)}
        self.modules = {MAIN: PhoneClassifier(self.config.model).to(ctx.device)}
        self.frames = max(1, round(self.config.segment_seconds * self.config.model.frame_rate))

    def draw(self, step: int) -> None:
        c = self.config
        self.drawn = self.corpus.batch(c.optim.batch_size, self.frames, c.model.stride, c.mel_shift, self.generators["batches"], c.mel_warp, c.spec_augment)

    def batch(self, step: int, positions: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mel, lengths, labels = self.drawn
        return mel[positions].to(self.ctx.device), lengths[positions], labels[positions].to(self.ctx.device)

    def loss(self, phase: str, batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor], scratch: dict[str, Any]) -> tuple[torch.Tensor, Metrics]:
        mel, lengths, labels = batch
        logits, _ = self.train_modules[MAIN](mel, lengths)
        logits = logits[:, : labels.shape[1]]
        if self.config.objective == "ctc":
            return ctc_loss(logits, labels, self.config.model.num_phones), {}
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=IGNORE)
        mask = labels != IGNORE
        return loss, {"frame_accuracy": (logits.detach().argmax(-1)[mask] == labels[mask]).float().mean()}

    def finish(self, states: dict[str, dict[str, torch.Tensor]], val_loss: float | None, steps: int) -> dict[str, Any]:
        model = self.modules[MAIN]
        model.load_state_dict(states[MAIN])
        self.artifact = PhoneTokenizer(model.eval(), name=self.config.name, dedup=self.config.dedup, switch_penalty=self.config.switch_penalty)
        self.artifact.save_pretrained(self.ctx.out_dir)
        return {"name": self.config.name, "skipped": len(self.corpus.skipped)}


def train_phone_tokenizer(config: PhoneTrainConfig, out_dir: str | Path) -> PhoneTokenizer | None:
    """Train (or resume) as ``config`` says; the tokenizer is saved into ``out_dir`` and returned (``None`` on ranks but the main one)."""
    task = PhoneTask(config)
    Loop(task, out_dir).fit()
    return task.artifact
