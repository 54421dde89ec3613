"""Batched autoregressive sampling from a UnitLM, one frame per call through its streaming state.

Prompts of different lengths are left-padded; the padding is not stored (the ``valid``
mask of the streaming transformer) and every row's positions start at its own first
real token, so a prompt's continuation does not depend on the other prompts in the batch.
Multi-stream models generate frames ``[K]``: each stream has its own sampling settings,
and a model with delayed streams (MusicGen/Moshi delay pattern) gets its prompt delayed,
the frames the prompt already fixes forced, and its output undelayed.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from spokenlm.errors import SpokenLMError
from spokenlm.layouts.delay import delay, undelay
from spokenlm.models.heads import Choose, DepthHead
from spokenlm.models.unit_lm import UnitLM

_COMPILED: weakref.WeakKeyDictionary[UnitLM, tuple[Callable[..., torch.Tensor], Callable[..., torch.Tensor] | None]] = weakref.WeakKeyDictionary()


@dataclass
class StreamSampling:
    """Sampling settings of one stream: ``temperature`` (0 = greedy), ``top_k`` (0: all), ``top_p`` (1.0: all)."""

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0


def decoder(model: UnitLM, compile: bool) -> Callable[[torch.Tensor, Choose], torch.Tensor]:
    """The model's one-frame ``step``; with ``compile``, the same step with the one-frame forwards of the backbone
    and of a depth head's transformer run through ``torch.compile`` (compiled once per model and batch size; the
    rest of the head and the sampling callback stay eager, as the callback's state changes every step). A compiled
    step attends over the whole ring (static shapes), so it pays off for rings of up to a few hundred frames."""
    if not compile:
        return model.step
    if model not in _COMPILED:
        depth = torch.compile(model.heads.transformer, dynamic=False) if isinstance(model.heads, DepthHead) else None
        _COMPILED[model] = torch.compile(model.backbone, dynamic=False), depth
    backbone, depth = _COMPILED[model]
    head = {"depth": depth} if depth is not None else {}

    def step(frame: torch.Tensor, choose: Choose) -> torch.Tensor:
        return model.heads.next_frame(backbone(model.embed(frame))[:, -1], choose, **head)

    return step


def filter_logits(logits: torch.Tensor, top_k: int = 0, top_p: float = 1.0) -> torch.Tensor:
    """Set logits ``[B, V]`` outside the top-k and outside the top-p nucleus to -inf."""
    if top_k and top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = logits.sort(dim=-1, descending=True)
        cumulative = sorted_logits.softmax(-1).cumsum(-1)
        drop = cumulative - sorted_logits.softmax(-1) >= top_p  # keep the token that crosses top_p
        logits = logits.masked_fill(drop.scatter(-1, order, drop), float("-inf"))
    return logits


def choose(logits: torch.Tensor, temperature: float, top_k: int, top_p: float, generator: torch.Generator) -> torch.Tensor:
    """Next ids ``[B]`` from logits ``[B, V]``: greedy when ``temperature == 0``, else filtered sampling."""
    if temperature == 0:
        return logits.argmax(-1)
    probs = filter_logits(logits.float() / temperature, top_k, top_p).softmax(-1)
    return torch.multinomial(probs, 1, generator=generator)[:, 0]


def unit_biases(model: UnitLM, eos_id: int) -> list[list[torch.Tensor]]:
    """Per token phase of a frame (:meth:`UnitLM.unit_spans`) and per stream, a logit bias ``[V_k]`` allowing only
    the speech units that may come there, and EOS at a frame's start (``eos_id < 0``: no EOS)."""
    device = model.embeddings[0].weight.device
    biases = []
    for phase, spans in enumerate(model.unit_spans()):
        row = []
        for vocab, (start, end) in zip(model.vocabs, spans):
            bias = torch.full((vocab.size,), float("-inf"), device=device)
            bias[start:end] = 0
            if eos_id >= 0 and phase == 0:
                bias[eos_id] = 0
            row.append(bias)
        biases.append(row)
    return biases


