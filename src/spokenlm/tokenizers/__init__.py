"""Speech tokenizers: waveform → ``Tokens`` (semantic units, codec codes, mixed)."""

from spokenlm.tokenizers.base import TOKENIZER_TRAINERS, TOKENIZERS, SpeechTokenizer, load_tokenizer

__all__ = ["TOKENIZERS", "TOKENIZER_TRAINERS", "SpeechTokenizer", "load_tokenizer"]
