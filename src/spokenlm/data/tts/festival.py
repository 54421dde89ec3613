"""festival voices (Debian festvox packages); phone timings from the Segment relation.

Each call sends a small Scheme script to this process's festival session for
the voice: it synthesizes the utterance, saves the wave and prints
``name end_s`` for every segment. Phoneme input adds a lexicon entry for a
placeholder word, so pseudo-words go through the same prosody path as real words.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence

from spokenlm.data.tts.arpabet import arpabet_to_festival, festival_to_arpabet
from spokenlm.data.tts.festival_session import session
from spokenlm.data.tts.process import TIMEOUT_S, Synthesis, read_engine_wav, require_binary, require_voice, scratch_dir
from spokenlm.data.tts.timings import Alignment, ends_to_segments, segments_to_alignment
from spokenlm.data.tts.voice import TTSError, Voice
from spokenlm.env.engines import festival_voices

ENGINE = "festival"
_PLACEHOLDER = "spokenlmword"
_SEGMENT = "spokenlm-seg"
_SEGMENTS = (
    f'(mapcar (lambda (s) (format stderr "{_SEGMENT} %s %f\\n" (item.name s) (item.feat s "end"))) '
    "(utt.relation.items utt 'Segment))"
)


def voices() -> list[Voice]:
    """The festival voices installed under ``/usr/share/festival/voices``; empty without festival."""
    if shutil.which(ENGINE) is None:
        return []
    return [Voice(ENGINE, name) for name in festival_voices()]


def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _run(voice: Voice, setup: str, text_to_say: str, shown_text: str, sr: int) -> Synthesis:
    binary = require_binary(ENGINE, voice.id, shown_text)
    require_voice(voice.id, voice.name, festival_voices(), shown_text)
    with scratch_dir() as tmp:
        out = tmp / "out.wav"
        # ``utt`` is reset first so a failed synthesis cannot save the previous utterance.
        script = (
            f"{setup}\n(set! utt nil)\n(set! utt (utt.synth (Utterance Text {_scheme_string(text_to_say)})))\n"
            f"(utt.save.wave utt {_scheme_string(str(out))} 'riff)\n{_SEGMENTS}"
        )
        printed = session(binary, voice.name, voice.id).run(script, shown_text, TIMEOUT_S)
        if not out.exists():
            errors = [line.strip() for line in printed if "ERROR" in line] or ["no output"]
            raise TTSError(voice.id, shown_text, f"festival wrote no audio: {errors[0]}")
        wav = read_engine_wav(out, sr, voice.id, shown_text)
    return Synthesis(wav, sr, *_parse_segments(printed, len(wav) / sr))


def _parse_segments(printed: list[str], duration_s: float) -> tuple[list[str], Alignment]:
    """``spokenlm-seg name end_s`` lines → ARPAbet phones and ``(phone, start_s, end_s)`` within ``duration_s`` (pauses dropped)."""
    ends = [(f[1], float(f[2])) for f in (line.split() for line in printed) if len(f) == 3 and f[0] == _SEGMENT]
    return segments_to_alignment(ends_to_segments(_merge_rhotic_r(ends)), festival_to_arpabet, duration_s)


def _merge_rhotic_r(ends: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """``(name, end_s)`` segments with an ``r`` straight after ``er`` merged into it: ked_diphone voices every ER as the
    diphone pair ``er r`` (the other voices, and CMUdict, write one ``ER``)."""
    merged: list[tuple[str, float]] = []
    for name, end in ends:
        if name.lower() == "r" and merged and merged[-1][0].lower() in ("er", "axr"):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((name, end))
    return merged


def synthesize(text: str, voice: Voice, sr: int) -> Synthesis:
    """Speak ``text``; phones and their ``(start_s, end_s)`` come from festival's segments."""
    return _run(voice, "", text, text, sr)


def synthesize_phonemes(phones: Sequence[str], voice: Voice, sr: int) -> Synthesis:
    """Speak ARPAbet ``phones`` as one word through a lexicon entry (festival syllabifies it)."""
    listed = " ".join(arpabet_to_festival(phones))
    setup = f"(lex.add.entry (list {_scheme_string(_PLACEHOLDER)} nil (lex.syllabify.phstress '({listed}))))"
    return _run(voice, setup, _PLACEHOLDER, " ".join(phones), sr)
