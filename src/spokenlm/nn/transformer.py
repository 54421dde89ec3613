"""The one transformer of spokenlm: RoPE, causal or bidirectional, optional sliding window, streaming.

Every attention stack of the toolkit is this one (the unit LM's backbone, the codec
bottleneck, the depth transformer). Shapes: B batch, T frames (tokens), D model
width, H query heads, Hkv key/value heads, Dh head width, W the streaming context.

Offline, ``Transformer(x [B, T, D])`` attends causally (or both ways) within
``window`` frames. Inside ``streaming()``, each call takes the next frames of every
row and attends to the keys and values cached in a ring buffer of the last ``W``
frames (``W = window``, or ``context`` for a model without a window), so a stream
runs for ever; every row has its own position offset, so rows are independent
streams (per-row reset and exec masks, see :mod:`spokenlm.nn.streaming`). Streaming
frame by frame equals the offline pass with a sliding window of ``W``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from spokenlm.errors import ConfigError, SpokenLMError
from spokenlm.nn.streaming import StreamingModule, StreamingState
from spokenlm.registry import Registry

NORMS: Registry[type[nn.Module]] = Registry("norm")
MLPS: Registry[type[nn.Module]] = Registry("feed-forward")
ROTARY_TABLE_MAX = 1 << 15  # positions whose rotary angles a streaming transformer keeps in a table


@dataclass
class TransformerConfig:
    """Shape and flavour of a :class:`Transformer`.

    Attributes:
        dim: width D; layers: blocks; heads / kv_heads: query / key-value heads (kv_heads < heads is
            grouped-query attention; None: = heads); head_dim: per-head width (default D / heads).
        ffn_dim: feed-forward hidden width (default: 8/3·D rounded up to 64 for ``swiglu``, 4·D otherwise).
        norm: a :data:`NORMS` name (``rms`` or ``layer``); norm_eps: its epsilon.
        mlp: a :data:`MLPS` name (``swiglu``: gated, no biases; ``gelu``: two linears with biases).
        qkv_bias / out_bias: biases of the fused q/k/v projection and of the attention output.
        causal: attend only to the past (streamable); False: both ways (offline only).
        window: frames each frame attends to, itself included (None: unlimited).
        context: ring-buffer frames kept when streaming a model without ``window`` (its longest context).
        rope: rotary position embeddings (HF LLaMA's rotate-half layout); False: no positions (e.g. a
            convolutional positional embedding outside); rope_theta: rotary base.
        norm_first: pre-norm blocks (``x + f(norm(x))``); False: post-norm (``norm(x + f(x))``).
        final_norm: a norm after the last block.
        dropout: residual dropout in training; attention_dropout: of the attention probabilities;
            ffn_dropout: of the feed-forward's hidden activations (``gelu`` only; as ``nn.TransformerEncoderLayer``).
        weights_per_step: N > 0 gives every position ``0..N-1`` projections of its own (attention and feed-forward
            weights; norms stay shared), as Moshi's Depformer has one set per codebook; positions must stay below N.
            0: one set for all positions.
    """

    dim: int = 256
    layers: int = 4
    heads: int = 4
    kv_heads: int | None = None
    head_dim: int | None = None
    ffn_dim: int | None = None
    norm: str = "rms"
    norm_eps: float = 1e-5
    mlp: str = "swiglu"
    qkv_bias: bool = False
    out_bias: bool = False
    causal: bool = True
    window: int | None = None
    context: int = 2048
    rope: bool = True
    rope_theta: float = 10000.0
    norm_first: bool = True
    final_norm: bool = True
    dropout: float = 0.0
    attention_dropout: float = 0.0
    ffn_dropout: float = 0.0
    weights_per_step: int = 0

    def __post_init__(self) -> None:
        if self.head_dim is None and self.dim % self.heads:
            raise ConfigError(f"transformer dim={self.dim} is not divisible by heads={self.heads}")
        if self.heads % self.n_kv_heads:
            raise ConfigError(f"transformer heads={self.heads} is not a multiple of kv_heads={self.n_kv_heads}")
        if self.rope and self.per_head % 2:
            raise ConfigError(f"rotary embeddings need an even head width, got {self.per_head}")
        if self.window is not None and self.window < 1:
            raise ConfigError(f"transformer window must be >= 1 frame, got {self.window}")
        if self.weights_per_step and self.stream_context > self.weights_per_step:
            raise ConfigError(f"weights_per_step={self.weights_per_step} needs a streaming context of at most as many "
                              f"positions, got {self.stream_context}")

    @property
    def n_kv_heads(self) -> int:
        return self.kv_heads or self.heads

    @property
    def per_head(self) -> int:
        return self.head_dim or self.dim // self.heads

    @property
    def hidden(self) -> int:
        if self.ffn_dim:
            return self.ffn_dim
        return 64 * -(-(8 * self.dim // 3) // 64) if self.mlp == "swiglu" else 4 * self.dim

    @property
    def stream_context(self) -> int:
        """W: frames a streaming row keeps (the window, or the context of a model without one)."""
        return self.window or self.context


class Projection(nn.Linear):
    """``nn.Linear`` that takes (and ignores) the positions of its input: ``x [B, T, in]`` → ``[B, T, out]``."""

    def forward(self, x: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)


class StepProjection(nn.Module):
    """A linear projection per position: ``weight [N, out, in]`` (``bias [N, out]``); ``x [B, T, in]`` at positions
    ``[T]`` or ``[B, T]`` (each in ``0..N-1``; negative ones, frames not stored, use set 0) → ``[B, T, out]``."""

    def __init__(self, steps: int, in_features: int, out_features: int, bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(steps, out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(steps, out_features)) if bias else None
        nn.init.normal_(self.weight, std=in_features**-0.5)

    def forward(self, x: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        if positions is None:
            raise SpokenLMError("a per-step projection needs the positions of its input")
        steps = positions.clamp(min=0)  # in range: Transformer.forward checks them once for all its projections
        weight = self.weight[steps]  # [T or B×T, out, in]
        y = torch.einsum("bti,toi->bto" if steps.dim() == 1 else "bti,btoi->bto", x, weight)
        return y if self.bias is None else y + self.bias[steps]


def projection(config: TransformerConfig, in_features: int, out_features: int, bias: bool) -> nn.Module:
    """The transformer's linear layers: one :class:`Projection`, or a :class:`StepProjection` per ``weights_per_step``."""
    if config.weights_per_step:
        return StepProjection(config.weights_per_step, in_features, out_features, bias)
    return Projection(in_features, out_features, bias=bias)


