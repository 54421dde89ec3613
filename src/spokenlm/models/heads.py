"""Output heads of :class:`~spokenlm.models.UnitLM`, built by name from :data:`HEADS`.

A head turns the backbone's hidden states ``h [B, T, D]`` into one logit tensor per
stream, ``[B, T, V_k]`` (V_k: stream k's vocabulary), and, when generating, turns the
hidden state of the last frame ``[B, D]`` into the next frame ``[B, K]`` by asking a
``choose(k, logits [B, V_k]) -> ids [B]`` callback (the sampler) for each stream.

- ``linear``: one projection per stream; the streams of a frame are predicted
  independently (the delay pattern of MusicGen/Moshi makes that work for codebooks).
- ``depth``: a depth transformer (RQ-Transformer, Moshi's Depformer) runs over the K
  streams of a frame: its step k sees the backbone state (through a projection of its
  own) and the frame's tokens of streams ``< k``, so codebooks are predicted one after
  another. In training the targets are fed (teacher forcing); when generating it
  streams through its own context once per frame (a detached streaming child).
  With ``depth.weights_per_step`` each step k has attention and feed-forward weights
  of its own, as Moshi's Depformer.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from spokenlm.models.config import UnitLMConfig
from spokenlm.nn.transformer import Transformer, TransformerConfig
from spokenlm.registry import Registry

Choose = Callable[[int, torch.Tensor], torch.Tensor]
HEADS: Registry[type[nn.Module]] = Registry("model head")


@HEADS.register("linear")
class LinearHeads(nn.ModuleList):
    """One ``Linear(D, V_k)`` per stream (module ``k`` of the list; tied to the embeddings when configured)."""

    def __init__(self, config: UnitLMConfig) -> None:
        super().__init__(nn.Linear(config.dim, vocab.size, bias=False) for vocab in config.vocabs)

    def forward(self, h: torch.Tensor, targets: torch.Tensor | None = None) -> list[torch.Tensor]:
        """``h [B, T, D]`` → logits ``[B, T, V_k]`` per stream (``targets`` unused)."""
        return [head(h) for head in self]

    def next_frame(self, h: torch.Tensor, choose: Choose) -> torch.Tensor:
        """Last hidden state ``[B, D]`` → next frame ``[B, K]``."""
        return torch.stack([choose(k, head(h)) for k, head in enumerate(self)], dim=1)

    def matmul_weights(self) -> int:
        return sum(head.weight.numel() for head in self)


@HEADS.register("depth")
class DepthHead(nn.Module):
    """Depth transformer over the K streams of each frame; step k predicts stream k."""

    def __init__(self, config: UnitLMConfig) -> None:
        super().__init__()
        d = config.depth
        vocabs = config.vocabs
        self.inputs = nn.ModuleList(nn.Linear(config.dim, d.dim, bias=False) for _ in vocabs)
        self.embeddings = nn.ModuleList(nn.Embedding(vocab.size, d.dim) for vocab in vocabs[:-1])
        self.transformer = Transformer(TransformerConfig(
            dim=d.dim, layers=d.layers, heads=d.heads, ffn_dim=d.ffn_dim, norm_eps=config.norm_eps,
            context=len(vocabs), dropout=config.dropout, weights_per_step=len(vocabs) if d.weights_per_step else 0,
        )).detach_streaming()
        self.outputs = nn.ModuleList(nn.Linear(d.dim, vocab.size, bias=False) for vocab in vocabs)

    def forward(self, h: torch.Tensor, targets: torch.Tensor | None = None) -> list[torch.Tensor]:
        """``h [B, T, D]`` and the frames they predict, ``targets [B, K, T]`` (teacher forcing) → logits ``[B, T, V_k]`` per stream."""
        if targets is None:
            raise ValueError("the depth head needs the target frames in training (teacher forcing)")
        b, t, _ = h.shape
        steps = [self.inputs[0](h)]
        for k, embedding in enumerate(self.embeddings):
            steps.append(self.inputs[k + 1](h) + embedding(targets[:, k]))
        x = torch.stack(steps, dim=2).flatten(0, 1)  # [B*T, K, Dd]
        z = self.transformer(x).view(b, t, len(steps), -1)
        return [out(z[:, :, k]) for k, out in enumerate(self.outputs)]

    def next_frame(self, h: torch.Tensor, choose: Choose, depth: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
        """Last hidden state ``[B, D]`` → next frame ``[B, K]``: one depth step per stream, each fed the one chosen before.

        ``depth``: what runs a depth step, ``[B, 1, Dd]`` → ``[B, 1, Dd]`` (default the depth transformer; ``sample``
        with ``compile`` passes its ``torch.compile``)."""
        chosen = []
        depth = self.transformer if depth is None else depth
        with self.transformer.streaming(h.shape[0]):
            x = self.inputs[0](h)
            for k, out in enumerate(self.outputs):
                z = depth(x[:, None])[:, 0]
                chosen.append(choose(k, out(z)))
                if k + 1 < len(self.outputs):
                    x = self.inputs[k + 1](h) + self.embeddings[k](chosen[-1])
        return torch.stack(chosen, dim=1)

    def matmul_weights(self) -> int:
        """Weights multiplied per frame: input projections, the depth transformer (once per stream) and the outputs."""
        projections = sum(m.weight.numel() for m in [*self.inputs, *self.outputs])
        return projections + len(self.outputs) * self.transformer.matmul_weights()
