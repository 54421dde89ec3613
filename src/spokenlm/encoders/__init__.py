"""Encoders as ``nn.Module``: waveform → frame features ``[T, D]`` (MFCC, log-mel, our HuBERT, a phone classifier, HF SSL, Whisper).

Used by k-means unit tokenizers (features to cluster), by the mixed codec (a teacher to distil) and by
speech-aware text LMs (an encoder in front of an adapter).
"""

from spokenlm.encoders.base import ENCODERS, Encoder, build_encoder, load_encoder

__all__ = ["ENCODERS", "Encoder", "build_encoder", "load_encoder"]
