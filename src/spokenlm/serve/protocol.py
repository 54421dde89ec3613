"""The websocket protocol of ``spokenlm serve``: binary PCM frames and JSON control messages.

Client → server:
    binary   one audio frame: exactly ``frame_samples`` signed 16-bit little-endian mono samples at ``input_rate`` Hz
             (20 ms: 320 samples = 640 bytes at 16 kHz);
    text     a JSON object with a ``"type"``: ``{"type": "format", "sample_rate": 16000, "frame_samples": 320}``
             (optional check that the client sends what the server reads), ``{"type": "end"}`` (finish: the server
             answers with a ``summary`` and closes).

Server → client:
    binary   model audio: any number of int16 little-endian mono samples at ``output_rate`` Hz, to be played gaplessly;
    text     JSON objects: ``ready`` (session id, pipeline, rates, frame size, limits), ``state`` (listening,
             user_speaking, thinking, speaking), ``text`` (role user/model, the text), ``interrupted`` (barge-in: drop
             the audio not yet played), ``reply_end``, ``turn`` (server-side timings of one turn: where speech ended in the stream,
             the VAD hang-over, turn end to first audio sent), ``error`` (a message
             in plain words; ``fatal`` when the server closes after it), ``summary`` (end of session).

Every problem with what a client sends raises :class:`ProtocolError`, whose message is sent back as an ``error``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from spokenlm.errors import SpokenLMError

CLIENT_MESSAGES = ("format", "end")
SERVER_MESSAGES = ("ready", "state", "text", "interrupted", "reply_end", "turn", "error", "summary")


class ProtocolError(SpokenLMError):
    """A message a client sent that the server cannot take (the session goes on unless ``fatal``)."""

    def __init__(self, message: str, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


def pcm_to_float(data: bytes, frame_samples: int) -> np.ndarray:
    """One binary frame → float32 ``[frame_samples]`` in [-1, 1]; a frame of another size raises :class:`ProtocolError`."""
    if len(data) != 2 * frame_samples:
        raise ProtocolError(f"audio frame of {len(data)} bytes; expected {2 * frame_samples} "
                            f"({frame_samples} int16 samples)")
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm(wav: np.ndarray) -> bytes:
    """Float samples ``[samples]`` (clipped to [-1, 1]) → int16 little-endian bytes."""
    return (np.clip(np.asarray(wav, dtype=np.float32), -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


def encode(kind: str, **fields: Any) -> str:
    """A server message ``{"type": kind, **fields}`` as JSON text."""
    if kind not in SERVER_MESSAGES:
        raise ValueError(f"not a server message type: {kind!r}")
    return json.dumps({"type": kind, **fields})


def decode(text: str) -> dict[str, Any]:
    """A client's JSON text → a message dict with a known ``"type"`` (else :class:`ProtocolError`)."""
    try:
        message = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        raise ProtocolError(f"control message is not JSON ({str(err).splitlines()[0][:80]})") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError('control message must be a JSON object with a "type"')
    if message["type"] not in CLIENT_MESSAGES:
        raise ProtocolError(f"unknown message type {message['type'][:40]!r}; known: {', '.join(CLIENT_MESSAGES)}")
    return message


def check_format(message: dict[str, Any], input_rate: int, frame_samples: int) -> None:
    """A ``format`` message must state the server's input rate and frame size (rates are not converted)."""
    rate, frame = message.get("sample_rate"), message.get("frame_samples", frame_samples)
    if rate != input_rate or frame != frame_samples:
        raise ProtocolError(f"audio format {rate} Hz / {frame}-sample frames is not served; "
                            f"send {input_rate} Hz mono int16 in frames of {frame_samples} samples")
