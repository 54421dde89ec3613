"""``half-duplex``: the user's turn → speech tokenizer → unit LM continuation → streaming unit vocoder, all incremental.

While the user speaks, the turn is tokenized in overlapping windows (:mod:`spokenlm.tokenizers.incremental`; the
tokenizers are not causal) and the units that are final prefill the session's row of the shared LM state
(:mod:`.lm_rows`), so at the end of the turn only the last window and its few units remain. The reply is then
sampled unit by unit; each unit's duration is predicted once the ``DurationPredictor.context`` units after it
exist, and its frames go through the session's causal vocoder (``decode_step``) at once, so the first audio
follows the first few units. While the vocoder voices one unit the LM thread already samples the next. The pipeline
``answers_pauses``: the session starts the reply at a short pause inside the turn and sends it only if the turn ends
there, so after the VAD hang-over the first audio is already computed.

Measured (the 44 real prompts ``bench/serve_latency.py`` draws from, the micro quickstart's phone tokenizer): the windows of the tokenizer change
its units (it normalises each input and its BiGRU reads ahead): against one offline pass over the whole turn, the
unit edit rate is 0.27 with windows from the turn's start, 0.31 with 2 s of context, 0.37 with 1 s (the default,
whose cost per window stays bounded), 0.43 with 0.5 s.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from spokenlm.errors import SpokenLMError
from spokenlm.serve.pipelines.base import PIPELINES, Audio, Event, Pipeline, Responder, bundled_speech, chunked
from spokenlm.serve.pipelines.lm_rows import RowPool
from spokenlm.serve.pipelines.model_dir import model_part
from spokenlm.tokenizers.incremental import IncrementalConfig, IncrementalEncoder
from spokenlm.tokens import Tokens


@dataclass
class HalfDuplexConfig:
    """Settings of the ``half-duplex`` pipeline.

    Attributes:
        reply_units: units sampled per reply (fewer when ``stop_at_eos`` and the LM ends it).
        temperature / top_k / top_p: sampling (temperature 0 = greedy).
        stop_at_eos: let the LM end its reply early (default: fixed-length replies, as GSLM samples them).
        chunk_frames: vocoder token frames per audio piece after the first (20 ms each at 50 Hz); the first piece
            goes out as soon as one unit's frames are known.
        rows: sessions per shared LM streaming state (one row each; a further group is added when all are taken).
        seed: sampling seed of the first session (each session adds one).
        tokenize: the incremental tokenization windows.
    """

    reply_units: int = 60
    temperature: float = 0.8
    top_k: int = 0
    top_p: float = 1.0
    stop_at_eos: bool = False
    chunk_frames: int = 5
    rows: int = 8
    seed: int = 0
    tokenize: IncrementalConfig = field(default_factory=IncrementalConfig)


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


class UnitPicker:
    """A session's sampling: logits ``[V]`` → the next model id, among the speech units (and EOS when it may stop)."""

    def __init__(self, model, config: HalfDuplexConfig, seed: int) -> None:
        from spokenlm.generate.sampling import unit_biases

        self.bias = unit_biases(model, model.vocab.eos_id if config.stop_at_eos else -1)[0][0]
        self.config = config
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, logits: torch.Tensor) -> int:
        from spokenlm.generate.sampling import choose

        c = self.config
        return int(choose((logits + self.bias)[None], c.temperature, c.top_k, c.top_p, self.generator)[0])


@PIPELINES.register("half-duplex")
class HalfDuplexPipeline(Pipeline):
    """Speech LM in half duplex: a tokenizer, a one-stream :class:`~spokenlm.models.UnitLM` and a unit vocoder."""

    name = "half-duplex"
    config_type = HalfDuplexConfig
    answers_pauses = True

    def __init__(self, tokenizer, model, vocoder, config: HalfDuplexConfig) -> None:
        if model.config.num_streams != 1 or tokenizer.num_streams != 1 or model.config.layout == "flat":
            raise SpokenLMError("half-duplex serves one-stream unit LMs and tokenizers")
        if tokenizer.vocab_size != model.vocab.n_units:
            raise SpokenLMError(f"the tokenizer has {tokenizer.vocab_size} units but the unit LM reads {model.vocab.n_units}")
        if abs(vocoder.config.frame_rate - tokenizer.frame_rate) > 1e-3:
            raise SpokenLMError(f"the vocoder reads {vocoder.config.frame_rate} Hz tokens, the tokenizer makes {tokenizer.frame_rate} Hz")
        self.tokenizer, self.model, self.vocoder, self.config = tokenizer, model.eval(), vocoder, config
        self.output_rate = vocoder.sample_rate
        self.speaker = default_speaker(vocoder)
        self.rows = RowPool(self.model, config.rows)
        self.sessions = itertools.count()

    @classmethod
    def load(cls, model_dir: Path | None, config: HalfDuplexConfig) -> HalfDuplexPipeline:
        from spokenlm.models import UnitLM
        from spokenlm.tokenizers.base import load_tokenizer
        from spokenlm.vocoders import load_vocoder

        return cls(load_tokenizer(model_part(model_dir, "tokenizer")), UnitLM.from_pretrained(model_part(model_dir, "unit LM")),
                   load_vocoder(model_part(model_dir, "vocoder")), config)

    def open(self) -> HalfDuplexResponder:
        return HalfDuplexResponder(self, session_vocoder(self.vocoder), self.config.seed + next(self.sessions))


