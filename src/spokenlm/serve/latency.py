"""The latency probe: a websocket client that talks to a server at 1× speed and measures what a listener hears.

Latency runs from the prompt's last voiced sample (silero-vad, no padding) to the first output sample above
−40 dBFS as the client would play it: audio plays gaplessly from its arrival, so output sample ``k`` of a reply
sounds at ``max(arrival of its chunk, end of the samples before it)``. The server's VAD hang-over is part of the
latency and is reported beside it. Barge-in time runs from the first voiced sample of speech sent over the model's
reply to the moment the client goes silent: the ``interrupted`` message (the page drops queued audio then) or the
end of the audio already received, whichever comes first. The same probe measures every pipeline.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spokenlm.serve.protocol import float_to_pcm

LOUD = 10 ** (-40 / 20)  # -40 dBFS


def voiced_span(wav: np.ndarray, sr: int = 16000) -> tuple[float, float]:
    """(first, last) voiced instant of ``wav`` in seconds: silero-vad's speech (no padding; the whole clip when none is
    found), its end moved back to the last sample above −40 dBFS (silero's end lags into a following silence by up
    to its minimum silence, the same criterion as the output's first sample)."""
    from spokenlm.audio.vad import VadConfig, speech_segments

    segments = speech_segments(wav, sr, VadConfig(pad_s=0.0, min_silence_s=0.1))
    first, last = (segments[0][0], segments[-1][1]) if segments else (0.0, len(wav) / sr)
    loud = np.nonzero(np.abs(wav[: round(last * sr)]) > LOUD)[0]
    return first, (float(loud[-1] + 1) / sr if len(loud) and loud[-1] + 1 > first * sr else last)


def echo_correlation(output: np.ndarray, reference: np.ndarray) -> float:
    """Largest normalized cross-correlation (any lag) of ``output`` with ``reference`` (same rate): 1 = an exact echo."""
    if len(output) == 0 or len(reference) == 0:
        return 0.0
    n = len(output) + len(reference)
    spectrum = np.fft.rfft(output, n) * np.conj(np.fft.rfft(reference, n))
    peak = float(np.abs(np.fft.irfft(spectrum, n)).max())
    return peak / (float(np.linalg.norm(output) * np.linalg.norm(reference)) + 1e-12)


@dataclass
class Heard:
    """What the client received. ``audio``: (arrival s, samples float32 [n]); ``messages``: (arrival s, JSON dict)."""

    audio: list[tuple[float, np.ndarray]] = field(default_factory=list)
    messages: list[tuple[float, dict[str, Any]]] = field(default_factory=list)

    def first(self, kinds: str | tuple[str, ...], after: float = 0.0,
              where: Callable[[float, dict[str, Any]], bool] | None = None) -> tuple[float, dict[str, Any]] | None:
        """The first message of one of ``kinds`` that arrived at or after ``after`` (and for which ``where(t, m)``)."""
        kinds = (kinds,) if isinstance(kinds, str) else kinds
        return next(((t, m) for t, m in self.messages if m["type"] in kinds and t >= after and (where is None or where(t, m))), None)

    def playout(self, rate: int, after: float = 0.0, cut: float | None = None) -> list[tuple[float, np.ndarray]]:
        """(start s, samples) of each chunk arrived after ``after`` as played gaplessly; chunks after ``cut`` dropped."""
        out, clock = [], 0.0
        for arrival, samples in self.audio:
            if arrival < after or (cut is not None and arrival >= cut):
                continue
            clock = max(clock, arrival)
            out.append((clock, samples))
            clock += len(samples) / rate
        return out


class ProbeClient:
    """A websocket client sending audio at 1× speed while recording what arrives (with monotonic arrival times)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.heard = Heard()
        self.frames_sent = 0
        self.ready: dict[str, Any] = {}

    async def __aenter__(self) -> ProbeClient:
        import aiohttp

        self.http = aiohttp.ClientSession()
        self.ws = await self.http.ws_connect(self.url, max_msg_size=0)
        self.ready = json.loads((await self.ws.receive(timeout=60)).data)
        if self.ready.get("type") != "ready":
            raise ConnectionError(f"{self.url}: the server refused the session: {self.ready.get('message', self.ready)}")
        self.receiver = asyncio.create_task(self._receive())
        self.clock = time.monotonic()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.receiver.cancel()
        await asyncio.gather(self.receiver, return_exceptions=True)
        await self.ws.close()
        await self.http.close()

    async def _receive(self) -> None:
        import aiohttp

        async for message in self.ws:
            now = time.monotonic()
            if message.type == aiohttp.WSMsgType.BINARY:
                self.heard.audio.append((now, np.frombuffer(message.data, dtype="<i2").astype(np.float32) / 32768.0))
            elif message.type == aiohttp.WSMsgType.TEXT:
                self.heard.messages.append((now, json.loads(message.data)))

    async def send(self, wav: np.ndarray) -> float:
        """Send ``wav`` (float32 at the server's input rate) frame by frame in real time; returns when it started (s)."""
        frame = self.ready["frame_samples"]
        seconds = frame / self.ready["input_rate"]
        wav = np.pad(wav, (0, -len(wav) % frame))
        self.clock = max(self.clock, time.monotonic())
        start = self.clock
        for offset in range(0, len(wav), frame):
            self.clock += seconds
            await asyncio.sleep(max(0.0, self.clock - time.monotonic()))
            await self.ws.send_bytes(float_to_pcm(wav[offset : offset + frame]))
            self.frames_sent += 1
        return start

    async def silence_until(self, kinds: str | tuple[str, ...], after: float, timeout: float,
                            where: Callable[[float, dict[str, Any]], bool] | None = None) -> tuple[float, dict[str, Any]] | None:
        """Send silence in real time until a message of ``kinds`` arrives after ``after`` (``where`` as in
        :meth:`Heard.first`), or ``timeout`` seconds pass."""
        frame = np.zeros(self.ready["frame_samples"], dtype=np.float32)
        deadline = time.monotonic() + timeout
        while (found := self.heard.first(kinds, after, where)) is None and time.monotonic() < deadline:
            await self.send(frame)
        return found

    async def end(self, timeout: float = 30.0) -> dict[str, Any] | None:
        """Ask for the summary and return it."""
        await self.ws.send_str(json.dumps({"type": "end"}))
        deadline = time.monotonic() + timeout
        while (found := self.heard.first("summary")) is None and time.monotonic() < deadline and not self.ws.closed:
            await asyncio.sleep(0.02)
        return found[1] if found else None


@dataclass
class TurnMeasure:
    """One prompt's measurements (milliseconds; ``None`` when it did not happen). ``reply``: the audio heard (float32
    at the output rate); ``echo``: its :func:`echo_correlation` with the prompt; ``barge_in_sample``: the stream sample
    (counted from the session's first frame) of the barge-in speech's first voiced sample; ``false_ends``: turns the
    server ended inside the prompt (at a pause, before its last voiced sample); ``vad_end_ms``: how long after the
    prompt's last voiced sample the server's VAD heard its last speech (the turn's end is ``hangover_ms`` later)."""

    latency_ms: float | None
    hangover_ms: float | None
    server_first_audio_ms: float | None
    barge_in_ms: float | None
    reply: np.ndarray
    echo: float
    barge_in_sample: int | None = None
    false_ends: int = 0
    vad_end_ms: float | None = None


def first_loud(played: list[tuple[float, np.ndarray]], rate: int) -> float | None:
    """When the first sample above −40 dBFS of ``played`` (from :meth:`Heard.playout`) sounds, seconds."""
    for start, samples in played:
        loud = np.abs(samples) > LOUD
        if loud.any():
            return start + int(np.argmax(loud)) / rate
    return None


async def measure_turn(client: ProbeClient, prompt: np.ndarray, barge_in: np.ndarray | None = None,
                       barge_after_s: float = 0.3, timeout: float = 60.0) -> TurnMeasure:
    """Speak ``prompt`` (float32 at the input rate) and wait for the reply; with ``barge_in``, speak it over the reply
    once ``barge_after_s`` of the reply has sounded, measure how fast the model goes silent, and wait for the reply to
    the barge-in turn."""
    rate, out_rate = client.ready["input_rate"], client.ready["output_rate"]
    prompt_end = voiced_span(prompt, rate)[1]  # before speaking: the VAD must not hold up the real-time stream
    barge_start = voiced_span(barge_in, rate)[0] if barge_in is not None else 0.0
    end_ms = (client.frames_sent * client.ready["frame_samples"] / rate + prompt_end) * 1000  # in the server's stream
    start = await client.send(prompt)
    last_voiced = start + prompt_end

    def inside(m: dict[str, Any]) -> bool:  # a turn the server ended before the prompt's end
        return m["type"] == "turn" and m["speech_end_ms"] < end_ms - 100

    def answer(t: float, m: dict[str, Any]) -> bool:  # the reply to the whole prompt, or its failure
        return not inside(m) and (m["type"] == "turn" or t >= last_voiced)

    answered = await client.silence_until(("turn", "reply_end", "error"), start, timeout, answer)
    turn = answered if answered and answered[1]["type"] == "turn" else None
    since = turn[0] if turn else last_voiced  # what is heard from here on answers the prompt
    barge_ms = barge_sample = None
    if barge_in is None or turn is None:
        await client.silence_until("reply_end", since, timeout)
    elif await _sound_for(client, since, out_rate, barge_after_s, timeout):
        barge_sample = client.frames_sent * client.ready["frame_samples"] + round(barge_start * rate)
        onset = await client.send(barge_in) + barge_start
        stopped = await client.silence_until("interrupted", since, timeout)
        end_of_audio = max((t + len(s) / out_rate for t, s in client.heard.playout(out_rate, after=since)), default=onset)
        barge_ms = max(0.0, (min(stopped[0], end_of_audio) if stopped else end_of_audio) - onset) * 1000
        if stopped:
            await client.silence_until("reply_end", stopped[0], timeout)
    cut = client.heard.first("interrupted", since)
    played = client.heard.playout(out_rate, after=since, cut=cut[0] if cut else None)
    reply = np.concatenate([s for _, s in played]) if played else np.zeros(0, np.float32)
    loud = first_loud(played, out_rate)
    return TurnMeasure(
        latency_ms=None if loud is None else (loud - last_voiced) * 1000,
        hangover_ms=turn[1]["hangover_ms"] if turn else None,
        server_first_audio_ms=turn[1]["first_audio_ms"] if turn else None,
        barge_in_ms=barge_ms,
        reply=reply,
        echo=echo_correlation(reply, prompt) if out_rate == rate else float("nan"),
        barge_in_sample=barge_sample,
        false_ends=sum(m["type"] == "state" and m["state"] == "thinking" and t < last_voiced for t, m in client.heard.messages
                       if t >= start),  # every end of turn says "thinking"
        vad_end_ms=turn[1]["speech_end_ms"] - end_ms if turn else None,
    )


async def _sound_for(client: ProbeClient, after: float, rate: int, seconds: float, timeout: float) -> bool:
    """Send silence until the reply begun after ``after`` has sounded ``seconds`` past its first loud sample (True),
    or it ended or ``timeout`` passed first (False)."""
    frame = np.zeros(client.ready["frame_samples"], dtype=np.float32)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and client.heard.first("reply_end", after) is None:
        loud = first_loud(client.heard.playout(rate, after=after), rate)
        if loud is not None and time.monotonic() >= loud + seconds:
            return True
        await client.send(frame)
    return False
