"""libespeak-ng through ctypes: audio and phoneme events from one synthesis pass.

The library is initialized once per process in synchronous mode
(``AUDIO_OUTPUT_SYNCHRONOUS``: no threads, :func:`speak` returns when all audio
has been handed to the callback) with IPA phoneme events. Its state is global,
so calls are serialized by a lock and the voice is set on every call. A worker
forked from a process that already initialized it inherits a working copy (no
threads to lose); one that did not initializes its own on first use.

The samples are the ones the ``espeak-ng`` command writes with ``-w`` for the same
voice and text (same synthesis flags), at the library's rate (22 050 Hz).
"""

from __future__ import annotations

import ctypes
import os
import threading
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


class _Library:
    """The process's initialized libespeak-ng with a callback collecting samples and events."""

    def __init__(self) -> None:
        self.lib = ctypes.CDLL(LIBRARY)
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        self.pid = os.getpid()
        self.sample_rate = self.lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_PHONEME_IPA | _INITIALIZE_DONT_EXIT
        )
        if self.sample_rate <= 0:
            raise EspeakLibraryError(f"espeak_Initialize failed ({self.sample_rate})")
        self.chunks: list[np.ndarray] = []
        self.marks: list[tuple[str, int]] = []  # (phoneme or "" for an end, sample position)
        self.callback = _CALLBACK(self._collect)  # kept referenced: the library holds only the pointer
        self.lib.espeak_SetSynthCallback(self.callback)
        self.lock = threading.Lock()

    def _collect(self, wav, num_samples: int, events) -> int:
        if wav and num_samples > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, (num_samples,)).copy())
        i = 0
        while events and events[i].type != _EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == _EVENT_PHONEME:
                self.marks.append((bytes(event.id.string).split(b"\0")[0].decode("utf-8", "replace"), event.sample))
            elif event.type in (_EVENT_END, _EVENT_MSG_TERMINATED):
                self.marks.append(("", event.sample))
            i += 1
        return 0

    def speak(self, text: str, voice_name: str) -> Spoken:
        with self.lock:
            self.chunks, self.marks = [], []
            code = self.lib.espeak_SetVoiceByName(voice_name.encode())
            if code != _EE_OK:
                raise EspeakLibraryError("voice does not exist" if code == 2 else f"espeak_SetVoiceByName failed ({code})")
            data = text.encode("utf-8") + b"\0"
            code = self.lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_AUTO | _PHONEMES | _ENDPAUSE, None, None)
            if code != _EE_OK:
                raise EspeakLibraryError(f"espeak_Synth failed ({code})")
            samples = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)
            marks = self.marks
        # A phoneme lasts until the next event (phoneme, end of sentence or of text).
        phonemes = [(name, start, end) for (name, start), (_, end) in zip(marks, marks[1:]) if end > start]
        return Spoken(samples, self.sample_rate, phonemes)


@lru_cache(maxsize=1)
def _loadable() -> bool:
    try:
        ctypes.CDLL(LIBRARY)
    except OSError:
        return False
    return True


def available() -> bool:
    """Whether libespeak-ng can be loaded in this process."""
    return _loadable()


_LIBRARY: _Library | None = None


def speak(text: str, voice_name: str) -> Spoken:
    """Synthesize ``text`` (``[[...]]`` phoneme input allowed) with espeak-ng voice ``voice_name`` (``en-us+m3``).

    Raises :class:`EspeakLibraryError` when the voice does not exist or the library fails.
    """
    global _LIBRARY
    if _LIBRARY is None:
        _LIBRARY = _Library()
    elif _LIBRARY.pid != os.getpid():
        _LIBRARY.pid, _LIBRARY.lock = os.getpid(), threading.Lock()  # forked: the state is a private copy
    return _LIBRARY.speak(text, voice_name)