@NORMS.register("rms")
class RMSNorm(nn.Module):
    """Root-mean-square norm with a learned gain: ``[..., D]`` → ``[..., D]``."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.rms_norm(x, (x.shape[-1],), self.weight, self.eps)


@NORMS.register("layer")
class LayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` with the (dim, eps) signature of the norm registry."""

    def __init__(self, dim: int, eps: float) -> None:
        super().__init__(dim, eps=eps)


@MLPS.register("swiglu")
class SwiGLU(nn.Module):
    """``down(silu(gate(x)) * up(x))``, gate and up fused in one matmul: ``[B, T, D]`` → ``[B, T, D]``."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.hidden = config.hidden
        self.gate_up = projection(config, config.dim, 2 * self.hidden, bias=False)
        self.down = projection(config, self.hidden, config.dim, bias=False)

    def forward(self, x: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        gate, up = self.gate_up(x, positions).split(self.hidden, dim=-1)
        return self.down(F.silu(gate) * up, positions)


@MLPS.register("gelu")
class GeluMLP(nn.Module):
    """``fc2(gelu(fc1(x)))`` with biases: ``[B, T, D]`` → ``[B, T, D]``."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.fc1 = projection(config, config.dim, config.hidden, bias=True)
        self.dropout = nn.Dropout(config.ffn_dropout)
        self.fc2 = projection(config, config.hidden, config.dim, bias=True)

    def forward(self, x: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        return self.fc2(self.dropout(F.gelu(self.fc1(x, positions))), positions)


def rotary_tables(positions: torch.Tensor, head_dim: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer positions ``[T]`` or ``[B, T]`` → cos, sin ``[1 or B, 1, T, Dh]`` (computed in float64, returned fp32)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64, device=positions.device) / head_dim))
    angles = positions.to(torch.float64)[..., None] * inv_freq
    angles = torch.cat([angles, angles], dim=-1)
    cos, sin = angles.cos().float(), angles.sin().float()
    if positions.dim() == 1:
        return cos[None, None], sin[None, None]
    return cos[:, None], sin[:, None]


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate ``x`` ``[B, H, T, Dh]`` by the angles in ``cos``/``sin`` (broadcastable to it)."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos.to(x.dtype) + rotated * sin.to(x.dtype)


