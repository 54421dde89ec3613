"""flite voices (kal, kal16, awb, rms, slt); phones and their timings from ``flite -psdur``.

flite splits the text into utterances (at sentence punctuation), synthesizes
them one after another into one wave file and prints one line of
``phone:end_s`` segments per utterance, times from that utterance's start. An
utterance's wave can be a little shorter than its last segment end (the
diphone voices ``kal``/``kal16`` cut the final pause by ~0.11 s; the others by a
few ms), so the shortfall of the whole file is shared equally among the
utterances to place each one.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache

from spokenlm.data.tts.arpabet import festival_to_arpabet
from spokenlm.data.tts.process import Synthesis, read_engine_wav, require_binary, require_voice, run_engine, scratch_dir
from spokenlm.data.tts.timings import Alignment, ends_to_segments, segments_to_alignment
from spokenlm.data.tts.voice import TTSError, Voice

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


def parse_psdur(printed: str, duration_s: float) -> tuple[list[str], Alignment]:
    """``flite -psdur`` output (a line of ``phone:end_s`` per utterance) → ARPAbet phones and ``(phone, start_s, end_s)``.

    Times are seconds from the start of a wave of ``duration_s`` seconds holding all the utterances.
    """
    utterances = [
        [(name, float(end)) for name, _, end in (seg.rpartition(":") for seg in line.split())]
        for line in printed.splitlines()
        if line.strip()
    ]
    if not utterances:
        return [], []
    shortfall = (sum(utt[-1][1] for utt in utterances) - duration_s) / len(utterances)
    segments = []
    offset = 0.0
    for utt in utterances:
        segments += ends_to_segments(utt, offset)
        offset += utt[-1][1] - shortfall
    return segments_to_alignment(segments, festival_to_arpabet, duration_s)


def synthesize(text: str, voice: Voice, sr: int) -> Synthesis:
    """Speak ``text``; phones and their ``(start_s, end_s)`` are the segments flite prints with ``-psdur``."""
    binary = require_binary(ENGINE, voice.id, text)
    require_voice(voice.id, voice.name, _names(), text)
    with scratch_dir() as tmp:
        out = tmp / "out.wav"
        # Text goes through a file: ``-t`` would read a leading "-" as an option.
        source = tmp / "in.txt"
        source.write_text(text + "\n")
        printed = run_engine([binary, "-voice", voice.name, "-psdur", "-f", str(source), "-o", str(out)], voice.id, text)
        wav = read_engine_wav(out, sr, voice.id, text)
    try:
        phones, alignment = parse_psdur(printed, len(wav) / sr)
    except ValueError as err:
        raise TTSError(voice.id, text, f"unreadable flite -psdur output ({err})") from err
    return Synthesis(wav, sr, phones, alignment)
