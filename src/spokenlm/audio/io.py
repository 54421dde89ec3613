"""Load any libsndfile format (wav, flac, ogg, mp3) to mono float32 at a chosen rate; save FLAC/WAV.

Waveforms are 1-D ``float32`` numpy arrays in [-1, 1], ``[samples]``; sample
rates are in Hz and always explicit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from spokenlm.errors import AudioError


def resample(wav: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample ``wav`` ``[samples]`` (or ``[samples, channels]``) from ``orig_sr`` to ``target_sr`` Hz with soxr (HQ)."""
    if orig_sr == target_sr:
        return wav.astype(np.float32, copy=False)
    return soxr.resample(wav, orig_sr, target_sr, quality="HQ").astype(np.float32, copy=False)


def load_audio(
    path: str | Path,
    sr: int | None = 16000,
    start: float = 0.0,
    duration: float | None = None,
) -> tuple[np.ndarray, int]:
    """Read ``path`` as mono float32 ``[samples]`` resampled to ``sr`` Hz (``None`` keeps the file's rate).

    ``start`` and ``duration`` are in seconds. Multi-channel audio is averaged to mono.
    Raises :class:`AudioError` (``missing``, ``unreadable`` or ``empty``) naming the file.
    """
    path = Path(path)
    if not path.exists():
        raise AudioError(path, "missing", "no such file")
    try:
        with sf.SoundFile(str(path)) as handle:
            file_sr = handle.samplerate
            first = int(round(start * file_sr))
            if first:
                handle.seek(min(first, handle.frames))
            frames = -1 if duration is None else int(round(duration * file_sr))
            data = handle.read(frames=frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError, OSError) as err:
        raise AudioError(path, "unreadable", str(err).splitlines()[0] if str(err) else type(err).__name__) from err
    if data.size == 0:
        raise AudioError(path, "empty", "no samples")
    wav = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    target = file_sr if sr is None else sr
    return resample(np.ascontiguousarray(wav), file_sr, target), target


def audio_info(path: str | Path) -> tuple[int, int, int]:
    """Return ``(sample_rate_hz, num_frames, channels)`` of ``path`` without decoding it."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        if not Path(path).exists():
            raise AudioError(path, "missing", "no such file") from err
        raise AudioError(path, "unreadable", str(err).splitlines()[0]) from err
    return info.samplerate, info.frames, info.channels


def save_audio(path: str | Path, wav: np.ndarray, sr: int) -> Path:
    """Write mono ``wav`` ``[samples]`` at ``sr`` Hz; the format follows the suffix (.flac or .wav, 16-bit PCM)."""
    path = Path(path)
    suffix = path.suffix.lower()
    formats = {".flac": "FLAC", ".wav": "WAV"}
    if suffix not in formats:
        raise ValueError(f"{path}: unsupported output format {suffix!r} (use .flac or .wav)")
    wav = np.asarray(wav, dtype=np.float32)
    if wav.ndim != 1:
        raise ValueError(f"{path}: expected mono [samples], got shape {wav.shape}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    sf.write(str(tmp), np.clip(wav, -1.0, 1.0), sr, format=formats[suffix], subtype="PCM_16")
    tmp.replace(path)
    return path
