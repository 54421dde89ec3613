"""The speech-aware text LM task (``type: salm``): instruction tuning of an adapter (+ LoRA, or the whole text LM).

Two stages share this task (``recipes/salm-text-tiny.yaml`` then ``recipes/salm-tiny.yaml``):

- ``model.speech: false`` trains a text LM on text only (:func:`spokenlm.data.instructions.text_examples`: the
  tasks a transcript answers, with the transcript in place of the audio, and plain sentences of the repository's
  text; held-out stories never). With ``model.text_lm.path`` empty it first writes a tiny random chat LM
  (:func:`spokenlm.models.text_lm.write_tiny_chat_lm`, word vocabulary of the story generator and the training
  text) into ``out_dir/base-lm``. The trained LM is saved whole (``model.text_lm.mode: full``).
- ``model.speech: true`` trains the adapter on the features of a frozen encoder (cached once per corpus, see
  :mod:`spokenlm.encoders.cache`) in front of that LM, frozen (``mode: frozen``) or with LoRA (``mode: lora``).

One item is an example; each step draws ``optim.batch_size`` of them uniformly from the training split. The loss
is the answer tokens' cross-entropy (+ the adapter's own loss, e.g. CTC). Outputs: ``model/`` (a SALM folder:
:meth:`spokenlm.models.salm.SALM.from_pretrained`), ``config.yaml``, ``metrics.jsonl``/``.csv``, ``checkpoints/``
(frozen weights left out), ``summary.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from spokenlm.data.instructions import TEXT_TASKS, Example, corpus_examples, corpus_stories, held_out_documents, text_examples
from spokenlm.data.stories import vocabulary
from spokenlm.errors import ConfigError
from spokenlm.models.salm import SALM, SALMConfig, Turn
from spokenlm.models.text_lm import TinyLMShape, write_tiny_chat_lm
from spokenlm.train.checkpoints import MAIN
from spokenlm.train.config import LoopConfig, OptimConfig
from spokenlm.train.loop import Loop
from spokenlm.train.task import LoopContext, Metrics, Task

SPEECH_TASKS = ("asr", "qa", "gender", "accent", "engine", "command")


@dataclass
class SALMDataConfig:
    """The instruction data.

    Attributes:
        corpora: ``spokenlm data synth`` folders (stories, spoken requests …); their test splits are never trained on.
        tasks: the tasks to train (text-only stages keep those a transcript answers, plus plain text).
        features: the feature cache of the speech stage (default ``<first corpus>/features-<encoder type>.safetensors``).
        num_stories: stories whose train-split text the text stage reads (0: those of the first corpus's config).
        ljspeech_sentences: LJSpeech transcripts the text stage reads.
        dev_examples: dev examples in the validation loss.
    """

    corpora: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=lambda: list(SPEECH_TASKS))
    features: str = ""
    num_stories: int = 0
    ljspeech_sentences: int = 2000
    dev_examples: int = 64


@dataclass
class SALMTrainConfig(LoopConfig):
    """A SALM run: the model, the data, the tiny base LM made when ``model.text_lm.path`` is empty, and ``out_dir``."""

    type: Literal["salm"] = "salm"
    out_dir: str = "runs/salm"
    model: SALMConfig = field(default_factory=SALMConfig)
    data: SALMDataConfig = field(default_factory=SALMDataConfig)
    tiny_lm: TinyLMShape = field(default_factory=TinyLMShape)
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(lr=1e-3, warmup_steps=20, max_steps=300, batch_size=16,
                                                                    weight_decay=0.01, beta2=0.98))
    save_every: int = 100
    eval_every: int = 100


def _stage_texts(examples: list[Example]) -> list[str]:
    """The texts a tiny base LM's word vocabulary is made from: the training ``examples`` and the story generator's words."""
    words = sorted(vocabulary())
    train = (t for e in examples if e.split == "train" for t in (e.instruction, e.answer, e.transcript))
    return [*train, " ".join(words), " ".join(w.capitalize() for w in words)]


class SALMTask(Task):
    """Answer cross-entropy of a :class:`SALM` on instruction examples; one item is an example."""

    item_name = "examples"
    metric_names = ("answer_tokens", "adapter_loss")

    def __init__(self, config: SALMTrainConfig) -> None:
        super().__init__()
        self.config = config

    # ---------------------------------------------------------------- data
    def load(self, ctx: LoopContext) -> None:
        c = self.config
        if not c.data.corpora:
            raise ConfigError("data.corpora is required (spokenlm data synth folders)")
        corpora = [Path(p) for p in c.data.corpora]
        examples = [e for corpus in corpora for e in corpus_examples(corpus) if e.task in c.data.tasks]
        vocabulary_texts: list[str] = []
        if not c.model.speech:
            seed, stories = corpus_stories(corpora[0])
            held_out = set().union(*(held_out_documents(p) for p in corpora))
            dev = [e for e in examples if e.split == "dev" and e.task in TEXT_TASKS]
            vocabulary_texts = _stage_texts(examples)
            examples = dev + text_examples(examples, c.data.num_stories or stories, seed, held_out, c.data.ljspeech_sentences)
        self.train_examples = [e for e in examples if e.split == "train"]
        self.dev_examples = [e for e in examples if e.split == "dev"][: c.data.dev_examples]
        if not self.train_examples:
            raise ConfigError(f"no training examples of tasks {c.data.tasks} in {', '.join(c.data.corpora)}")
        if not c.model.text_lm.path:
            base = Path(c.out_dir) / "base-lm"
            if not (base / "config.json").is_file():
                write_tiny_chat_lm(base, [*vocabulary_texts, *_stage_texts(self.train_examples)], c.tiny_lm, c.seed)
            c.model.text_lm.path = str(base)
        self.features: dict[str, torch.Tensor] = {}
        if c.model.speech:
            self.features = self._load_features(corpora)

    def _load_features(self, corpora: list[Path]) -> dict[str, torch.Tensor]:
        from spokenlm.audio.reporting import report_skipped
        from spokenlm.encoders import build_encoder
        from spokenlm.encoders.cache import corpus_features

        c = self.config
        encoder = build_encoder(c.model.encoder)
        c.model.encoder_dim, c.model.frame_rate = encoder.dim, float(encoder.frame_rate)
        features, skipped = corpus_features(encoder, corpora, c.data.features)
        report_skipped(skipped, what="cut(s) without features")
        self.train_examples = [e for e in self.train_examples if e.cut_id in features]
        self.dev_examples = [e for e in self.dev_examples if e.cut_id in features]
        return features

    def turn(self, example: Example) -> Turn:
        """The prompt of ``example``: its speech features (speech models) or its transcript (text-only models)."""
        return Turn(example.instruction, self.features.get(example.cut_id), example.transcript)

    # ---------------------------------------------------------------- model
    def build(self, ctx: LoopContext) -> None:
        self.generators = {"batches": torch.Generator().manual_seed(self.config.seed)}
        self.modules = {MAIN: SALM.build(self.config.model).to(ctx.device)}

    def draw(self, step: int) -> None:
        self.drawn = torch.randint(len(self.train_examples), (self.config.optim.batch_size,), generator=self.generators["batches"]).tolist()

    def batch(self, step: int, positions: list[int]) -> list[Example]:
        return [self.train_examples[self.drawn[p]] for p in positions]

    def _loss(self, model: SALM, examples: list[Example]) -> tuple[torch.Tensor, Metrics]:
        with self.ctx.autocast():
            loss, tokens, extra = model([self.turn(e) for e in examples], [e.answer for e in examples], [e.transcript for e in examples])
        metrics: Metrics = {"answer_tokens": float(tokens)}
        if extra is not None:
            metrics["adapter_loss"] = extra.detach()
        return loss, metrics

    def loss(self, phase: str, batch: list[Example], scratch: dict[str, Any]) -> tuple[torch.Tensor, Metrics]:
        return self._loss(self.train_modules[MAIN], batch)

    def evaluate(self) -> float | None:
        if not self.dev_examples:
            return None
        size = self.ctx.micro_batch
        losses = [self._loss(self.modules[MAIN], self.dev_examples[i : i + size])[0].item() for i in range(0, len(self.dev_examples), size)]
        return sum(losses) / len(losses)

    # ---------------------------------------------------------------- checkpoints
    def export_state(self, name: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Only trained weights: the frozen ones are read from the base LM again when resuming."""
        trained = {n for n, p in self.modules[MAIN].named_parameters() if p.requires_grad}
        return {k: v for k, v in state.items() if k in trained}

    def import_state(self, name: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {**self.modules[MAIN].state_dict(), **state}

    def finish(self, states: dict[str, dict[str, torch.Tensor]], val_loss: float | None, steps: int) -> dict[str, Any]:
        model: SALM = self.modules[MAIN]
        model.load_state_dict(states[MAIN])
        model.save_pretrained(Path(self.config.out_dir) / "model")
        self.artifact = model
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        return {"train_examples": len(self.train_examples), "trainable_parameters": trainable,
                "parameters": sum(p.numel() for p in model.parameters())}


def train_salm(config: SALMTrainConfig) -> dict[str, Any]:
    """Train (or resume) as ``config`` says; returns the run summary (the SALM is in ``out_dir/model``)."""
    return Loop(SALMTask(config), config.out_dir).fit()
