"""Turn taking from a live 16 kHz stream with silero-vad: when the user starts speaking and when a turn ends.

Audio arrives in frames of any size; the detector scores consecutive 32 ms windows (512 samples) with its own
silero-vad state. Speech starts after ``min_speech_s`` of windows above ``threshold``; a turn ends after
``end_silence_s`` (the hang-over) of windows below it. The hang-over is part of every reply's latency; so that
it is the only part, a pause of ``pause_s`` inside a turn is reported (:class:`Paused`, with the turn so far) and
its end too (:class:`Resumed`), and the server answers a paused turn ahead, sending the answer only if the turn ends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spokenlm.audio.vad import VAD_SAMPLE_RATE, load_vad_model

WINDOW = 512  # samples per silero-vad window at 16 kHz (32 ms)


@dataclass
class TurnConfig:
    """End-of-turn settings.

    Attributes:
        threshold: speech probability above which a 32 ms window is speech.
        min_speech_s: this much speech starts a user turn (and interrupts the model: barge-in), seconds.
        end_silence_s: this much silence after speech ends the turn (VAD hang-over), seconds. 0.192 is the shortest
            that ended none of the bench's 12 Harvard sentences early (0.128-0.16 ended 2, 0.096 ended 3).
        pause_s: this much silence inside a turn is a pause (:class:`Paused`), seconds; 0: none.
        min_turn_s: turns with less speech than this are dropped (clicks, coughs), seconds.
        max_turn_s: a turn this long ends even without a pause, seconds.
        pre_roll_s: audio kept from before the detected onset, seconds.
        silence_dbfs: windows whose peak is below this level are silence without running the VAD (saves CPU
            while the line is quiet), dBFS.
    """

    threshold: float = 0.5
    min_speech_s: float = 0.096
    end_silence_s: float = 0.192
    pause_s: float = 0.064
    min_turn_s: float = 0.25
    max_turn_s: float = 20.0
    pre_roll_s: float = 0.2
    silence_dbfs: float = -60.0


@dataclass
class SpeechStarted:
    """The user started speaking at stream sample ``at_sample`` (samples since the session began); it was detected
    once the stream reached ``detected_sample``."""

    at_sample: int
    detected_sample: int


@dataclass
class TurnDropped:
    """Speech stopped before it made a turn of ``min_turn_s``; ``at_sample`` where the hang-over ran out."""

    at_sample: int


@dataclass
class TurnEnded:
    """A finished user turn: ``audio`` float32 ``[samples]`` at 16 kHz; ``speech_end_sample`` its last voiced sample in
    stream samples; ``at_sample`` where the hang-over ran out."""

    audio: np.ndarray
    speech_end_sample: int
    at_sample: int


@dataclass
class Paused:
    """The user paused for ``pause_s`` inside a turn; ``audio`` is the turn so far (float32 ``[samples]`` at 16 kHz),
    ``speech_end_sample`` its last voiced sample, ``at_sample`` where the pause was detected (stream samples)."""

    audio: np.ndarray
    speech_end_sample: int
    at_sample: int


@dataclass
class Resumed:
    """Speech went on after a :class:`Paused` (the turn continues) at stream sample ``at_sample``."""

    at_sample: int


TurnEvent = SpeechStarted | TurnDropped | TurnEnded | Paused | Resumed


def _windows(seconds: float) -> int:
    return max(1, round(seconds * VAD_SAMPLE_RATE / WINDOW))


class TurnDetector:
    """``push(samples)`` → the :class:`SpeechStarted` / :class:`Paused` / :class:`Resumed` / :class:`TurnDropped` /
    :class:`TurnEnded` events those samples complete. While :attr:`speaking`, :attr:`turn` holds the current turn's
    windows (float32 ``[512]`` each, the pre-roll first)."""

    def __init__(self, config: TurnConfig | None = None) -> None:
        import torch

        self._torch = torch
        self.config = config or TurnConfig()
        self.model = load_vad_model()
        self.pending = np.zeros(0, dtype=np.float32)
        self.consumed = 0  # stream samples scored so far
        self.speaking = False
        self.voiced_run = 0
        self.silent_run = 0
        self.turn: list[np.ndarray] = []
        self.history: list[np.ndarray] = []  # recent windows before an onset (pre-roll)
        self.last_voiced = 0

    def push(self, samples: np.ndarray) -> list[TurnEvent]:
        """Feed float32 ``[samples]`` at 16 kHz; returns events in order."""
        self.pending = np.concatenate([self.pending, np.asarray(samples, dtype=np.float32)])
        events: list[TurnEvent] = []
        while len(self.pending) >= WINDOW:
            window, self.pending = self.pending[:WINDOW], self.pending[WINDOW:]
            event = self._score(window)
            if event is not None:
                events.append(event)
        return events

    def _score(self, window: np.ndarray) -> TurnEvent | None:
        c = self.config
        voiced = False
        if np.abs(window).max() >= 10 ** (c.silence_dbfs / 20):
            with self._torch.inference_mode():
                voiced = float(self.model(self._torch.from_numpy(window.copy()), VAD_SAMPLE_RATE)) >= c.threshold
        self.consumed += WINDOW
        if voiced:
            self.last_voiced = self.consumed
        if not self.speaking:
            self.history = [*self.history, window][-(_windows(c.pre_roll_s) + _windows(c.min_speech_s)) :]
            self.voiced_run = self.voiced_run + 1 if voiced else 0
            if self.voiced_run < _windows(c.min_speech_s):
                return None
            self.speaking, self.silent_run = True, 0
            self.turn, self.history = list(self.history), []
            return SpeechStarted(self.consumed - self.voiced_run * WINDOW, self.consumed)
        self.turn.append(window)
        paused = c.pause_s > 0 and self.silent_run >= _windows(c.pause_s)
        self.silent_run = 0 if voiced else self.silent_run + 1
        if self.silent_run >= _windows(c.end_silence_s) or len(self.turn) >= _windows(c.max_turn_s):
            return self._end_turn()
        if voiced and paused:
            return Resumed(self.consumed)
        if c.pause_s > 0 and self.silent_run == _windows(c.pause_s):
            return Paused(np.concatenate(self.turn), self.last_voiced, self.consumed)
        return None

    def _end_turn(self) -> TurnEnded | TurnDropped:
        c = self.config
        audio = np.concatenate(self.turn)
        voiced_windows = len(self.turn) - self.silent_run
        self.speaking, self.voiced_run, self.silent_run, self.turn = False, 0, 0, []
        if voiced_windows < _windows(c.min_turn_s):
            return TurnDropped(self.consumed)
        return TurnEnded(audio, self.last_voiced, self.consumed)
