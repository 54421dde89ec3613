"""The typed config of :class:`spokenlm.models.UnitLM` (sizes from ~1M to 1B+ parameters, one or many streams)."""

from __future__ import annotations

from dataclasses import dataclass, field

from spokenlm.data.vocab import Vocabulary
from spokenlm.errors import ConfigError
from spokenlm.layouts.spec import StreamSpec
from spokenlm.nn.transformer import TransformerConfig


@dataclass
class DepthConfig:
    """The depth transformer of ``head: depth`` (RQ-Transformer / Moshi's Depformer): a small causal
    transformer over the K streams of one frame.

    Attributes:
        dim / layers / heads / ffn_dim: its width, depth, heads and feed-forward width (default 8/3·dim).
        weights_per_step: separate attention and feed-forward weights for each stream's step (Moshi's
            ``depformer_weights_per_step``); False: one set shared by all K steps.
    """

    dim: int = 128
    layers: int = 2
    heads: int = 4
    ffn_dim: int | None = None
    weights_per_step: bool = False


@dataclass
class TokenWeight:
    """A loss weight on one unit of one stream, e.g. Moshi's 0.5 on its text stream's padding token.

    Attributes:
        stream: the stream (row) index; unit: the unit id in that stream's vocabulary; weight: its loss weight.
    """

    stream: int
    unit: int
    weight: float


