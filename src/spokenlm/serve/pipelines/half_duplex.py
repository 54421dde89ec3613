"""``half-duplex``: the user's turn → speech tokenizer → unit LM continuation → streaming unit vocoder.

The turn is tokenized offline (today's tokenizers have no ``encode_step``), the unit LM samples the whole reply with
its KV cache (:func:`spokenlm.generate.sampling.sample`; sessions whose turns end together are sampled in one batch),
and a causal vocoder voices it chunk by chunk through its own streaming state, so audio starts after the first chunk.
"""

from __future__ import annotations

import copy
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from spokenlm.errors import SpokenLMError
from spokenlm.serve.pipelines.base import PIPELINES, Audio, Event, Pipeline, Responder, bundled_speech, chunked
from spokenlm.serve.pipelines.model_dir import model_part
from spokenlm.tokens import Tokens


@dataclass
class HalfDuplexConfig:
    """Settings of the ``half-duplex`` pipeline.

    Attributes:
        prompt_units: the LM reads at most the last this many units of the turn.
        reply_units: units sampled per reply (fewer when ``stop_at_eos`` and the LM ends it).
        temperature / top_k / top_p: sampling (temperature 0 = greedy).
        stop_at_eos: let the LM end its reply early (default: fixed-length replies, as GSLM samples them).
        chunk_frames: vocoder token frames per audio piece (20 ms each at 50 Hz).
        seed: sampling seed of the first batch (each batch adds one).
    """

    prompt_units: int = 200
    reply_units: int = 60
    temperature: float = 0.8
    top_k: int = 0
    top_p: float = 1.0
    stop_at_eos: bool = False
    chunk_frames: int = 5
    seed: int = 0


class BatchedSampler:
    """One thread samples every queued prompt in one :func:`sample` call, so concurrent sessions share LM batches.

    ``submit(units [T]) -> Future`` of the new units ``[n]``.
    """

    def __init__(self, model: torch.nn.Module, config: HalfDuplexConfig) -> None:
        self.model, self.config = model, config
        self.requests: queue.SimpleQueue[tuple[np.ndarray, Future]] = queue.SimpleQueue()
        self.batches = 0
        threading.Thread(target=self._run, name="spokenlm-lm-batcher", daemon=True).start()

    def submit(self, units: np.ndarray) -> Future:
        future: Future = Future()
        self.requests.put((units, future))
        return future

    def _run(self) -> None:
        from spokenlm.generate.sampling import sample

        while True:
            batch = [self.requests.get()]
            while not self.requests.empty():
                batch.append(self.requests.get())
            c, vocab = self.config, self.model.vocab
            try:
                new = sample(self.model, [vocab.encode_units(units) for units, _ in batch], c.reply_units, c.temperature,
                             c.top_k, c.top_p, seed=c.seed + self.batches, eos_id=None if c.stop_at_eos else -1, units_only=True)
            except Exception as err:  # noqa: BLE001 - handed to every waiting session, never kills the thread
                for _, future in batch:
                    future.set_exception(err)
                continue
            self.batches += 1
            for (_, future), ids in zip(batch, new):
                future.set_result(vocab.ids_to_units(ids).numpy())


def default_speaker(vocoder) -> int | np.ndarray | None:
    """Row 0 of a speaker table; for d-vector vocoders, the voice of the first bundled real prompt; else none."""
    conditioning = vocoder.config.conditioning
    if conditioning.num_speakers:
        return 0
    if not conditioning.dvector:
        return None
    from spokenlm.audio.speaker import speaker_embedding

    return speaker_embedding(bundled_speech(16000), 16000)


def session_vocoder(vocoder):
    """A vocoder with its own streaming state and the same weights (causal kinds keep state between chunks)."""
    from spokenlm.vocoders import UnitVocoder

    if not vocoder.streamable:
        return vocoder
    shared = {id(t): t for t in [*vocoder.net.parameters(), *vocoder.net.buffers()]}
    return UnitVocoder(vocoder.config, copy.deepcopy(vocoder.net, memo=shared))


@PIPELINES.register("half-duplex")
class HalfDuplexPipeline(Pipeline):
    """Speech LM in half duplex: a tokenizer, a one-stream :class:`~spokenlm.models.UnitLM` and a unit vocoder."""

    name = "half-duplex"
    config_type = HalfDuplexConfig

    def __init__(self, tokenizer, model, vocoder, config: HalfDuplexConfig) -> None:
        if model.config.num_streams != 1 or tokenizer.num_streams != 1:
            raise SpokenLMError("half-duplex serves one-stream unit LMs and tokenizers")
        if tokenizer.vocab_size != model.vocab.n_units:
            raise SpokenLMError(f"the tokenizer has {tokenizer.vocab_size} units but the unit LM reads {model.vocab.n_units}")
        if abs(vocoder.config.frame_rate - tokenizer.frame_rate) > 1e-3:
            raise SpokenLMError(f"the vocoder reads {vocoder.config.frame_rate} Hz tokens, the tokenizer makes {tokenizer.frame_rate} Hz")
        self.tokenizer, self.model, self.vocoder, self.config = tokenizer, model.eval(), vocoder, config
        self.output_rate = vocoder.sample_rate
        self.speaker = default_speaker(vocoder)
        self.sampler = BatchedSampler(self.model, config)

    @classmethod
    def load(cls, model_dir: Path | None, config: HalfDuplexConfig) -> HalfDuplexPipeline:
        from spokenlm.models import UnitLM
        from spokenlm.tokenizers.base import load_tokenizer
        from spokenlm.vocoders import load_vocoder

        return cls(load_tokenizer(model_part(model_dir, "tokenizer")), UnitLM.from_pretrained(model_part(model_dir, "unit LM")),
                   load_vocoder(model_part(model_dir, "vocoder")), config)

    def open(self) -> HalfDuplexResponder:
        return HalfDuplexResponder(self, session_vocoder(self.vocoder))


class HalfDuplexResponder(Responder):
    """One session: its own vocoder streaming state; the tokenizer, LM batcher and weights are shared."""

    def __init__(self, pipeline: HalfDuplexPipeline, vocoder) -> None:
        self.pipeline, self.vocoder = pipeline, vocoder

    def respond(self, turn: np.ndarray) -> Iterator[Event]:
        p, c = self.pipeline, self.pipeline.config
        tokens = p.tokenizer.encode(turn, p.input_rate)[0]
        new = p.sampler.submit(tokens.ids[0][-c.prompt_units :]).result()
        if len(new) == 0:
            return
        deduplicated = tokens.durations is not None
        reply = Tokens(new[None].astype(np.int64), tokens.frame_rate, durations=np.ones(len(new), np.int64) if deduplicated else None)
        if self.vocoder.streamable or self.vocoder.lookahead_streamable:
            for piece in self.vocoder.stream(reply, c.chunk_frames, p.speaker, predict_durations=deduplicated):
                yield Audio(piece)
        else:
            wav = self.vocoder(reply, p.speaker, predict_durations=deduplicated)
            yield from chunked(wav, round(c.chunk_frames * p.output_rate / tokens.frame_rate))