@torch.inference_mode()
def sample(
    model: UnitLM,
    prompts: Sequence[torch.Tensor],
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    seed: int = 0,
    eos_id: int | None = None,
    units_only: bool = False,
    compile: bool = False,
    streams: Sequence[StreamSampling] | None = None,
) -> list[torch.Tensor]:
    """Continue each prompt: model ids ``[T_i]`` (one-stream model, e.g. from ``Vocabulary.encode_units``)
    or frames ``[K, T_i]`` (undelayed, one row per stream).

    Args:
        max_new_tokens: frames generated per prompt at most.
        temperature / top_k / top_p: sampling of every stream (temperature 0: greedy); ``streams`` overrides
            them per stream (one :class:`StreamSampling` per stream).
        seed: seed of the sampling generator (same seed, same outputs).
        eos_id: a row stops at the frame whose stream 0 is this id (default the vocabulary's EOS; -1: never).
        units_only: restrict every stream to speech units and EOS (a flat layout: each token to its codebook's units).
        compile: run the one-frame steps through ``torch.compile`` (the first call compiles).

    Returns:
        Per prompt, the new model ids ``[n_i]`` (one-stream prompts) or frames ``[K, n_i]``, ``n_i <= max_new_tokens``,
        the EOS frame excluded.
    """
    if not prompts or any(p.shape[-1] == 0 for p in prompts):
        raise SpokenLMError("sample() needs non-empty prompts")
    config = model.config
    frames = [torch.as_tensor(p)[None] if torch.as_tensor(p).dim() == 1 else torch.as_tensor(p) for p in prompts]
    if any(f.shape[0] != config.num_streams for f in frames):
        raise SpokenLMError(f"prompts must have {config.num_streams} stream(s), got shapes {sorted({tuple(f.shape) for f in frames})}")
    settings = list(streams) if streams else [StreamSampling(temperature, top_k, top_p)] * config.num_streams
    if len(settings) != config.num_streams:
        raise SpokenLMError(f"{len(settings)} stream sampling settings for a model of {config.num_streams} streams")
    was_training = model.training
    model.eval()
    device = model.embeddings[0].weight.device
    pad, eos_id = model.vocab.pad_id, model.vocab.eos_id if eos_id is None else eos_id
    delays = config.stream_delays
    lag = max(delays)
    delayed = [delay(f.to(device), delays, pad) for f in frames]  # [K, T_i + lag]: the prompt and the frames it fixes
    lengths = torch.tensor([f.shape[1] for f in frames], device=device)
    width, batch = int(lengths.max()), len(frames)
    ids = torch.full((batch, config.num_streams, width), pad, dtype=torch.long, device=device)
    forced = torch.full((batch, config.num_streams, lag), pad, dtype=torch.long, device=device)
    for row, (d, n) in enumerate(zip(delayed, lengths.tolist())):
        ids[row, :, width - n :] = d[:, :n]
        forced[row] = d[:, n:]
    valid = torch.arange(width, device=device)[None] >= (width - lengths)[:, None]
    biases = unit_biases(model, eos_id) if units_only else None
    generator = torch.Generator(device=device).manual_seed(seed)
    steps = max_new_tokens + lag
    step = 0

    def choose_stream(k: int, logits: torch.Tensor) -> torch.Tensor:
        if step < delays[k]:
            return forced[:, k, step]
        if biases is not None:
            logits = logits + biases[step % len(biases)][k]
        s = settings[k]
        return choose(logits, s.temperature, s.top_k, s.top_p, generator)

    out = torch.full((batch, config.num_streams, steps), pad, dtype=torch.long, device=device)
    ended = torch.full((batch,), steps, dtype=torch.long, device=device)  # step at which stream 0 said EOS
    step_model = decoder(model, compile)
    with model.streaming(batch):
        frame = model.step(ids, choose_stream, valid=None if bool(valid.all()) else valid)
        for step in range(steps):  # choose_stream reads `step`
            if step:
                frame = step_model(out[:, :, step - 1 : step], choose_stream)
            frame = torch.where((ended < step)[:, None], pad, frame)
            out[:, :, step] = frame
            if step >= delays[0]:
                ended = torch.where((ended == steps) & (frame[:, 0] == eos_id), step, ended)
            if bool((ended + lag <= step).all()):
                break
    model.train(was_training)
    results = []
    for row in range(batch):
        n = int(lengths[row])
        full = undelay(torch.cat([delayed[row][:, :n], out[row]], dim=1), delays)[:, n:]
        stop = int(ended[row]) - delays[0]
        new = full[:, : min(stop, max_new_tokens)].cpu()
        results.append(new[0] if prompts[row].dim() == 1 else new)
    return results
