"""Typed configuration of the neural codec (SEANet encoder/decoder + optional transformer + RVQ)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class CodecConfig:
    """Architecture of :class:`~spokenlm.tokenizers.codec.model.CodecModel`.

    Attributes:
        sample_rate: audio rate in Hz.
        channels: channels of the first SEANet convolution; doubled after each downsampling.
        ratios: encoder downsampling factors (the decoder upsamples in reverse); their product is the hop in samples.
        dimension: D, latent size quantized by the RVQ.
        kernel_size: kernel of the first and last convolutions.
        residual_layers: residual units per resolution (dilations 1, 3, 9 …).
        transformer_layers: causal transformer layers in the bottleneck (0 = none, Mimi uses 8).
        transformer_heads: attention heads of the bottleneck transformer.
        transformer_context: frames each transformer frame attends to (itself included).
        num_codebooks: K, codebooks of the residual VQ.
        codebook_size: entries per codebook (a power of two gives whole bits).
        ema_decay: decay of the EMA codebook updates.
        dead_code_threshold: a code whose EMA usage falls below this is restarted from the batch.
        kmeans_iters: k-means iterations of the first-batch codebook initialisation (0 = random batch vectors).
        quantizer_dropout: probability that a training batch uses a random number of codebooks 1..K.
        commitment_weight: weight of the encoder commitment loss.
        semantic_dim: teacher feature size for semantic distillation into the first codebook (0 = plain codec).
    """

    sample_rate: int = 16000
    channels: int = 16
    ratios: list[int] = field(default_factory=lambda: [8, 5, 4, 2])
    dimension: int = 64
    kernel_size: int = 7
    residual_layers: int = 1
    transformer_layers: int = 0
    transformer_heads: int = 4
    transformer_context: int = 250
    num_codebooks: int = 8
    codebook_size: int = 256
    ema_decay: float = 0.99
    dead_code_threshold: float = 1.0
    kmeans_iters: int = 10
    quantizer_dropout: float = 0.5
    commitment_weight: float = 1.0
    semantic_dim: int = 0

    @property
    def hop_length(self) -> int:
        """Samples per frame (the product of :attr:`ratios`)."""
        return math.prod(self.ratios)

    @property
    def frame_rate(self) -> float:
        """Frames per second (Hz)."""
        return self.sample_rate / self.hop_length

    def bitrate(self, num_codebooks: int | None = None) -> float:
        """Bits per second when ``num_codebooks`` (default K) codebooks are sent."""
        k = self.num_codebooks if num_codebooks is None else num_codebooks
        return k * math.log2(self.codebook_size) * self.frame_rate
