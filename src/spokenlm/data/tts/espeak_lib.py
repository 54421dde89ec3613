"""libespeak-ng through ctypes: audio and phoneme events from one synthesis pass.

Each call loads the library afresh (``dlopen``), initializes it in synchronous
mode (``AUDIO_OUTPUT_SYNCHRONOUS``: no threads; the call returns when all audio
has been handed to the callback) with IPA phoneme events, synthesizes, and
unloads it again (``dlclose``). espeak-ng keeps state across calls that no API
resets (the pitch-flutter phase is a function-local static; noise comes from
libc ``rand()``, reseeded here to its start value 1), so a library kept loaded
would give slightly different audio for the same text depending on what it said
before. Loaded per call (~5 ms), the samples depend only on voice and text and
are the ones the ``espeak-ng`` command writes with ``-w`` (same synthesis flags),
at the library's rate (22 050 Hz), in any process or worker. Calls are
serialized by a lock; the voice is set on every call.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

LIBRARY = "libespeak-ng.so.1"

# speak_lib.h
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_PHONEME_IPA = 0x0002
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_AUTO = 0
_PHONEMES = 0x100  # accept [[...]] phoneme input, as the espeak-ng command does
_ENDPAUSE = 0x1000  # pause at the end of the text, as the espeak-ng command does
_EE_OK = 0
_EE_NOT_FOUND = 2
_EVENT_LIST_TERMINATED = 0
_EVENT_END = 5
_EVENT_MSG_TERMINATED = 6
_EVENT_PHONEME = 7


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    """``espeak_EVENT``; ``sample`` is the event's position in samples from the start of the text."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_LIBC = ctypes.CDLL(None)  # the process's libc: srand, dlclose
_LIBC.dlclose.argtypes = [ctypes.c_void_p]
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


class EspeakLibraryError(RuntimeError):
    """The library refused a call; ``reason`` says which and why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass
class Spoken:
    """What one :func:`speak` call produced.

    Attributes:
        samples: int16 ``[samples]`` at ``sample_rate`` Hz.
        sample_rate: Hz (22 050 for espeak-ng's own voices).
        phonemes: ``(ipa_name, start_sample, end_sample)`` per phoneme event in order; pauses have an empty name.
    """

    samples: np.ndarray
    sample_rate: int
    phonemes: list[tuple[str, int, int]]


_LOCK = threading.Lock()


@contextmanager
def _loaded() -> Iterator[ctypes.CDLL]:
    """libespeak-ng loaded for the duration of the block, then unloaded (its static state goes with it)."""
    lib = ctypes.CDLL(LIBRARY)
    try:
        yield lib
    finally:
        _LIBC.dlclose(lib._handle)


class _Collector:
    """The synthesis callback: keeps the samples and the phoneme / end events of one call."""

    def __init__(self) -> None:
        self.chunks: list[np.ndarray] = []
        self.marks: list[tuple[str, int]] = []  # (IPA phoneme, or "" for an end of sentence/text; sample position)
        self.callback = _CALLBACK(self._collect)  # kept referenced: the library holds only the pointer

    def _collect(self, wav, num_samples: int, events) -> int:
        if wav and num_samples > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, (num_samples,)).copy())
        i = 0
        while events and events[i].type != _EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == _EVENT_PHONEME:
                self.marks.append((event.id.string.decode("utf-8", "replace"), event.sample))
            elif event.type in (_EVENT_END, _EVENT_MSG_TERMINATED):
                self.marks.append(("", event.sample))
            i += 1
        return 0


class _Voice(ctypes.Structure):
    """``espeak_VOICE``, the selector of ``espeak_SetVoiceByProperties``."""

    _fields_ = [
        ("name", ctypes.c_char_p), ("languages", ctypes.c_char_p), ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte), ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte), ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int), ("spare", ctypes.c_void_p),
    ]  # fmt: skip


def _set_voice(lib: ctypes.CDLL, voice_name: str) -> int:
    """Select ``voice_name`` as the ``espeak-ng -v`` option does: by voice file name, else by language
    (``en-gb`` is the language of the voice file ``en``). Returns the espeak error code."""
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    code = lib.espeak_SetVoiceByName(voice_name.encode())
    if code != _EE_OK:
        selector = _Voice(languages=voice_name.encode())
        code = lib.espeak_SetVoiceByProperties(ctypes.byref(selector))
    return code


def _synthesize(lib: ctypes.CDLL, text: str, voice_name: str) -> Spoken:
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p,
        ctypes.c_void_p,
    ]  # fmt: skip
    sample_rate = lib.espeak_Initialize(
        _AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_PHONEME_IPA | _INITIALIZE_DONT_EXIT
    )
    if sample_rate <= 0:
        raise EspeakLibraryError(f"espeak_Initialize failed ({sample_rate})")
    try:
        collector = _Collector()
        lib.espeak_SetSynthCallback(collector.callback)
        code = _set_voice(lib, voice_name)
        if code != _EE_OK:
            raise EspeakLibraryError("voice does not exist" if code == _EE_NOT_FOUND else f"cannot select the voice (espeak error {code})")
        _LIBC.srand(1)
        data = text.encode("utf-8") + b"\0"
        code = lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_AUTO | _PHONEMES | _ENDPAUSE, None, None)
        if code != _EE_OK:
            raise EspeakLibraryError(f"espeak_Synth failed ({code})")
    finally:
        lib.espeak_Terminate()
    samples = np.concatenate(collector.chunks) if collector.chunks else np.zeros(0, np.int16)
    return Spoken(samples, sample_rate, _phoneme_spans(collector.marks))


def _phoneme_spans(marks: list[tuple[str, int]]) -> list[tuple[str, int, int]]:
    """``(name, position)`` events → ``(name, start, end)`` spans, each lasting until the next event.

    espeak-ng realizes some phonemes inside the previous one's transition (a final ``l``
    after a vowel is reported with no duration of its own): such phonemes share the
    previous phoneme's span equally. Empty spans left over (after a pause) are dropped.
    """
    timed = [(name, start, end) for (name, start), (_, end) in zip(marks, marks[1:])]
    spans: list[tuple[str, int, int]] = []
    i = 0
    while i < len(timed):
        name, start, end = timed[i]
        j = i + 1
        while name and j < len(timed) and timed[j][0] and timed[j][1] == timed[j][2]:
            j += 1
        group = timed[i:j]
        for k, (member, _, _) in enumerate(group):
            spans.append((member, start + (end - start) * k // len(group), start + (end - start) * (k + 1) // len(group)))
        i = j
    return [span for span in spans if span[2] > span[1]]


@lru_cache(maxsize=1)
def available() -> bool:
    """Whether libespeak-ng can be loaded in this process."""
    try:
        with _loaded():
            return True
    except OSError:
        return False


def speak(text: str, voice_name: str) -> Spoken:
    """Synthesize ``text`` (``[[...]]`` phoneme input allowed) with espeak-ng voice ``voice_name`` (``en-us+m3``).

    Raises :class:`EspeakLibraryError` when the voice does not exist or the library fails.
    """
    with _LOCK, _loaded() as lib:
        return _synthesize(lib, text, voice_name)
