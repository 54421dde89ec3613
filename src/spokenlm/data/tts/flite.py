"""flite voices (kal, kal16, awb, rms, slt); phones from ``flite -ps``."""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache

from spokenlm.data.tts.arpabet import festival_to_arpabet
from spokenlm.data.tts.process import Synthesis, read_engine_wav, require_binary, require_voice, run_engine, scratch_dir
from spokenlm.data.tts.voice import Voice

ENGINE = "flite"
_DOMAIN_VOICES = {"awb_time"}  # speaks clock times only


@lru_cache(maxsize=1)
def _names() -> tuple[str, ...]:
    done = subprocess.run(["flite", "-lv"], capture_output=True, text=True, check=True)
    listed = done.stdout.split(":", 1)[-1].split()
    return tuple(n for n in listed if n not in _DOMAIN_VOICES)


def voices() -> list[Voice]:
    """The voices compiled into the flite binary; empty when flite is not installed."""
    if shutil.which(ENGINE) is None:
        return []
    return [Voice(ENGINE, name) for name in _names()]


def synthesize(text: str, voice: Voice, sr: int) -> Synthesis:
    """Speak ``text``; phones are the segments flite prints with ``-ps``."""
    binary = require_binary(ENGINE, voice.id, text)
    require_voice(voice.id, voice.name, _names(), text)
    with scratch_dir() as tmp:
        out = tmp / "out.wav"
        # Text goes through a file: ``-t`` would read a leading "-" as an option.
        source = tmp / "in.txt"
        source.write_text(text + "\n")
        printed = run_engine([binary, "-voice", voice.name, "-ps", "-f", str(source), "-o", str(out)], voice.id, text)
        wav = read_engine_wav(out, sr, voice.id, text)
    phones = [p for name in printed.split() for p in festival_to_arpabet(name)]
    return Synthesis(wav, sr, phones)
