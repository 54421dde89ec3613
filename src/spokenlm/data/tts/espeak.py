"""espeak-ng voices: English accents × voice variants; text and ``[[...]]`` phoneme input.

Synthesis goes through libespeak-ng (:mod:`spokenlm.data.tts.espeak_lib`), which gives
the audio and each phoneme's start and end in one pass; where the library cannot be
loaded, the ``espeak-ng`` command gives the same audio and the phones without timings.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from spokenlm.data.tts import espeak_lib
from spokenlm.data.tts.arpabet import arpabet_to_espeak, ipa_to_arpabet, parse_espeak_ipa
from spokenlm.data.tts.process import Synthesis, audible, read_engine_wav, require_binary, run_engine, scratch_dir
from spokenlm.data.tts.timings import segments_to_alignment
from spokenlm.data.tts.voice import TTSError, Voice

ENGINE = "espeak-ng"
_VARIANT = re.compile(r"^[mf]\d+$")


@lru_cache(maxsize=1)
def _accents() -> tuple[str, ...]:
    """English accents of the espeak-ng install (its own voices: not MBROLA ``mb/``, not variants ``!v/``)."""
    done = subprocess.run(["espeak-ng", "--voices=en"], capture_output=True, text=True, check=True)
    accents = []
    for line in done.stdout.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5 and not fields[4].startswith(("mb/", "!v/")) and fields[1] not in accents:
            accents.append(fields[1])
    return tuple(accents)


@lru_cache(maxsize=1)
def _variants() -> tuple[str, ...]:
    """Voice variants named like ``m1`` … ``m8``, ``f1`` … ``f5`` in the espeak-ng data folder."""
    done = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True)
    data = Path(done.stdout.split("Data at:")[-1].strip())
    names = [p.name for p in (data / "voices" / "!v").iterdir() if _VARIANT.match(p.name)]
    return tuple(sorted(names, key=lambda n: (n[0] != "m", int(n[1:]))))


def voices() -> list[Voice]:
    """Every accent × variant, e.g. ``espeak-ng:en-us+m3``; empty when espeak-ng is not installed."""
    if shutil.which(ENGINE) is None:
        return []
    return [Voice(ENGINE, f"{accent}+{variant}") for accent in _accents() for variant in _variants()]


def _speak_with_library(espeak_input: str, voice: Voice, sr: int, shown_text: str) -> Synthesis:
    """One library pass: audio at ``sr`` Hz and ARPAbet phones timed by the phoneme events (pauses dropped)."""
    from spokenlm.audio.io import resample

    try:
        spoken = espeak_lib.speak(espeak_input, voice.name)
    except espeak_lib.EspeakLibraryError as err:
        raise TTSError(voice.id, shown_text, err.reason) from err
    wav = audible(resample(spoken.samples.astype(np.float32) / 32768.0, spoken.sample_rate, sr), voice.id, shown_text)
    rate = spoken.sample_rate
    segments = [(name, start / rate, end / rate) for name, start, end in spoken.phonemes]
    phones, alignment = segments_to_alignment(segments, lambda name: ipa_to_arpabet([name]), len(wav) / sr)
    return Synthesis(wav, sr, phones, alignment)


def _speak_with_command(espeak_input: str, voice: Voice, sr: int, shown_text: str) -> Synthesis:
    """The ``espeak-ng`` command: the same audio, phones from its ``--ipa`` transcription, no timings."""
    binary = require_binary(ENGINE, voice.id, shown_text)
    with scratch_dir() as tmp:
        out = tmp / "out.wav"
        ipa = run_engine(
            [binary, "-v", voice.name, "--ipa", "--sep=_", "-w", str(out), "--stdin"], voice.id, shown_text, espeak_input
        )
        wav = read_engine_wav(out, sr, voice.id, shown_text)
    return Synthesis(wav, sr, parse_espeak_ipa(ipa))


def _speak(espeak_input: str, voice: Voice, sr: int, shown_text: str) -> Synthesis:
    if espeak_lib.available():
        return _speak_with_library(espeak_input, voice, sr, shown_text)
    return _speak_with_command(espeak_input, voice, sr, shown_text)


def synthesize(text: str, voice: Voice, sr: int) -> Synthesis:
    """Speak ``text``; phones (and their timings) come from espeak-ng's own phonemes in this voice's accent."""
    return _speak(text.replace("[[", "").replace("]]", ""), voice, sr, text)


def synthesize_phonemes(phones: Sequence[str], voice: Voice, sr: int) -> Synthesis:
    """Speak ARPAbet ``phones`` (one word) through espeak-ng's ``[[...]]`` phoneme input."""
    return _speak(f"[[{arpabet_to_espeak(phones)}]]", voice, sr, " ".join(phones))


def phonemize(text: str, accent: str = "en-us") -> list[str]:
    """ARPAbet phones (no stress) of ``text`` as espeak-ng ``accent`` pronounces it."""
    binary = require_binary(ENGINE, f"{ENGINE}:{accent}", text)
    return parse_espeak_ipa(run_engine([binary, "-q", "-v", accent, "--ipa", "--sep=_", "--stdin"], f"{ENGINE}:{accent}", text, text))
