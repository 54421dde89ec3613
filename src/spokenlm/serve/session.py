"""One websocket connection: its limits, its turn detector, its pipeline responder, barge-in and its summary.

The receive loop validates every message (:mod:`.protocol`, :mod:`.limits`), feeds audio frames to the
:class:`~spokenlm.serve.turns.TurnDetector`, and starts a reply task at the end of each user turn. The reply task
pulls the responder's events on the compute threads and sends them, audio paced to at most ``lead_seconds`` ahead
of real time, so that when the user speaks over the model (barge-in) the task is cancelled, the client is told
``interrupted`` and drops what it has not played, and the model is silent within the VAD onset time.
Silence never makes the model talk: only a finished turn does, and it never talks while the user speaks.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from dataclasses import asdict, dataclass, field
from threading import Lock
from typing import Any

import numpy as np

from spokenlm.serve.limits import FrameBudget, Limits
from spokenlm.serve.pipelines.base import Event, Pipeline, Text
from spokenlm.serve.protocol import ProtocolError, check_format, decode, encode, float_to_pcm, pcm_to_float
from spokenlm.serve.turns import Paused, Resumed, SpeechStarted, TurnConfig, TurnDetector, TurnDropped, TurnEnded

log = logging.getLogger("spokenlm.serve")
MAX_ERRORS = 200  # a client that sends this many bad messages is closed


@dataclass
class SessionConfig:
    """Per-session settings of the server.

    Attributes:
        frame_samples: input audio samples per binary frame (20 ms at 16 kHz).
        lead_seconds: model audio is sent at most this far ahead of real time (what barge-in may have to drop).
        limits: what one client may use.
        turns: end-of-turn and barge-in detection.
    """

    frame_samples: int = 320
    lead_seconds: float = 0.3
    limits: Limits = field(default_factory=Limits)
    turns: TurnConfig = field(default_factory=TurnConfig)


@dataclass
class SessionStats:
    """What the ``summary`` message reports. Seconds are wall-clock; ``rtf`` = compute seconds / reply audio seconds."""

    session: str
    pipeline: str
    seconds: float = 0.0
    frames_received: int = 0
    frames_rejected: int = 0
    errors: int = 0
    turns: int = 0
    replies: int = 0
    barge_ins: int = 0
    reply_audio_seconds: float = 0.0
    compute_seconds: float = 0.0
    first_audio_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        out = asdict(self)
        out["rtf"] = round(self.compute_seconds / self.reply_audio_seconds, 4) if self.reply_audio_seconds else None
        return out


class Reply:
    """A responder's event iterator driven from the event loop, one ``next()`` at a time on the compute threads."""

    _DONE = object()

    def __init__(self, events: Iterator[Event], compute: Executor) -> None:
        self.events, self.compute, self.lock = events, compute, Lock()

    def _next(self) -> Any:
        with self.lock:
            return next(self.events, self._DONE)

    def _close(self) -> None:
        with self.lock:
            self.events.close()

    async def next(self) -> Event | None:
        event = await asyncio.wrap_future(self.compute.submit(self._next))
        return None if event is self._DONE else event

    def close(self) -> Future:
        """Close the iterator after its running step (frees its streaming state)."""
        return self.compute.submit(self._close)


