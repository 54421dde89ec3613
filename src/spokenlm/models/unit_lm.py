"""``UnitLM``: a decoder-only transformer over the joint unit(+text) vocabulary.

Input ids are model ids (see :class:`spokenlm.data.vocab.Vocabulary`), ``[B, T]`` for
one stream or ``[B, K, T]`` for K streams (embeddings summed, one head per stream).
Checkpoints are HF-style directories: ``config.json`` + ``model.safetensors``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from spokenlm.checkpoint import load_state, save_module
from spokenlm.config import from_dict, to_dict
from spokenlm.data.vocab import Vocabulary
from spokenlm.errors import SpokenLMError
from spokenlm.models.cache import KVCache, LayerCache
from spokenlm.models.config import UnitLMConfig
from spokenlm.models.layers import Block, RMSNorm, Rotary

MODEL_TYPE = "spokenlm-unit-lm"


class UnitLM(nn.Module):
    """Decoder-only transformer (RoPE, RMSNorm, SwiGLU, SDPA) with a preallocated KV cache.

    Extension hooks for multi-stream models: ``embeddings`` and ``heads`` are lists with one
    entry per stream; :meth:`embed`, :meth:`trunk` and :meth:`project` can be reused separately.
    """

    def __init__(self, config: UnitLMConfig) -> None:
        super().__init__()
        self.config = config
        self.vocab: Vocabulary = config.vocab
        size = self.vocab.size
        self.embeddings = nn.ModuleList(nn.Embedding(size, config.dim) for _ in range(config.num_streams))
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.norm = RMSNorm(config.dim, config.norm_eps)
        self.heads = nn.ModuleList(nn.Linear(config.dim, size, bias=False) for _ in range(config.num_streams))
        self.rotary = Rotary(config.per_head, config.max_seq_len, config.rope_theta)
        self.reset_parameters()
        self.tie_weights()

    def reset_parameters(self) -> None:
        """Normal(0, init_std) weights; residual output projections scaled by 1/sqrt(2·n_layers)."""
        std = self.config.init_std
        for name, param in self.named_parameters():
            if name.endswith("norm.weight"):
                nn.init.ones_(param)
            elif name.endswith(".bias"):
                nn.init.zeros_(param)
            elif name.endswith(("attn.out.weight", "mlp.down.weight")):
                nn.init.normal_(param, std=std / (2 * self.config.n_layers) ** 0.5)
            else:
                nn.init.normal_(param, std=std)

    def tie_weights(self) -> None:
        """Share each stream's head with its embedding when ``tie_embeddings``."""
        if self.config.tie_embeddings:
            for head, embedding in zip(self.heads, self.embeddings):
                head.weight = embedding.weight

    # --- forward pieces -------------------------------------------------------------------
    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """Ids ``[B, K, T]`` → summed stream embeddings ``[B, T, D]``."""
        x = self.embeddings[0](ids[:, 0])
        for k in range(1, ids.shape[1]):
            x = x + self.embeddings[k](ids[:, k])
        return x

    def trunk(
        self,
        x: torch.Tensor,
        positions: torch.Tensor,
        mask: torch.Tensor | None = None,
        cache: KVCache | None = None,
    ) -> torch.Tensor:
        """Embeddings ``[B, T, D]`` at ``positions`` (``[T]`` or ``[B, T]``) → final-normed hidden ``[B, T, D]``."""
        cos, sin = self.rotary.tables(positions)
        for i, block in enumerate(self.blocks):
            x = block(x, cos, sin, mask, cache.layers[i] if cache is not None else None)
        return self.norm(x)

    def project(self, h: torch.Tensor) -> torch.Tensor:
        """Hidden ``[B, T, D]`` → logits ``[B, K, T, V]``."""
        return torch.stack([head(h) for head in self.heads], dim=1)

    def forward(
        self,
        ids: torch.Tensor,
        positions: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        cache: KVCache | None = None,
    ) -> torch.Tensor:
        """Model ids ``[B, T]`` (or ``[B, K, T]``) → logits ``[B, T, V]`` (or ``[B, K, T, V]``).

        Args:
            positions: ``[T]`` or ``[B, T]`` rotary positions; default ``cache.length + arange(T)``.
            mask: ``[B or 1, 1, T, T_keys]`` bool attention mask (True = attend); default causal.
            cache: a :meth:`new_cache` to read and extend (incremental decoding).
        """
        single = ids.dim() == 2
        streams = ids[:, None] if single else ids
        if streams.shape[1] != self.config.num_streams:
            raise SpokenLMError(f"model has {self.config.num_streams} streams, got ids of shape {tuple(ids.shape)}")
        if positions is None:
            start = cache.length if cache is not None else 0
            positions = torch.arange(start, start + ids.shape[-1], device=ids.device)
        h = self.trunk(self.embed(streams), positions, mask, cache)
        return self.heads[0](h) if single else self.project(h)

    def new_cache(self, batch: int, max_len: int | None = None) -> KVCache:
        """An empty preallocated KV cache for ``batch`` sequences of up to ``max_len`` tokens."""
        c = self.config
        max_len = max_len or c.max_seq_len
        if max_len > c.max_seq_len:
            raise SpokenLMError(f"{max_len} tokens exceed the model's max_seq_len={c.max_seq_len}")
        weight = self.embeddings[0].weight
        return KVCache([LayerCache(batch, c.kv_heads, max_len, c.per_head, weight.dtype, weight.device) for _ in self.blocks])

    # --- sizes ----------------------------------------------------------------------------
    def num_parameters(self) -> int:
        """Distinct trainable parameters (tied matrices counted once)."""
        return sum(p.numel() for p in {id(p): p for p in self.parameters()}.values())

    def flops_per_token(self, seq_len: int) -> float:
        """Training FLOPs per token (forward + backward): 6 × matmul weights + 12·L·T·H·Dh for attention."""
        c = self.config
        matmul = sum(block.attn.qkv.weight.numel() + block.attn.out.weight.numel() + block.mlp.gate_up.weight.numel()
                     + block.mlp.down.weight.numel() for block in self.blocks)
        matmul += sum(head.weight.numel() for head in self.heads)
        return 6.0 * matmul + 12.0 * c.n_layers * seq_len * c.n_heads * c.per_head

    # --- checkpoints ----------------------------------------------------------------------
    def save_pretrained(self, directory: str | Path) -> Path:
        """Atomically write ``config.json`` + ``model.safetensors`` into ``directory``."""
        return save_module(directory, self, {"model_type": MODEL_TYPE, **to_dict(self.config)})

    @classmethod
    def from_pretrained(cls, directory: str | Path, map_location: str | torch.device = "cpu") -> UnitLM:
        """Load a directory written by :meth:`save_pretrained` (no training code or pickle needed)."""
        config_dict, state = load_state(directory)
        if config_dict.pop("model_type", None) != MODEL_TYPE:
            raise SpokenLMError(f"{directory}: not a {MODEL_TYPE} checkpoint")
        model = cls(from_dict(UnitLMConfig, config_dict))
        model.load_weights(state, str(directory))
        return model.to(map_location)

    def load_weights(self, state: dict[str, torch.Tensor], source: str) -> None:
        """Load ``state`` (tied heads may be absent); raises naming ``source`` on any mismatch."""
        try:
            missing, unexpected = self.load_state_dict(state, strict=False)
        except RuntimeError as err:
            detail = next((line.strip() for line in str(err).splitlines() if "size mismatch" in line), str(err).splitlines()[0])
            raise SpokenLMError(f"{source}: weights do not fit the config ({detail})") from err
        tied = {f"heads.{k}.weight" for k in range(self.config.num_streams)} if self.config.tie_embeddings else set()
        missing = [m for m in missing if m not in tied]
        if missing or unexpected:
            raise SpokenLMError(f"{source}: weights do not fit the config (missing {missing}, unexpected {unexpected})")
        self.tie_weights()

    @classmethod
    def from_text_lm(cls, hf_dir: str | Path, n_units: int, keep_text: bool = True, seed: int = 0) -> UnitLM:
        """TWIST warm start from a HF causal LM directory (LLaMA/Qwen2/Mistral families).

        The transformer weights are kept; the vocabulary becomes specials + ``n_units`` units
        (+ the text LM's tokens when ``keep_text``). See :mod:`spokenlm.models.warm_start`.
        """
        from spokenlm.models.warm_start import unit_lm_from_text_lm

        return unit_lm_from_text_lm(hf_dir, n_units, keep_text=keep_text, seed=seed)
