"""What one client may use: message size, frame rate, session length, idle time, concurrent sessions."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Limits:
    """Per-server and per-session limits (a client over one gets an ``error`` message; see :mod:`.session`).

    Attributes:
        max_sessions: concurrent sessions; one more is refused with an ``error`` and closed (code 1013, try again later).
        max_message_bytes: larger messages are refused with an ``error`` and the session goes on; messages over
            4× this are cut off by the websocket layer, which closes the connection (code 1009).
        max_frame_rate: audio frames per second a client may send on average (real time is ``input_rate /
            frame_samples``, 50 Hz for 20 ms frames); ``burst_seconds`` of frames may come at once.
        burst_seconds: seconds of audio a client may send ahead of real time.
        max_session_seconds: a session is closed after this long, seconds.
        idle_seconds: a session whose client sends nothing for this long is closed, seconds.
    """

    max_sessions: int = 4
    max_message_bytes: int = 16384
    max_frame_rate: float = 75.0
    burst_seconds: float = 2.0
    max_session_seconds: float = 900.0
    idle_seconds: float = 30.0

    def public(self) -> dict[str, float]:
        """The limits as the ``ready`` message tells the client."""
        return asdict(self)


class FrameBudget:
    """Token bucket of audio frames: ``rate`` frames per second on average, ``burst`` frames at once.

    ``take(now)`` is True when a frame arriving at ``now`` (seconds, monotonic) is within the budget.
    """

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.tokens = self.burst
        self.last: float | None = None

    def take(self, now: float) -> bool:
        if self.last is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


class SessionSlots:
    """Counts open sessions against ``capacity``; ``acquire()`` is False when all slots are taken."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.open = 0

    def acquire(self) -> bool:
        if self.open >= self.capacity:
            return False
        self.open += 1
        return True

    def release(self) -> None:
        self.open = max(0, self.open - 1)