class HalfDuplexResponder(Responder):
    """One session: an LM row, an incremental encoder per turn, its own vocoder streaming state and sampling generator.

    ``begin``/``hear`` only queue (event loop); ``prepare`` and ``respond`` do the work under ``work`` (compute threads),
    so the turn's audio is tokenized in arrival order. ``respond`` may answer a turn that then goes on (the session
    answers pauses ahead): it finishes a copy of the encoder, and once that reply is closed the next feed restarts the
    row (``dirty``) with the turn's prompt and the units heard meanwhile. ``epoch`` changes whenever the row restarts,
    which stops an older reply.
    """

    def __init__(self, pipeline: HalfDuplexPipeline, vocoder, seed: int) -> None:
        self.pipeline, self.vocoder = pipeline, vocoder
        self.slot = pipeline.rows.take()
        self.pick = UnitPicker(pipeline.model, pipeline.config, seed)
        self.inbox: list[np.ndarray | None] = []  # None: a new turn starts
        self.inbox_lock, self.work = threading.Lock(), threading.Lock()
        self.epoch = 0
        self.encoder = self._encoder()
        self.prompt: list[torch.Tensor] = []  # model ids [n] fed for this turn, BOS first
        self.dirty = False  # the row holds more than the prompt (a reply)
        self.replying = False  # a reply owns the row
        self.waiting: list[np.ndarray] = []  # prompt units heard while it did
        self.next_id: int | None = None  # the LM's pick after the last ids fed

    @property
    def fed(self) -> int:
        """Model ids of this turn's prompt in the row."""
        return sum(len(ids) for ids in self.prompt)

    def _encoder(self) -> IncrementalEncoder:
        return IncrementalEncoder(self.pipeline.tokenizer, self.pipeline.input_rate, self.pipeline.config.tokenize)

    # --- listening ---------------------------------------------------------------------------------------------
    def begin(self) -> None:
        with self.inbox_lock:
            self.epoch += 1
            self.inbox.append(None)

    def hear(self, samples: np.ndarray) -> None:
        with self.inbox_lock:
            self.inbox.append(np.asarray(samples, dtype=np.float32))

    def prepare(self) -> None:
        with self.work:
            self._drain()

    def close(self) -> None:
        if self.slot is not None:
            self.pipeline.rows.give(self.slot)
            self.slot = None

    def _drain(self) -> None:
        """Under ``work``: tokenize what was heard, in order, and feed the units that became final to the row."""
        with self.inbox_lock:
            items, self.inbox = self.inbox, []
        for item in items:
            if item is None:
                self.encoder, self.prompt, self.dirty, self.next_id, self.waiting = self._encoder(), [], False, None, []
            else:
                self._feed(self.encoder.push(item))

    def _feed(self, units: np.ndarray, prompt: bool = True) -> None:
        """Under ``work``: feed units ``[n]`` of the turn (a BOS first at the turn's start; the whole prompt again when
        the row is ``dirty``) and keep the LM's next pick. ``prompt=False``: the units are not kept in the prompt.
        While a reply owns the row (``replying``), prompt units wait for it to end."""
        if prompt and self.replying:
            self.waiting.append(units)
            return
        units, self.waiting = np.concatenate([*self.waiting, units]).astype(np.int64), []
        if len(units) == 0 and not self.dirty:
            return
        vocab = self.pipeline.model.vocab
        new = vocab.encode_units(units) if not self.prompt else vocab.units_to_ids(torch.as_tensor(units))
        restart = not self.prompt or self.dirty
        ids = torch.cat([*self.prompt, new]) if self.dirty else new
        if self.dirty:
            self.epoch, self.dirty = self.epoch + 1, False
        group, row = self.slot
        self.next_id = group.advance(row, ids, self.pick, reset=restart).result()
        if prompt:
            self.prompt.append(new)
        else:
            self.dirty = True

    # --- replying ----------------------------------------------------------------------------------------------
    def respond(self, turn: np.ndarray) -> Iterator[Event]:
        with self.work:
            self._drain()
            if self.waiting:
                self._feed(np.zeros(0, np.int64))  # the units heard during an earlier answer of this turn
            encoder = copy.copy(self.encoder)
            if encoder.frames * encoder.hop > len(turn):  # heard otherwise: the whole turn now
                encoder, self.prompt = self._encoder(), []
            encoder.audio = encoder.audio[: len(turn)]
            self._feed(encoder.finish(turn[encoder.samples :]), prompt=False)
            first, mine, self.replying = self.next_id, self.epoch, True
        try:
            if first is None:
                return
            units = self._sample(first, mine)
            deduplicated = bool(encoder.deduplicates)
            if self.vocoder.streamable:
                yield from self._voice(units, deduplicated)
                return
            reply = Tokens(np.array(list(units), np.int64)[None], self.pipeline.tokenizer.frame_rate)
            yield from self._voice_offline(reply, deduplicated)
        finally:
            with self.work:
                self.replying = False

    def _sample(self, first: int, mine: int) -> Iterator[int]:
        """The reply's units, one at a time; the LM samples unit ``i + 1`` while the caller voices unit ``i``."""
        c, vocab = self.pipeline.config, self.pipeline.model.vocab
        group, row = self.slot
        next_id = first
        for index in range(c.reply_units):
            if c.stop_at_eos and next_id == vocab.eos_id:
                return
            future = None
            if index + 1 < c.reply_units:
                with self.work:
                    if self.epoch != mine:
                        return  # the row restarted (a new turn, or the paused turn went on)
                    future = group.advance(row, torch.tensor([next_id]), self.pick)
            yield next_id - vocab.unit_offset
            if future is None:
                return
            next_id = future.result()

    def _voice(self, units: Iterator[int], deduplicated: bool) -> Iterator[Audio]:
        """Causal vocoder: each unit voiced as soon as its duration is final; pieces of ``chunk_frames`` after the first (a
        look-ahead vocoder's last frames follow the reply's end)."""
        p, c = self.pipeline, self.pipeline.config
        duration = self.vocoder.net.duration
        context = duration.context if deduplicated else 0
        speaker = self.vocoder.speaker_tensor(p.speaker)
        sampled: list[int] = []
        voiced = 0  # units whose frames went to the vocoder
        pending: list[np.ndarray] = []  # frames waiting to make a piece
        sent_any = False
        with self.vocoder.streaming(1):
            for unit in itertools.chain(units, [None]):  # None: the reply is complete
                final = unit is None
                if not final:
                    sampled.append(unit)
                ready = len(sampled) if final else len(sampled) - context
                if ready > voiced:
                    pending.append(self._frames(sampled, voiced, ready, context, deduplicated))
                    voiced = ready
                if not pending or not (final or not sent_any or sum(map(len, pending)) >= c.chunk_frames):
                    continue
                frames, pending, sent_any = np.concatenate(pending), [], True
                wav = self.vocoder.decode_step(torch.from_numpy(frames)[None, None], speaker)[0]
                last = frames[-1:]
                if len(wav):  # a look-ahead vocoder's first frames come later
                    yield Audio(wav.clamp(-1.0, 1.0).numpy().astype(np.float32))
            if sent_any and self.vocoder.config.lookahead_frames:  # the frames a look-ahead vocoder still owes
                wav = self.vocoder.decode_flush(torch.from_numpy(last)[None, None], speaker)[0]
                yield Audio(wav.clamp(-1.0, 1.0).numpy().astype(np.float32))

    def _frames(self, units: list[int], lo: int, hi: int, context: int, deduplicated: bool) -> np.ndarray:
        """Frame-level ids of units ``[lo, hi)``: their durations predicted from a window with ``context`` units on each
        side (all there is at the ends), so they equal the durations predicted over the whole reply."""
        ids = np.asarray(units[lo:hi], np.int64)
        if not deduplicated:
            return ids
        start = max(0, lo - context)
        window = Tokens(np.asarray(units[start : hi + context], np.int64)[None], self.pipeline.tokenizer.frame_rate)
        durations = self.vocoder.net.duration.predict(window).durations[lo - start : hi - start]
        return np.repeat(ids, durations)

    def _voice_offline(self, reply: Tokens, deduplicated: bool) -> Iterator[Audio]:
        """A vocoder that is not causal: the whole reply first, then streamed with look-ahead or in pieces."""
        p, c = self.pipeline, self.pipeline.config
        if self.vocoder.lookahead_streamable:
            for piece in self.vocoder.stream(reply, c.chunk_frames, p.speaker, predict_durations=deduplicated):
                yield Audio(piece)
            return
        wav = self.vocoder(reply, p.speaker, predict_durations=deduplicated)
        yield from chunked(wav, round(c.chunk_frames * p.output_rate / reply.frame_rate))

