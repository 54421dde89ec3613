"""Forced phone alignment of audio + transcript with pocketsphinx 5 (bundled en-us model).

Two passes as pocketsphinx documents: word alignment (``set_align_text``), then
phone alignment (``set_alignment``). Words missing from the bundled dictionary
are added from CMUdict, else from espeak-ng's letter-to-sound rules; a word none
of them can pronounce raises :class:`AlignmentError`. When the
default search beams find no path (fast synthetic speech often), the alignment is
retried once with much wider beams.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from spokenlm.align.lexicon import pronunciation, text_to_words
from spokenlm.align.phones import PhoneSegment, merge_repeated_silence, normalize_phone
from spokenlm.align.words import WordSegment
from spokenlm.audio.io import resample
from spokenlm.errors import MissingDependencyError, SpokenLMError

ALIGN_SAMPLE_RATE = 16000
"""The en-us acoustic model works at 16 kHz; inputs are resampled."""

_FRAME_RATE = 100.0  # pocketsphinx frames per second
_ALTERNATIVE = re.compile(r"\(\d+\)$")  # "the(2)": the dictionary's second pronunciation
_FILLER = ("<", "+", "[")  # <sil>, <s>, +NOISE+: no word of the transcript
_WIDE_BEAMS = {"beam": 1e-120, "pbeam": 1e-120, "wbeam": 1e-100}


class AlignmentError(SpokenLMError):
    """Forced alignment failed for one utterance; the message names it and says why."""

    def __init__(self, source: str | Path, reason: str) -> None:
        self.source = str(source)
        self.reason = reason
        super().__init__(f"{source}: alignment failed ({reason})")


class PocketsphinxAligner:
    """Reusable forced aligner: two decoders (default and wide beams) loaded once, ~1 s.

    Args:
        min_rms: waveforms quieter than this RMS (full scale 1.0) are refused as silent.
    """

    def __init__(self, min_rms: float = 1e-4) -> None:
        try:
            from pocketsphinx import Decoder
        except ImportError as err:
            raise MissingDependencyError("pocketsphinx", extra="asr", purpose="forced phone alignment") from err
        self.min_rms = min_rms
        self._decoders = [Decoder(samprate=ALIGN_SAMPLE_RATE, loglevel="FATAL", bestpath=False),
                          Decoder(samprate=ALIGN_SAMPLE_RATE, loglevel="FATAL", bestpath=False, **_WIDE_BEAMS)]

    def _ensure_words(self, words: list[str], source: str | Path) -> None:
        missing = []
        for word in words:
            if self._decoders[0].lookup_word(word) is not None:
                continue
            phones = pronunciation(word)
            if phones is None:
                missing.append(word)
            else:
                for decoder in self._decoders:
                    decoder.add_word(word, " ".join(phones), True)
        if missing:
            unknown = ", ".join(sorted(set(missing)))
            raise AlignmentError(source, f"no pronunciation (not in pocketsphinx's dictionary or CMUdict, no espeak-ng guess) for: {unknown}")

    @staticmethod
    def _phone_alignment(decoder: Any, words: list[str], pcm: bytes) -> Any:
        """Both passes on one decoder; the pocketsphinx ``Alignment`` (``None`` or ``RuntimeError`` on failure)."""
        decoder.set_align_text(" ".join(words))
        for second_pass in (False, True):
            if second_pass:
                decoder.set_alignment()
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
        return decoder.get_alignment()

    def _alignment(self, wav: np.ndarray, sr: int, text: str, source: str | Path) -> Any:
        """The pocketsphinx ``Alignment`` (words of phones, in 10 ms frames) of ``wav`` to ``text``; see :meth:`align`."""
        words = text_to_words(text)
        if not words:
            raise AlignmentError(source, f"no words in transcript {text!r}")
        wav = np.asarray(wav, dtype=np.float32)
        if wav.size == 0 or not np.all(np.isfinite(wav)):
            raise AlignmentError(source, "empty or non-finite audio")
        if float(np.sqrt(np.mean(wav**2))) < self.min_rms:
            raise AlignmentError(source, "silent audio")
        self._ensure_words(words, source)
        pcm = (np.clip(resample(wav, sr, ALIGN_SAMPLE_RATE), -1.0, 1.0) * 32767).astype(np.int16).tobytes()
        alignment, failure = None, "decoder found no alignment"
        for decoder in self._decoders:
            try:
                alignment = self._phone_alignment(decoder, words, pcm)
            except RuntimeError as err:
                failure = f"decoder found no alignment, even with wide beams: {err}"
            if alignment is not None:
                return alignment
        raise AlignmentError(source, failure)

    def align(self, wav: np.ndarray, sr: int, text: str, source: str | Path = "<waveform>") -> list[PhoneSegment]:
        """Align mono ``wav`` ``[samples]`` at ``sr`` Hz to ``text``.

        Returns phone segments (ARPAbet without stress, ``SIL`` for pauses) with
        times in seconds from the start of ``wav``. Raises :class:`AlignmentError`
        naming ``source`` when the text has no words, a word has no pronunciation,
        the audio is silent or non-finite, or the decoder finds no path.
        """
        segments = [
            PhoneSegment(normalize_phone(phone.name), phone.start / _FRAME_RATE, (phone.start + phone.duration) / _FRAME_RATE)
            for word in self._alignment(wav, sr, text, source)
            for phone in word
        ]
        if not segments:
            raise AlignmentError(source, "decoder returned an empty alignment")
        return merge_repeated_silence(segments)

    def align_words(self, wav: np.ndarray, sr: int, text: str, source: str | Path = "<waveform>") -> list[WordSegment]:
        """The words of ``text`` with their times (s from the start of ``wav`` ``[samples]`` at ``sr`` Hz), pauses
        left out; one segment per word of :func:`~spokenlm.align.lexicon.text_to_words`. Errors as :meth:`align`."""
        words = [WordSegment(_ALTERNATIVE.sub("", w.name), w.start / _FRAME_RATE, (w.start + w.duration) / _FRAME_RATE)
                 for w in self._alignment(wav, sr, text, source)]
        words = [w for w in words if not w.word.startswith(_FILLER)]
        expected = text_to_words(text)
        if [w.word for w in words] != expected:
            raise AlignmentError(source, f"decoder returned words {[w.word for w in words]} for {expected}")
        return words


@lru_cache(maxsize=1)
def default_aligner() -> PocketsphinxAligner:
    """A process-wide :class:`PocketsphinxAligner`."""
    return PocketsphinxAligner()


def align(wav: np.ndarray, sr: int, text: str, source: str | Path = "<waveform>") -> list[PhoneSegment]:
    """Force-align ``wav`` ``[samples]`` at ``sr`` Hz to ``text``: ``[(phone, start_s, end_s)]``; see :meth:`PocketsphinxAligner.align`."""
    return default_aligner().align(wav, sr, text, source)