class Session:
    """Serve one connection ``ws`` (an aiohttp ``WebSocketResponse``) until it ends; :meth:`run` never raises."""

    def __init__(self, session_id: str, client: str, ws: Any, pipeline: Pipeline, config: SessionConfig, compute: Executor) -> None:
        self.client, self.ws, self.pipeline, self.config, self.compute = client, ws, pipeline, config, compute
        self.stats = SessionStats(session_id, pipeline.name)
        limits = config.limits
        self.budget = FrameBudget(limits.max_frame_rate, limits.burst_seconds * limits.max_frame_rate)
        self.detector: TurnDetector | None = None
        self.responder = None
        self.reply_task: asyncio.Task | None = None
        self.last_close: Future | None = None
        self.heard = 0  # windows of the detector's current turn handed to the responder
        self.confirm: asyncio.Future | None = None  # the end of the turn a reply started at a pause waits for
        self.preparing: Future | None = None
        self.error_times: dict[str, float] = {}
        self.started = time.monotonic()

    # ------------------------------------------------------------------ sending
    async def send(self, kind: str, **fields: Any) -> None:
        if not self.ws.closed:
            await self.ws.send_str(encode(kind, **fields))

    async def error(self, problem: str, fatal: bool = False) -> None:
        """Log one line naming the client and the problem; tell the client (the same text at most once a second)."""
        self.stats.errors += 1
        now = time.monotonic()
        if fatal or now - self.error_times.get(problem, -1e9) >= 1.0:
            self.error_times[problem] = now
            log.warning("%s: %s", self.client, problem)
            await self.send("error", message=problem, fatal=fatal)

    # ------------------------------------------------------------------ lifecycle
    async def run(self) -> dict[str, Any]:
        """Serve until the client ends, leaves, idles or breaks a hard limit; returns the summary."""
        try:
            loop = asyncio.get_running_loop()
            self.detector = await loop.run_in_executor(self.compute, TurnDetector, self.config.turns)
            self.responder = await loop.run_in_executor(self.compute, self.pipeline.open)
            await self.send("ready", session=self.stats.session, frame_samples=self.config.frame_samples,
                            limits=self.config.limits.public(), **self.pipeline.describe())
            await self.send("state", state="listening")
            await self.receive_loop()
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client left; the finally block frees everything
        except Exception as err:  # noqa: BLE001 - a bug must end this session only, never the server
            log.error("%s: session ended by an internal error: %s: %s", self.client, type(err).__name__, err)
            await self.safe(self.error(f"internal server error ({type(err).__name__}); the session ends", fatal=True))
        finally:
            await self.stop_reply()
            await self.safe(self.close_responder())
            self.stats.seconds = round(time.monotonic() - self.started, 3)
            await self.safe(self.send("summary", **self.stats.summary()))
            await self.safe(self.ws.close())
        log.info("%s: session %s ended: %s", self.client, self.stats.session, self.stats.summary())
        return self.stats.summary()

    async def close_responder(self) -> None:
        """After the last reply's iterator closed, free what the responder holds of the pipeline (e.g. its LM row)."""
        if self.responder is None:
            return
        if self.last_close is not None:
            await asyncio.wrap_future(self.last_close)
        await asyncio.wrap_future(self.compute.submit(self.responder.close))

    @staticmethod
    async def safe(awaitable: Any) -> None:
        try:
            await awaitable
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            pass

    async def receive_loop(self) -> None:
        from aiohttp import WSMsgType

        limits = self.config.limits
        while True:
            left = limits.max_session_seconds - (time.monotonic() - self.started)
            if left <= 0:
                await self.error(f"session reached its limit of {limits.max_session_seconds:g} s; closing", fatal=True)
                return
            try:
                message = await asyncio.wait_for(self.ws.receive(), timeout=min(limits.idle_seconds, left))
            except asyncio.TimeoutError:
                if time.monotonic() - self.started >= limits.max_session_seconds:
                    continue  # the session limit, above
                await self.error(f"nothing received for {limits.idle_seconds:g} s; closing idle session", fatal=True)
                return
            if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                return
            if message.type == WSMsgType.ERROR:
                log.warning("%s: connection error: %s", self.client, message.data)
                return
            try:
                if self.too_big(message.data):
                    raise ProtocolError(f"message of {len(message.data)} bytes is over the limit of {limits.max_message_bytes}")
                if message.type == WSMsgType.BINARY:
                    await self.on_audio(message.data)
                    continue
                control = decode(message.data)
                if control["type"] == "end":
                    return
                check_format(control, self.pipeline.input_rate, self.config.frame_samples)
            except ProtocolError as err:
                await self.error(str(err), err.fatal)
                if err.fatal:
                    return
            if self.stats.errors >= MAX_ERRORS:
                await self.error(f"{MAX_ERRORS} bad messages; closing", fatal=True)
                return

    def too_big(self, data: str | bytes) -> bool:
        size = len(data.encode() if isinstance(data, str) else data)
        return size > self.config.limits.max_message_bytes

    # ------------------------------------------------------------------ audio in
    async def on_audio(self, data: bytes) -> None:
        if not self.budget.take(time.monotonic()):
            self.stats.frames_rejected += 1
            raise ProtocolError(f"audio frames arrive faster than {self.config.limits.max_frame_rate:g} per second; "
                                "frames dropped (send in real time)")
        frame = pcm_to_float(data, self.config.frame_samples)
        self.stats.frames_received += 1
        for event in self.detector.push(frame):
            if isinstance(event, SpeechStarted):
                if self.reply_task is not None and not self.reply_task.done():
                    self.stats.barge_ins += 1
                    await self.stop_reply()
                    await self.send("interrupted", at_sample=event.at_sample, detected_sample=event.detected_sample)
                self.responder.begin()
                self.heard = 0
                await self.send("state", state="user_speaking")
            elif isinstance(event, Paused):
                if self.pipeline.answers_pauses and (self.reply_task is None or self.reply_task.done()):
                    self.confirm = asyncio.get_running_loop().create_future()
                    self.reply_task = asyncio.create_task(self.reply(event, self.confirm))
            elif isinstance(event, Resumed | TurnDropped):
                if self.confirm is not None:
                    self.confirm = None
                    await self.stop_reply()  # nothing of it was sent
                if isinstance(event, TurnDropped):
                    await self.send("state", state="listening")
            elif isinstance(event, TurnEnded):
                self.stats.turns += 1
                await self.send("state", state="thinking")
                if self.confirm is not None:
                    self.confirm.set_result(event)
                    self.confirm = None
                else:
                    self.reply_task = asyncio.create_task(self.reply(event))
        if self.detector.speaking:
            self.listen()

    def listen(self) -> None:
        """Hand the turn's new audio to the responder and let it work on it (one ``prepare`` in flight at a time)."""
        windows = self.detector.turn[self.heard :]
        if not windows:
            return
        self.responder.hear(np.concatenate(windows))
        self.heard += len(windows)
        if self.preparing is None or self.preparing.done():
            self.preparing = self.compute.submit(self.responder.prepare)
            self.preparing.add_done_callback(self._prepared)

    def _prepared(self, done: Future) -> None:
        if not done.cancelled() and done.exception() is not None:
            err = done.exception()
            log.error("%s: listening failed: %s: %s", self.client, type(err).__name__, err)

    # ------------------------------------------------------------------ audio out
    async def stop_reply(self) -> None:
        task, self.reply_task = self.reply_task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def reply(self, turn: TurnEnded | Paused, confirm: asyncio.Future | None = None) -> None:
        """Send the responder's answer to ``turn``: text as it comes, audio paced; cancelled on barge-in. A reply to a
        pause (``confirm``) computes its first piece, then waits for the :class:`TurnEnded` it gets before sending."""
        if self.last_close is not None:
            await asyncio.wrap_future(self.last_close)  # the previous reply's streaming state is released first
        ended = time.monotonic()
        reply = Reply(self.responder.respond(turn.audio), self.compute)
        clock, sent = 0.0, 0.0  # playout start (monotonic s) and audio sent (s) of this reply
        try:
            while True:
                start = time.perf_counter()
                event = await reply.next()
                self.stats.compute_seconds += time.perf_counter() - start
                if confirm is not None:
                    turn, confirm = await confirm, None
                    ended = time.monotonic()
                if event is None:
                    break
                if isinstance(event, Text):
                    await self.send("text", role=event.role, text=event.text)
                    continue
                if sent == 0.0:
                    first_ms = round((time.monotonic() - ended) * 1000, 1)
                    self.stats.first_audio_ms.append(first_ms)
                    rate = self.pipeline.input_rate
                    await self.send("turn", speech_end_ms=round(turn.speech_end_sample / rate * 1000, 1),
                                    hangover_ms=round((turn.at_sample - turn.speech_end_sample) / rate * 1000, 1),
                                    first_audio_ms=first_ms)
                    await self.send("state", state="speaking")
                    clock = time.monotonic()
                clock = max(clock, time.monotonic() - sent)  # the client ran dry: playout restarts now
                ahead = sent - (time.monotonic() - clock)
                if ahead > self.config.lead_seconds:
                    await asyncio.sleep(ahead - self.config.lead_seconds)
                await self.ws.send_bytes(float_to_pcm(event.samples))
                seconds = len(event.samples) / self.pipeline.output_rate
                sent += seconds
                self.stats.reply_audio_seconds += seconds
            self.stats.replies += 1
            await self.send("reply_end")
            await self.send("state", state="listening")
        except asyncio.CancelledError:
            raise
        except ConnectionError:
            pass  # the client left mid-reply
        except Exception as err:  # noqa: BLE001 - one failed reply, the session goes on
            log.error("%s: reply failed: %s: %s", self.client, type(err).__name__, err)
            await self.safe(self.error(f"the {self.pipeline.name} pipeline failed on this turn ({type(err).__name__}: {err})"))
            await self.safe(self.send("state", state="listening"))
        finally:
            self.last_close = reply.close()