def window_mask(query_positions: torch.Tensor, key_positions: torch.Tensor, causal: bool, window: int | None) -> torch.Tensor:
    """Which keys each query may attend to: positions ``[..., Tq]``, ``[..., Tk]`` → bool ``[..., Tq, Tk]``.

    Negative key positions are empty slots; a query sees keys ``d = q - k`` frames back with
    ``0 <= d < window`` (causal) or ``|d| < window`` (bidirectional).
    """
    distance = query_positions[..., :, None] - key_positions[..., None, :]
    allowed = key_positions[..., None, :] >= 0
    if causal:
        allowed = allowed & (distance >= 0)
    if window is not None:
        allowed = allowed & (distance.abs() < window)
    return allowed


@dataclass
class KVState(StreamingState):
    """Ring buffer of one attention layer: keys / values ``[B, Hkv, W+1, Dh]`` (already rotated), the position
    each slot holds ``[B, W+1]`` (-1: empty; slot ``W`` is scratch for frames that are not stored), and each
    row's next position ``offset [B]``."""

    keys: torch.Tensor
    values: torch.Tensor
    positions: torch.Tensor
    offset: torch.Tensor


class Attention(StreamingModule[KVState]):
    """Multi-head (grouped-query) self-attention on ``scaled_dot_product_attention``; q, k and v from one fused projection."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.n_heads, self.n_kv_heads, self.head_dim = config.heads, config.n_kv_heads, config.per_head
        self.qkv = projection(config, config.dim, (self.n_heads + 2 * self.n_kv_heads) * self.head_dim, config.qkv_bias)
        self.out = projection(config, self.n_heads * self.head_dim, config.dim, config.out_bias)
        self._used = 0  # slots [0, _used) of the ring may hold keys: attention skips the rest

    def _init_state(self, batch_size: int) -> KVState:
        if not self.config.causal:
            raise SpokenLMError("a bidirectional transformer cannot stream; run it offline")
        slots = self.config.stream_context + 1
        weight = self.qkv.weight
        keys = torch.zeros(batch_size, self.n_kv_heads, slots, self.head_dim, dtype=weight.dtype, device=weight.device)
        if self._state is None:
            self._used = 0
        return KVState(
            keys, torch.zeros_like(keys), torch.full((batch_size, slots), -1, dtype=torch.long, device=weight.device),
            torch.zeros(batch_size, dtype=torch.long, device=weight.device),
        )

    def _state_restored(self) -> None:
        self._used = self.config.stream_context

    def forward(self, x: torch.Tensor, positions: torch.Tensor, rotary: tuple[torch.Tensor, torch.Tensor] | None,
                mask: torch.Tensor | None = None, dense: bool = True) -> torch.Tensor:
        """``x [B, T, D]`` at ``positions`` (``[T]`` or ``[B, T]``; streaming: ``[B, T]``, -1 for frames not to
        store, which only ``dense=False`` allows) → ``[B, T, D]``. ``rotary``: the (cos, sin) of the positions;
        ``mask`` (offline only) bool ``[B or 1, 1, T, T]``, True = may attend, combined with the causal/window rule."""
        b, t, _ = x.shape
        qkv = self.qkv(x, positions).view(b, t, self.n_heads + 2 * self.n_kv_heads, self.head_dim).transpose(1, 2)
        qk, v = qkv.split([self.n_heads + self.n_kv_heads, self.n_kv_heads], dim=1)
        if rotary is not None:
            qk = apply_rotary(qk, *rotary)  # queries and keys rotated in one pass
        q, k = qk.split([self.n_heads, self.n_kv_heads], dim=1)
        if not self.is_streaming:
            y = self._offline(q, k, v, positions, mask)
        elif t == 1 and dense and self.exec_mask is None:
            y = self._step_in_place(q, k, v, positions)
        else:
            y = self._stream(q, k, v, positions)
        return self.out(y, positions)

    def _offline(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, positions: torch.Tensor,
                 mask: torch.Tensor | None) -> torch.Tensor:
        """Attention of the whole sequence with the causal/window rule and ``mask`` (see :meth:`forward`)."""
        t = q.shape[2]
        c = self.config
        if c.window is None and mask is None:
            return self._attend(q, k, v, None, causal=c.causal and t > 1)
        if c.window is not None:
            frames = positions if positions.dim() == 2 else positions[None]
            rule = window_mask(frames, frames, c.causal, c.window)[:, None]
            mask = rule if mask is None else mask & rule
        elif c.causal:
            mask = mask & torch.ones(t, t, dtype=torch.bool, device=q.device).tril()
        return self._attend(q, k, v, mask, causal=False)

    def _attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None, causal: bool) -> torch.Tensor:
        """Attention of q ``[B, H, T, Dh]`` over k, v ``[B, Hkv, S, Dh]`` → ``[B, T, H·Dh]`` (before the output projection)."""
        dropout = self.config.attention_dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal, dropout_p=dropout,
                                           enable_gqa=self.n_kv_heads != self.n_heads)
        b, _, t, _ = q.shape
        return y.transpose(1, 2).reshape(b, t, self.n_heads * self.head_dim)

    def _stream(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Any number of frames per row: attend over the ring and the new frames, then store the last W stored ones."""
        state, ring, used = self._state, self.config.stream_context, self._used
        t = q.shape[2]
        keys = torch.cat([state.keys[:, :, :used], k], dim=2)
        values = torch.cat([state.values[:, :, :used], v], dim=2)
        mask = window_mask(positions, torch.cat([state.positions[:, :used], positions], dim=1), True, ring)
        steps = torch.arange(t, device=q.device)
        own = torch.zeros_like(mask)
        own[:, steps, used + steps] = True
        mask = torch.where((positions < 0)[:, :, None], own, mask)  # frames not stored see themselves (finite, ignored)
        y = self._attend(q, keys, values, mask[:, None], causal=False)
        stored = positions >= 0
        advance = stored.long().sum(1)
        recent = stored & (positions >= (state.offset + advance - ring)[:, None])  # among the last W stored
        slot = torch.where(recent, positions % ring, ring)  # the others go to the scratch slot W
        index = slot[:, None, :, None].expand(-1, self.n_kv_heads, -1, self.head_dim)
        slot_positions = state.positions.scatter(1, slot, torch.where(recent, positions, -1))
        slot_positions[:, ring] = -1
        self._used = min(ring, used + t)
        self._commit(KVState(state.keys.scatter(2, index, k), state.values.scatter(2, index, v), slot_positions, state.offset + advance))
        return y

    def _step_in_place(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """One frame for every row: write it into the ring first (the slot it overwrites is out of reach), then attend.

        After the write the ring holds, for every slot, the latest position ``p <= q`` with that residue
        mod W, so ``0 <= q - p < W``: the window rule reduces to skipping empty slots.
        """
        state, ring = self._state, self.config.stream_context
        slot = positions % ring  # [B, 1]
        index = slot[:, None, :, None].expand(-1, self.n_kv_heads, -1, self.head_dim)
        state.keys.scatter_(2, index, k)
        state.values.scatter_(2, index, v)
        state.positions.scatter_(1, slot, positions)
        state.offset += 1
        # under torch.compile the whole ring is attended (static shapes: one graph for every step)
        self._used = used = ring if torch.compiler.is_compiling() else min(ring, self._used + 1)
        mask = state.positions[:, None, None, :used] >= 0
        return self._attend(q, state.keys[:, :, :used], state.values[:, :, :used], mask, causal=False)


class Block(nn.Module):
    """Transformer block: attention then feed-forward, each with a residual; ``[B, T, D]`` → ``[B, T, D]``.

    Pre-norm (``x + f(norm(x))``) or post-norm (``norm(x + f(x))``) by ``config.norm_first``.
    """

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.norm_first = config.norm_first
        self.attn_norm = NORMS.get(config.norm)(config.dim, config.norm_eps)
        self.attn = Attention(config)
        self.mlp_norm = NORMS.get(config.norm)(config.dim, config.norm_eps)
        self.mlp = MLPS.get(config.mlp)(config)
        self.dropout = nn.Dropout(config.dropout) if config.dropout else nn.Identity()

    def forward(self, x: torch.Tensor, positions: torch.Tensor, rotary: tuple[torch.Tensor, torch.Tensor] | None,
                mask: torch.Tensor | None = None, dense: bool = True) -> torch.Tensor:
        if self.norm_first:
            x = x + self.dropout(self.attn(self.attn_norm(x), positions, rotary, mask, dense))
            return x + self.dropout(self.mlp(self.mlp_norm(x), positions))
        x = self.attn_norm(x + self.dropout(self.attn(x, positions, rotary, mask, dense)))
        return self.mlp_norm(x + self.dropout(self.mlp(x, positions)))


class Transformer(StreamingModule):
    """A stack of :class:`Block` (+ an optional final norm): ``[B, T, D]`` → ``[B, T, D]``.

    Offline: ``forward(x, positions, mask)``. Inside ``streaming(batch_size)`` each call continues every
    row; ``valid`` bool ``[B, T]`` marks the frames to store (False for left padding of a batch of
    prompts: they neither take a position nor enter the cache). See the module docstring.
    """

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.norm = NORMS.get(config.norm)(config.dim, config.norm_eps) if config.final_norm else nn.Identity()
        self._rotary_table: tuple[torch.Tensor, torch.Tensor] | None = None  # streaming: cos, sin [N, Dh] of positions 0..N-1

    def positions(self, frames: int, device: torch.device, valid: torch.Tensor | None = None) -> torch.Tensor:
        """Positions of the next ``frames`` frames: ``[T]`` offline; streaming ``[B, T]`` from each row's offset (-1 where not ``valid``)."""
        steps = torch.arange(frames, device=device)
        if not self.is_streaming:
            return steps
        offset = self.blocks[0].attn._state.offset[:, None]
        if valid is None:
            return offset + steps
        valid = valid.to(torch.bool)
        return torch.where(valid, offset + valid.long().cumsum(1) - 1, -1)

    def forward(self, x: torch.Tensor, positions: torch.Tensor | None = None, mask: torch.Tensor | None = None,
                valid: torch.Tensor | None = None) -> torch.Tensor:
        """``x [B, T, D]`` → ``[B, T, D]``; offline ``positions`` ``[T]``/``[B, T]`` (default ``arange(T)``) and ``mask``."""
        if self.is_streaming:
            if positions is not None or mask is not None:
                raise SpokenLMError("a streaming transformer takes its positions from its state, not positions/mask")
            positions = self.positions(x.shape[1], x.device, valid)
        elif positions is None:
            positions = self.positions(x.shape[1], x.device)
        if self.config.weights_per_step and int(positions.max()) >= self.config.weights_per_step:
            raise SpokenLMError(f"position {int(positions.max())} has no weights (weights_per_step={self.config.weights_per_step})")
        rotary = self.rotary(positions.clamp(min=0)) if self.config.rope else None
        for block in self.blocks:
            x = block(x, positions, rotary, mask, valid is None)
        return self.norm(x)

    def rotary(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The (cos, sin) of positions ``[T]`` or ``[B, T]`` (>= 0), as :func:`rotary_tables`; streaming looks them up
        in a table of the positions seen so far (grown by doubling, up to :data:`ROTARY_TABLE_MAX` positions), so a
        step does not recompute them."""
        needed = int(positions.max()) + 1 if self.is_streaming and not torch.compiler.is_compiling() else 0
        if not 0 < needed <= ROTARY_TABLE_MAX:
            return rotary_tables(positions, self.config.per_head, self.config.rope_theta)
        table = self._rotary_table
        if table is None or table[0].shape[0] < needed or table[0].device != positions.device:
            steps = torch.arange(min(ROTARY_TABLE_MAX, max(64, 2 * needed)), device=positions.device)
            cos, sin = rotary_tables(steps, self.config.per_head, self.config.rope_theta)
            self._rotary_table = table = cos[0, 0], sin[0, 0]
        cos, sin = table[0][positions], table[1][positions]
        return (cos[None, None], sin[None, None]) if positions.dim() == 1 else (cos[:, None], sin[:, None])

    def hidden_states(self, x: torch.Tensor, upto: int | None = None) -> list[torch.Tensor]:
        """Offline: the input and the output of blocks ``1..upto`` (default all), each ``[B, T, D]`` (no final norm)."""
        positions = self.positions(x.shape[1], x.device)
        rotary = rotary_tables(positions, self.config.per_head, self.config.rope_theta) if self.config.rope else None
        states = [x]
        for block in self.blocks[: len(self.blocks) if upto is None else upto]:
            x = block(x, positions, rotary)
            states.append(x)
        return states

    def matmul_weights(self) -> int:
        """Weights multiplied per frame (the blocks' projections and feed-forward; one position's set of per-step
        weights), for FLOP counts."""
        return sum(p.numel() // (p.shape[0] if p.dim() == 3 else 1) for name, p in self.blocks.named_parameters()
                   if name.endswith("weight") and p.dim() >= 2)


def renamed_blocks_hook(old_root: str, names: dict[str, str]) -> Callable[..., None]:
    """A ``load_state_dict`` pre-hook for checkpoints written before a module used this transformer: it moves
    ``{prefix}{old_root}.i.<old>…`` to ``{prefix}transformer.blocks.i.<new>…`` for each ``old → new`` of ``names``."""

    def hook(state: dict[str, Any], prefix: str, *args: Any) -> None:
        root = f"{prefix}{old_root}."
        for key in [k for k in state if k.startswith(root)]:
            index, rest = key[len(root) :].split(".", 1)
            old = next((o for o in names if rest.startswith(o)), "")
            state[f"{prefix}transformer.blocks.{index}.{names.get(old, '')}{rest[len(old):]}"] = state.pop(key)

    return hook
