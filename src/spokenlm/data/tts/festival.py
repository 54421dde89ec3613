"""festival voices (Debian festvox packages); phone timings from the Segment relation.

Each call runs ``festival -b`` on a small Scheme script that synthesizes the
utterance, saves the wave and prints ``name end_s`` for every segment. Phoneme
input adds a lexicon entry for a placeholder word, so pseudo-words go through
the same prosody path as real words.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence

from spokenlm.data.tts.arpabet import arpabet_to_festival, festival_to_arpabet
from spokenlm.data.tts.process import Synthesis, read_engine_wav, require_binary, require_voice, run_engine, scratch_dir
from spokenlm.data.tts.voice import TTSError, Voice
from spokenlm.env.engines import festival_voices

ENGINE = "festival"
_PLACEHOLDER = "spokenlmword"
_SEGMENTS = '(mapcar (lambda (s) (format t "%s %f\\n" (item.name s) (item.feat s "end"))) (utt.relation.items utt \'Segment))'


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
        script = tmp / "say.scm"
        script.write_text(
            f"(voice_{voice.name})\n{setup}\n"
            f"(set! utt (utt.synth (Utterance Text {_scheme_string(text_to_say)})))\n"
            f"(utt.save.wave utt {_scheme_string(str(out))} 'riff)\n{_SEGMENTS}\n"
        )
        printed = run_engine([binary, "-b", str(script)], voice.id, shown_text)
        if not out.exists():
            last = (printed.strip().splitlines() or ["no output"])[-1]
            raise TTSError(voice.id, shown_text, f"festival wrote no audio: {last}")
        wav = read_engine_wav(out, sr, voice.id, shown_text)
    return Synthesis(wav, sr, *_parse_segments(printed))


def _parse_segments(printed: str) -> tuple[list[str], list[tuple[str, float, float]]]:
    """``name end_s`` lines → ARPAbet phones and ``(phone, start_s, end_s)`` (pauses dropped)."""
    phones: list[str] = []
    alignment: list[tuple[str, float, float]] = []
    start = 0.0
    for line in printed.splitlines():
        fields = line.split()
        if len(fields) != 2:
            continue
        try:
            end = float(fields[1])
        except ValueError:
            continue
        mapped = festival_to_arpabet(fields[0])
        for i, phone in enumerate(mapped):  # a syllabic "el" spans two ARPAbet phones: split its time
            a = start + (end - start) * i / len(mapped)
            b = start + (end - start) * (i + 1) / len(mapped)
            phones.append(phone)
            alignment.append((phone, round(a, 4), round(b, 4)))
        start = end
    return phones, alignment


def synthesize(text: str, voice: Voice, sr: int) -> Synthesis:
    """Speak ``text``; phones and their ``(start_s, end_s)`` come from festival's segments."""
    return _run(voice, "", text, text, sr)


def synthesize_phonemes(phones: Sequence[str], voice: Voice, sr: int) -> Synthesis:
    """Speak ARPAbet ``phones`` as one word through a lexicon entry (festival syllabifies it)."""
    listed = " ".join(arpabet_to_festival(phones))
    setup = f"(lex.add.entry (list {_scheme_string(_PLACEHOLDER)} nil (lex.syllabify.phstress '({listed}))))"
    return _run(voice, setup, _PLACEHOLDER, " ".join(phones), sr)