@dataclass
class UnitLMConfig:
    """Shape of a decoder-only transformer over a joint unit(+text) vocabulary.

    Attributes:
        n_units: speech units per stream; n_text: text tokens in the joint vocabulary of stream 0 (0: speech only).
        num_streams: K parallel token streams; their embeddings are summed and each has its own head
            (K=1 for GSLM/TWIST).
        streams: one :class:`StreamSpec` per stream (role, vocabulary, frame rate, delay); when given they set
            K and every stream's vocabulary (stream k embeds ``Vocabulary(streams[k].vocab_size)``); empty: K
            streams of ``n_units``.
        layout: ``parallel`` (the streams are K rows, each with its embedding and head, delayed by their
            delays) or ``flat`` (the streams' codebooks serialised in time into one stream of
            ``sum(vocab_size)`` joint units, as SpeechGPT and Llama-Mimi do; :mod:`spokenlm.layouts.flatten`).
        head: a :data:`spokenlm.models.heads.HEADS` name: ``linear`` (one projection per stream) or ``depth``
            (a depth transformer over the streams of each frame, :class:`DepthConfig` ``depth``).
        loss_weights: per-stream weights of the cross-entropy (empty: 1 each), e.g. Moshi's heavier semantic stream;
            a weight of 0 masks a stream out of the loss (an input-only stream, such as the user's audio).
        token_weights: weights of single units within a stream (:class:`TokenWeight`), e.g. on text padding.
        dim: model width D; n_layers: transformer blocks; n_heads / n_kv_heads: query / key-value heads
            (n_kv_heads < n_heads is grouped-query attention); head_dim: per-head width (default D / n_heads).
        ffn_dim: SwiGLU hidden width (default: 8/3·D rounded up to a multiple of 64).
        max_seq_len: longest sequence (tokens) trained on, and the frames a streaming row keeps without ``window``.
        window: sliding-window attention span in tokens (None: the whole sequence).
        rope_theta: rotary base; norm_eps: RMSNorm epsilon.
        tie_embeddings: each linear head shares its stream's input embedding matrix (linear heads only).
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
    streams: list[StreamSpec] = field(default_factory=list)
    layout: str = "parallel"
    head: str = "linear"
    depth: DepthConfig = field(default_factory=DepthConfig)
    loss_weights: list[float] = field(default_factory=list)
    token_weights: list[TokenWeight] = field(default_factory=list)
    dim: int = 256
    n_layers: int = 4
    n_heads: int = 4
    n_kv_heads: int | None = None
    head_dim: int | None = None
    ffn_dim: int | None = None
    max_seq_len: int = 2048
    window: int | None = None
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5
    tie_embeddings: bool = True
    attention_bias: bool = False
    dropout: float = 0.0
    attention_dropout: float = 0.0
    init_std: float = 0.02

    def __post_init__(self) -> None:
        if self.streams:
            self.streams = [s if isinstance(s, StreamSpec) else StreamSpec.from_dict(s) for s in self.streams]
            if any(s.vocab_size < 1 for s in self.streams):
                raise ConfigError("model.streams: every stream needs vocab_size >= 1")
            self.num_streams, self.n_units = len(self.streams), self.streams[0].vocab_size
        if self.layout not in ("parallel", "flat"):
            raise ConfigError(f"model.layout must be parallel or flat, got {self.layout!r}")
        if self.layout == "flat":
            if not self.streams or any(s.delay for s in self.streams):
                raise ConfigError("model.layout=flat serialises model.streams in time: it needs streams, without delays")
            self.num_streams, self.n_units = 1, sum(s.vocab_size for s in self.streams)
        if self.loss_weights and len(self.loss_weights) != self.num_streams:
            raise ConfigError(f"model.loss_weights has {len(self.loss_weights)} weights for {self.num_streams} streams")
        units = [s.vocab_size for s in self.streams] or [self.n_units] * self.num_streams
        bad = [w for w in self.token_weights if not (0 <= w.stream < self.num_streams and 0 <= w.unit < units[w.stream])]
        if bad:
            raise ConfigError(f"model.token_weights name units outside the streams' vocabularies: {bad}")
        if self.loss_weights and sum(self.loss_weights) <= 0:
            raise ConfigError("model.loss_weights must have a positive sum")
        if self.head == "depth" and self.tie_embeddings:
            raise ConfigError("model.head=depth projects from the depth transformer: set model.tie_embeddings=false")
        if self.head_dim is None and self.dim % self.n_heads:
            raise ConfigError(f"model.dim={self.dim} is not divisible by model.n_heads={self.n_heads}")
        if self.n_heads % (self.n_kv_heads or self.n_heads):
            raise ConfigError(f"model.n_heads={self.n_heads} is not a multiple of model.n_kv_heads={self.n_kv_heads}")
        if self.num_streams < 1:
            raise ConfigError("model.num_streams must be >= 1")

    @property
    def kv_heads(self) -> int:
        return self.transformer.n_kv_heads

    @property
    def per_head(self) -> int:
        return self.transformer.per_head

    @property
    def hidden(self) -> int:
        return self.transformer.hidden

    @property
    def vocab(self) -> Vocabulary:
        """The vocabulary of stream 0 (the joint unit+text vocabulary of a one-stream model)."""
        return Vocabulary(self.n_units, self.n_text)

    @property
    def vocabs(self) -> list[Vocabulary]:
        """One vocabulary per stream: stream 0's is :attr:`vocab`, stream k's holds its spec's units."""
        units = [s.vocab_size for s in self.streams] if self.layout == "parallel" and self.streams else [self.n_units] * self.num_streams
        return [self.vocab, *(Vocabulary(n) for n in units[1:])]

    @property
    def stream_delays(self) -> list[int]:
        """Frames each stream is delayed by (the layout's delay pattern; zeros without specs)."""
        return [s.delay for s in self.streams] if self.layout == "parallel" and self.streams else [0] * self.num_streams

    @property
    def stream_weights(self) -> list[float]:
        return self.loss_weights or [1.0] * self.num_streams

    @property
    def transformer(self) -> TransformerConfig:
        """The backbone: RMSNorm, SwiGLU, RoPE, causal (LLaMA-style)."""
        return TransformerConfig(
            dim=self.dim, layers=self.n_layers, heads=self.n_heads, kv_heads=self.n_kv_heads, head_dim=self.head_dim,
            ffn_dim=self.ffn_dim, norm="rms", norm_eps=self.norm_eps, mlp="swiglu", qkv_bias=self.attention_bias,
            causal=True, window=self.window, context=self.max_seq_len, rope_theta=self.rope_theta,
            dropout=self.dropout, attention_dropout=self.attention_dropout,
        )
