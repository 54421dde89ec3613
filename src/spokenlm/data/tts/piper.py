"""piper voices (optional): the ``piper`` binary plus a folder of ``.onnx`` voice models.

The folder is ``$SPOKENLM_PIPER_VOICES``; every ``<name>.onnx`` with its
``<name>.onnx.json`` beside it is a voice. Nothing is downloaded. Phones come
from espeak-ng (en-us), which piper itself uses to phonemize.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from spokenlm.data.tts import espeak
from spokenlm.data.tts.process import Synthesis, read_engine_wav, require_binary, run_engine, scratch_dir
from spokenlm.data.tts.voice import TTSError, Voice

ENGINE = "piper"
VOICES_ENV = "SPOKENLM_PIPER_VOICES"


def _voice_dir() -> Path | None:
    value = os.environ.get(VOICES_ENV)
    return Path(value) if value and Path(value).is_dir() else None


def voices() -> list[Voice]:
    """Voices in ``$SPOKENLM_PIPER_VOICES``; empty without the binary or the folder."""
    folder = _voice_dir()
    if shutil.which(ENGINE) is None or folder is None:
        return []
    return [Voice(ENGINE, p.stem) for p in sorted(folder.glob("*.onnx")) if p.with_suffix(".onnx.json").exists()]


def synthesize(text: str, voice: Voice, sr: int) -> Synthesis:
    """Speak ``text`` with the piper model ``<voice.name>.onnx``."""
    binary = require_binary(ENGINE, voice.id, text)
    folder = _voice_dir()
    model = folder / f"{voice.name}.onnx" if folder else None
    if model is None or not model.exists():
        raise TTSError(voice.id, text, f"no model {voice.name}.onnx in ${VOICES_ENV}")
    with scratch_dir() as tmp:
        out = tmp / "out.wav"
        run_engine([binary, "--model", str(model), "--output_file", str(out)], voice.id, text, text)
        wav = read_engine_wav(out, sr, voice.id, text)
    return Synthesis(wav, sr, espeak.phonemize(text))
