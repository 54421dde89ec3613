"""The codec network: causal SEANet encoder → optional transformer → RVQ → optional transformer → SEANet decoder.

Shapes: waveform ``[B, 1, samples]`` at ``config.sample_rate`` Hz; latent
``[B, D, T]`` with ``T = samples // hop``; codes ``[B, n_q, T]``. Inside
``model.streaming(batch_size)`` :meth:`CodecModel.encode` and
:meth:`CodecModel.decode` take successive chunks and return what is ready.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from spokenlm.nn.streaming import StreamingModule
from spokenlm.tokenizers.codec.config import CodecConfig
from spokenlm.tokenizers.codec.rvq import ResidualVectorQuantizer
from spokenlm.tokenizers.codec.seanet import SEANetDecoder, SEANetEncoder
from spokenlm.tokenizers.codec.transformer import BottleneckTransformer


@dataclass
class CodecOutput:
    """Training-time outputs of :meth:`CodecModel.forward`.

    Attributes:
        reconstruction: ``[B, 1, T * hop]`` waveform.
        codes: ``[B, n_q, T]``.
        commitment: RVQ commitment loss.
        semantic: first-level vectors projected to the teacher size ``[B, semantic_dim, T]`` (mixed), else ``None``.
    """

    reconstruction: torch.Tensor
    codes: torch.Tensor
    commitment: torch.Tensor
    semantic: torch.Tensor | None

    def float(self) -> CodecOutput:
        """The same outputs in fp32 (what the losses take after a bf16-autocast forward)."""
        semantic = self.semantic.float() if self.semantic is not None else None
        return CodecOutput(self.reconstruction.float(), self.codes, self.commitment.float(), semantic)


class CodecModel(StreamingModule):
    """SoundStream/EnCodec/Mimi-style neural codec (see module docstring for shapes)."""

    def __init__(self, config: CodecConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.encoder = SEANetEncoder(c.channels, c.ratios, c.dimension, c.kernel_size, c.residual_layers)
        self.decoder = SEANetDecoder(c.channels, c.ratios, c.dimension, c.kernel_size, c.residual_layers)
        self.encoder_transformer = self._transformer()
        self.decoder_transformer = self._transformer()
        self.quantizer = ResidualVectorQuantizer(
            c.dimension, c.num_codebooks, c.codebook_size, c.ema_decay, c.dead_code_threshold, c.kmeans_iters, c.quantizer_dropout
        )
        self.semantic_projection = nn.Conv1d(c.dimension, c.semantic_dim, 1) if c.semantic_dim > 0 else None

    def _transformer(self) -> nn.Module:
        c = self.config
        if c.transformer_layers == 0:
            return nn.Identity()
        return BottleneckTransformer(c.dimension, c.transformer_layers, c.transformer_heads, c.transformer_context)

    def latent(self, wav: torch.Tensor) -> torch.Tensor:
        """Continuous latent ``[B, D, T]`` of ``wav`` ``[B, 1, samples]``."""
        return self.encoder_transformer(self.encoder(wav))

    def encode(self, wav: torch.Tensor, num_codebooks: int | None = None) -> torch.Tensor:
        """Codes ``[B, n_q, T]`` of ``wav`` ``[B, 1, samples]`` (n_q defaults to K)."""
        latent = self.latent(wav)
        if latent.shape[-1] == 0:
            n_q = num_codebooks or self.config.num_codebooks
            return torch.zeros(latent.shape[0], n_q, 0, dtype=torch.long, device=latent.device)
        return self.quantizer(latent, num_codebooks).codes

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Waveform ``[B, 1, T * hop]`` from codes ``[B, n_q, T]`` (any n_q ≤ K)."""
        if codes.shape[-1] == 0:
            return torch.zeros(codes.shape[0], 1, 0, device=codes.device)
        return self.decoder(self.decoder_transformer(self.quantizer.decode(codes)))

    def forward(self, wav: torch.Tensor, num_codebooks: int | None = None) -> CodecOutput:
        """Encode, quantize with ``num_codebooks`` levels and decode ``wav`` ``[B, 1, samples]``."""
        quantized = self.quantizer(self.latent(wav), num_codebooks)
        reconstruction = self.decoder(self.decoder_transformer(quantized.quantized))
        semantic = self.semantic_projection(quantized.first_level) if self.semantic_projection is not None else None
        return CodecOutput(reconstruction, quantized.codes, quantized.commitment, semantic)
