"""Pipelines the server runs, by name: ``half-duplex`` (VAD turn → tokenizer → unit LM → streaming vocoder) and
``cascade`` (Whisper ASR → word n-gram text LM → espeak-ng TTS, sentence by sentence)."""

from spokenlm.serve.pipelines.base import PIPELINES, Audio, Pipeline, Responder, Text, build_pipeline

__all__ = ["PIPELINES", "Audio", "Pipeline", "Responder", "Text", "build_pipeline"]
