"""Run one TTS engine process and read the waveform it wrote, with errors naming voice and text."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spokenlm.data.tts.voice import TTSError

TIMEOUT_S = 120.0


@dataclass
class Synthesis:
    """One synthesized utterance.

    Attributes:
        wav: mono float32 ``[samples]`` at ``sr`` Hz.
        sr: sample rate, Hz.
        phones: ARPAbet phones spoken (no stress digits, no pauses); empty when the engine gives none.
        alignment: ``[(phone, start_s, end_s), ...]`` where the engine gives timings, else ``None``.
    """

    wav: np.ndarray
    sr: int
    phones: list[str]
    alignment: list[tuple[str, float, float]] | None = None


def require_binary(name: str, voice_id: str, text: str) -> str:
    """Path of engine binary ``name``; :class:`TTSError` when it is not installed."""
    path = shutil.which(name)
    if path is None:
        raise TTSError(voice_id, text, f"{name} is not installed (apt-get install -y {name})")
    return path


def require_voice(voice_id: str, name: str, installed: Sequence[str], text: str) -> None:
    """:class:`TTSError` when ``name`` is not among the engine's ``installed`` voices."""
    if name not in installed:
        raise TTSError(voice_id, text, f"voice not installed; installed: {', '.join(installed) or 'none'}")


def run_engine(cmd: Sequence[str], voice_id: str, text: str, stdin: str | None = None) -> str:
    """Run ``cmd``; return its stdout, or raise :class:`TTSError` with the engine's last stderr line."""
    try:
        done = subprocess.run(list(cmd), input=stdin, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as err:
        raise TTSError(voice_id, text, f"timed out after {TIMEOUT_S:.0f} s") from err
    except OSError as err:
        raise TTSError(voice_id, text, f"cannot run {cmd[0]}: {err}") from err
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit code {done.returncode}"]
        raise TTSError(voice_id, text, f"{Path(cmd[0]).name} failed: {lines[-1]}")
    return done.stdout


@contextmanager
def scratch_dir() -> Iterator[Path]:
    """A temporary folder for an engine's output files, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="spokenlm-tts-") as tmp:
        yield Path(tmp)


def read_engine_wav(path: Path, sr: int, voice_id: str, text: str) -> np.ndarray:
    """Load the engine's output ``path`` as mono float32 ``[samples]`` at ``sr`` Hz; empty or silent output is an error."""
    from spokenlm.audio.io import load_audio
    from spokenlm.errors import AudioError

    try:
        wav, _ = load_audio(path, sr)
    except AudioError as err:
        raise TTSError(voice_id, text, f"no audio produced ({err.reason})") from err
    return audible(wav, voice_id, text)


def audible(wav: np.ndarray, voice_id: str, text: str) -> np.ndarray:
    """``wav`` unchanged; :class:`TTSError` when the engine produced only silence."""
    if not np.any(np.abs(wav) > 1e-4):
        raise TTSError(voice_id, text, "the engine produced only silence")
    return wav
