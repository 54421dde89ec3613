"""``cascade``: the baseline that spoken LMs are compared with: Whisper ASR → a text LM → TTS, sentence by sentence.

The user's turn is transcribed (faster-whisper base, bundled), a word n-gram continues the transcript one sentence
at a time (:meth:`spokenlm.eval.textlm.WordNGramLM.generate`), and each sentence is spoken with espeak-ng (or any
voice :func:`spokenlm.data.tts.synthesize` knows) and sent as soon as it is synthesized.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import numpy as np

from spokenlm.serve.pipelines.base import PIPELINES, Event, Pipeline, Responder, Text, chunked
from spokenlm.serve.pipelines.model_dir import model_part


@dataclass
class CascadeConfig:
    """Settings of the ``cascade`` pipeline.

    Attributes:
        asr: ASR backend (``whisper`` or ``pocketsphinx``, see :func:`spokenlm.eval.asr.load_asr`).
        text_lm: a word n-gram folder; empty: MODEL_DIR/generation/text_lm when present, else one fitted at start-up
            on the bundled LJSpeech transcripts.
        voice: TTS voice, e.g. ``espeak-ng:en-us+m3``.
        sentences: sentences per reply at most; max_words / min_words: words per sentence at most / at least
            (the first sentence continues the transcript, each next one the sentence before).
        temperature: text sampling temperature (0 = greedy).
        output_rate: rate of the spoken reply, Hz.
        chunk_seconds: audio piece length, seconds (barge-in cuts between pieces).
    """

    asr: str = "whisper"
    text_lm: str = ""
    voice: str = "espeak-ng:en-us+m3"
    sentences: int = 2
    max_words: int = 16
    min_words: int = 3
    temperature: float = 0.7
    output_rate: int = 16000
    chunk_seconds: float = 0.1


@PIPELINES.register("cascade")
class CascadePipeline(Pipeline):
    """ASR → word n-gram → TTS. Text for the page: the transcript (role user) and each reply sentence (role model)."""

    name = "cascade"
    config_type = CascadeConfig
    has_text = True

    def __init__(self, asr, text_lm, config: CascadeConfig) -> None:
        self.asr, self.text_lm, self.config = asr, text_lm, config
        self.output_rate = config.output_rate
        self.lock = threading.Lock()  # ASR and TTS engines are shared by sessions; one call at a time
        self.seeds = count()

    @classmethod
    def load(cls, model_dir: Path | None, config: CascadeConfig) -> CascadePipeline:
        from spokenlm.eval.asr import load_asr
        from spokenlm.eval.textlm import WordNGramLM, train_word_lm

        folder = Path(config.text_lm) if config.text_lm else model_part(model_dir, "text LM", required=False)
        if folder is not None:
            text_lm = WordNGramLM.from_pretrained(folder)
        else:
            from spokenlm.data.text_sources import read_sentences

            text_lm = train_word_lm(read_sentences())
        return cls(load_asr(config.asr), text_lm, config)

    def open(self) -> CascadeResponder:
        return CascadeResponder(self)


class CascadeResponder(Responder):
    """One session (no state of its own beyond the sampling seed of each reply)."""

    def __init__(self, pipeline: CascadePipeline) -> None:
        self.pipeline = pipeline

    def respond(self, turn: np.ndarray) -> Iterator[Event]:
        from spokenlm.data.tts import synthesize

        p, c = self.pipeline, self.pipeline.config
        with p.lock:
            heard = p.asr.transcribe(turn, p.input_rate).strip()
        yield Text("user", heard)
        context, seed = heard, next(p.seeds)
        for sentence in range(c.sentences):
            reply = p.text_lm.generate(context, c.max_words, c.temperature, seed=seed * c.sentences + sentence, min_words=c.min_words)
            if not reply:
                return
            yield Text("model", reply)
            with p.lock:
                wav = synthesize(reply, c.voice, sr=c.output_rate)
            yield from chunked(wav, max(1, round(c.chunk_seconds * c.output_rate)))
            context = reply
