"""The codec bottleneck transformer (as in Mimi): the one transformer of :mod:`spokenlm.nn.transformer`,
causal with a window of ``context`` frames, LayerNorm and a GELU feed-forward, on channels-first latents.

Each frame attends to itself and the ``context - 1`` frames before it; positions use
rotary embeddings counted from the start of the stream, so streaming frame by frame
gives the offline output.
"""

from __future__ import annotations

import torch

from spokenlm.nn.streaming import StreamingModule
from spokenlm.nn.transformer import Transformer, TransformerConfig, renamed_blocks_hook

# Parameter names of codec checkpoints written before the codec used the shared transformer.
_OLD_NAMES = {"norm1.": "attn_norm.", "attention.": "attn.", "norm2.": "mlp_norm.", "mlp.0.": "mlp.fc1.", "mlp.2.": "mlp.fc2."}


class BottleneckTransformer(StreamingModule):
    """Channels-first wrapper for the codec latent: ``[B, D, T]`` → ``[B, D, T]``."""

    def __init__(self, dim: int, layers: int, heads: int, context: int) -> None:
        super().__init__()
        self.transformer = Transformer(TransformerConfig(
            dim=dim, layers=layers, heads=heads, norm="layer", mlp="gelu", window=context, final_norm=False,
        ))
        self._register_load_state_dict_pre_hook(renamed_blocks_hook("layers", _OLD_NAMES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] == 0:
            return x
        return self.transformer(x.transpose(1, 2)).transpose(1, 2)
