"""Speech tokenizers: waveform → ``Tokens`` (semantic units, codec codes, mixed)."""

from spokenlm.tokenizers.base import TOKENIZERS, SpeechTokenizer, load_tokenizer

__all__ = ["TOKENIZERS", "SpeechTokenizer", "load_tokenizer"]
