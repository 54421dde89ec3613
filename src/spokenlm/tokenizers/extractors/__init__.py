"""Feature extractors: waveform → frame features ``[T, D]`` (MFCC, log-mel, own HuBERT, HF SSL, Whisper)."""

from spokenlm.tokenizers.extractors.base import EXTRACTORS, FeatureExtractor, build_extractor, load_extractor

__all__ = ["EXTRACTORS", "FeatureExtractor", "build_extractor", "load_extractor"]
