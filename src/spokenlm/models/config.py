"""The typed config of :class:`spokenlm.models.UnitLM` (sizes from ~1M to 1B+ parameters)."""

from __future__ import annotations

from dataclasses import dataclass

from spokenlm.data.vocab import Vocabulary
from spokenlm.errors import ConfigError


@dataclass
class UnitLMConfig:
    """Shape of a decoder-only transformer over a joint unit(+text) vocabulary.

    Attributes:
        n_units: speech units per stream; n_text: text tokens in the joint vocabulary (0: speech only).
        num_streams: K parallel token streams; their embeddings are summed and each has its own head
            (K=1 for GSLM/TWIST; the multi-stream models build on the same blocks).
        dim: model width D; n_layers: transformer blocks; n_heads / n_kv_heads: query / key-value heads
            (n_kv_heads < n_heads is grouped-query attention); head_dim: per-head width (default D / n_heads).
        ffn_dim: SwiGLU hidden width (default: 8/3·D rounded up to a multiple of 64).
        max_seq_len: longest sequence (tokens) the rotary tables and KV caches cover.
        rope_theta: rotary base; norm_eps: RMSNorm epsilon.
        tie_embeddings: output head shares the input embedding matrix.
        attention_bias: bias on the q/k/v projections (Qwen2-family warm starts).
        dropout: residual dropout probability during training (after attention and after the MLP).
        attention_dropout: dropout of the attention probabilities during training (as HF Llama's
            ``attention_dropout``; off by default: on CPUs it forces the unfused attention path,
            measured 1.5× slower per step for a 1.3M-parameter model).
        init_std: standard deviation of the normal weight init.
    """

    n_units: int = 100
    n_text: int = 0
    num_streams: int = 1
    dim: int = 256
    n_layers: int = 4
    n_heads: int = 4
    n_kv_heads: int | None = None
    head_dim: int | None = None
    ffn_dim: int | None = None
    max_seq_len: int = 2048
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5
    tie_embeddings: bool = True
    attention_bias: bool = False
    dropout: float = 0.0
    attention_dropout: float = 0.0
    init_std: float = 0.02

    def __post_init__(self) -> None:
        if self.head_dim is None and self.dim % self.n_heads:
            raise ConfigError(f"model.dim={self.dim} is not divisible by model.n_heads={self.n_heads}")
        if self.n_heads % self.kv_heads:
            raise ConfigError(f"model.n_heads={self.n_heads} is not a multiple of model.n_kv_heads={self.kv_heads}")
        if self.num_streams < 1:
            raise ConfigError("model.num_streams must be >= 1")

    @property
    def kv_heads(self) -> int:
        return self.n_kv_heads or self.n_heads

    @property
    def per_head(self) -> int:
        return self.head_dim or self.dim // self.n_heads

    @property
    def hidden(self) -> int:
        if self.ffn_dim:
            return self.ffn_dim
        return 64 * -(-(8 * self.dim // 3) // 64)

    @property
    def vocab(self) -> Vocabulary:
        return Vocabulary(self.n_units, self.n_text)
