"""What every pipeline gives the server: one interface, picked by name from :data:`PIPELINES`.

A :class:`Pipeline` holds the loaded models, shared by all sessions. ``open()`` makes one session's
:class:`Responder` (its own streaming state, e.g. a vocoder's). Today's pipelines take turns: the session
(:mod:`spokenlm.serve.session`) tells the responder when a user turn begins (``begin``) and hands it the turn's
audio as it arrives (``hear``, then ``prepare`` on the compute threads), so a responder may work while the user
speaks; at the end of the turn it iterates ``respond(turn)``, which yields :class:`Text` and :class:`Audio` as they
are ready; the session stops iterating on barge-in. Each ``next()`` may compute and runs on the server's compute
threads. ``close()`` at the end of the session frees what the responder holds of the pipeline. A full-duplex pipeline (the step APIs: ``encode_step`` → ``step``
→ ``decode_step`` per frame) slots in as a ``Responder`` whose ``respond`` reads the live frames instead of a turn.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from spokenlm.registry import Registry


@dataclass
class Audio:
    """Model audio: float32 ``samples`` ``[n]`` at the pipeline's ``output_rate`` Hz."""

    samples: np.ndarray


@dataclass
class Text:
    """Text for the page: ``role`` "user" (what was heard) or "model" (what is said)."""

    role: str
    text: str


Event = Audio | Text


class Responder(ABC):
    """One session's side of a pipeline. ``begin``/``hear`` are cheap and called on the event loop, in order;
    ``prepare``, ``respond``'s steps and ``close`` run on the compute threads. The defaults do nothing (a responder
    that reads only the finished turn)."""

    def begin(self) -> None:
        """A user turn began: what was heard before belongs to no turn now."""

    def hear(self, samples: np.ndarray) -> None:
        """The next float32 ``[samples]`` of the current turn at the pipeline's ``input_rate`` (the turn's pre-roll first)."""

    def prepare(self) -> None:
        """Work on what was heard so far (e.g. tokenize it), so that less remains at the end of the turn."""

    def close(self) -> None:
        """The session ended."""

    @abstractmethod
    def respond(self, turn: np.ndarray) -> Iterator[Event]:
        """Answer a user turn (float32 ``[samples]`` at the pipeline's ``input_rate``), piece by piece."""


class Pipeline(ABC):
    """Loaded models that answer speech with speech.

    Attributes:
        name: the registry name.
        input_rate: rate of the user audio it reads, Hz.
        output_rate: rate of the :class:`Audio` it yields, Hz.
        has_text: whether it yields :class:`Text` (what it heard and says).
        answers_pauses: whether the session may start answering at a pause inside a turn (sending nothing until the
            turn ends, dropping the answer if the user goes on): for pipelines whose answer starts cheaply.
    """

    name: ClassVar[str]
    config_type: ClassVar[type]
    input_rate: int = 16000
    output_rate: int
    has_text: bool = False
    answers_pauses: bool = False

    @classmethod
    @abstractmethod
    def load(cls, model_dir: Path | None, config: Any) -> Pipeline:
        """Load the models from ``model_dir`` (see :mod:`.model_dir`) with ``config`` (a ``config_type``)."""

    @abstractmethod
    def open(self) -> Responder:
        """A new session's responder."""

    def warm_up(self) -> None:
        """Answer 2 s of a bundled real speech prompt, so first-use costs (JIT compilation, lazy weights, caches) are
        paid at start-up rather than in the first user's turn."""
        responder = self.open()
        for _ in responder.respond(bundled_speech(self.input_rate)[: 2 * self.input_rate]):
            pass
        responder.close()

    def describe(self) -> dict[str, object]:
        """What the ``ready`` message and the page show about this pipeline."""
        return {"pipeline": self.name, "input_rate": self.input_rate, "output_rate": self.output_rate, "has_text": self.has_text}


PIPELINES: Registry[type[Pipeline]] = Registry("pipeline")


def bundled_speech(sr: int) -> np.ndarray:
    """The first real speech prompt bundled with spokenlm (resources/audio/real_prompts), float32 ``[samples]`` at ``sr`` Hz."""
    from importlib import resources

    from spokenlm.audio.io import load_audio

    folder = Path(str(resources.files("spokenlm") / "resources" / "audio" / "real_prompts"))
    return load_audio(sorted(p for p in folder.iterdir() if p.suffix in (".flac", ".wav"))[0], sr)[0]


def chunked(wav: np.ndarray, samples: int) -> Iterator[Audio]:
    """``wav`` ``[n]`` as :class:`Audio` pieces of ``samples`` (the last one shorter), so barge-in can cut between them."""
    for start in range(0, len(wav), samples):
        yield Audio(np.asarray(wav[start : start + samples], dtype=np.float32))


def build_pipeline(name: str, model_dir: Path | None, overrides: list[str] | None = None) -> Pipeline:
    """The pipeline registered as ``name``, loaded from ``model_dir`` and warmed up; ``overrides`` are ``key=value``
    settings of its ``config_type`` (e.g. ``temperature=0.7``)."""
    from spokenlm.config import load_config

    import_builtin_pipelines()
    cls = PIPELINES.get(name)
    pipeline = cls.load(model_dir, load_config(cls.config_type, None, overrides or []))
    pipeline.warm_up()
    return pipeline


def import_builtin_pipelines() -> None:
    """Import the modules that register the built-in pipelines."""
    import importlib

    for module in ("half_duplex", "cascade"):
        importlib.import_module(f"spokenlm.serve.pipelines.{module}")
