"""Helpers of the server tests (tests/serve): quick server settings, speech followed by silence, JSON waits."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import numpy as np

from spokenlm.serve.app import ServeConfig
from spokenlm.serve.session import SessionConfig


def serve_config(**limits: object) -> ServeConfig:
    """Loopback, a free port, quick limits for tests (``limits`` override :class:`~spokenlm.serve.limits.Limits`)."""
    session = SessionConfig()
    session = replace(session, limits=replace(session.limits, **{"idle_seconds": 10.0, "max_frame_rate": 500.0, **limits}))
    return ServeConfig(host="127.0.0.1", port=0, compute_threads=2, session=session)


def with_silence(wav: np.ndarray, seconds: float = 0.8, sr: int = 16000) -> np.ndarray:
    """``wav`` followed by ``seconds`` of digital silence."""
    return np.concatenate([wav, np.zeros(int(seconds * sr), np.float32)])


async def next_json(ws, kind: str, timeout: float = 20.0) -> dict:
    """The next JSON message of ``kind`` on an aiohttp websocket (audio and other messages are skipped)."""
    import aiohttp

    deadline = time.monotonic() + timeout
    while True:
        message = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
        if message.type == aiohttp.WSMsgType.TEXT and json.loads(message.data)["type"] == kind:
            return json.loads(message.data)
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            raise AssertionError(f"closed before a {kind} message")
