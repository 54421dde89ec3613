"""Batched autoregressive sampling from a UnitLM with a preallocated KV cache.

Prompts of different lengths are left-padded; padded keys are masked out and rotary
positions start at each prompt's first real token, so a prompt's continuation does
not depend on the other prompts in the batch.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import torch

from spokenlm.errors import SpokenLMError
from spokenlm.models.unit_lm import UnitLM


_COMPILED_DECODERS: weakref.WeakKeyDictionary[UnitLM, Callable[..., torch.Tensor]] = weakref.WeakKeyDictionary()


def decoder(model: UnitLM, compile: bool) -> Callable[..., torch.Tensor]:
    """The model itself, or its ``torch.compile`` (dynamic shapes, compiled once per model) for one-token steps."""
    if not compile:
        return model
    if model not in _COMPILED_DECODERS:
        _COMPILED_DECODERS[model] = torch.compile(model, dynamic=True)
    return _COMPILED_DECODERS[model]


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


@torch.inference_mode()
def sample(
    model: UnitLM,
    prompts: list[torch.Tensor],
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    seed: int = 0,
    eos_id: int | None = None,
    units_only: bool = False,
    compile: bool = False,
) -> list[torch.Tensor]:
    """Continue each prompt (model ids ``[T_i]``, e.g. from ``Vocabulary.encode_units``).

    Args:
        max_new_tokens: tokens generated per prompt at most.
        temperature: softmax temperature; 0 means greedy.
        top_k: keep only the k most likely tokens (0: all); top_p: nucleus mass (1.0: all).
        seed: seed of the sampling generator (same seed, same outputs).
        eos_id: generation of a row stops after this id (default the vocabulary's EOS; -1: never).
        units_only: restrict sampling to speech units and EOS.
        compile: run the one-token decode steps through ``torch.compile`` (the first call compiles).

    Returns:
        One LongTensor ``[n_i <= max_new_tokens]`` of new model ids per prompt, EOS excluded.
    """
    if not prompts or any(len(p) == 0 for p in prompts):
        raise SpokenLMError("sample() needs non-empty prompts")
    was_training = model.training
    model.eval()
    device = model.embeddings[0].weight.device
    vocab = model.vocab
    eos_id = vocab.eos_id if eos_id is None else eos_id
    batch = len(prompts)
    lengths = torch.tensor([len(p) for p in prompts], device=device)
    width = int(lengths.max())
    total = width + max_new_tokens
    ids = torch.full((batch, width), vocab.pad_id, dtype=torch.long, device=device)
    for row, prompt in enumerate(prompts):
        ids[row, width - len(prompt) :] = torch.as_tensor(prompt, device=device)
    pads = width - lengths  # [B] left padding of each row
    ragged = bool((pads > 0).any())
    valid = torch.arange(total, device=device)[None] >= pads[:, None]  # [B, total] real (non-pad) slots
    bias = None
    if units_only:
        bias = torch.full((vocab.size,), float("-inf"), device=device)
        bias[vocab.unit_offset : vocab.text_offset] = 0
        if eos_id >= 0:
            bias[eos_id] = 0
    generator = torch.Generator(device=device).manual_seed(seed)
    cache = model.new_cache(batch, total)
    positions, mask = None, None
    if ragged:
        steps = torch.arange(width, device=device)
        positions = (steps[None] - pads[:, None]).clamp(min=0)
        causal = torch.ones(width, width, dtype=torch.bool, device=device).tril()
        mask = (causal[None] & valid[:, None, :width]) | torch.eye(width, dtype=torch.bool, device=device)[None]
        mask = mask[:, None]
    logits = model(ids, positions=positions, mask=mask, cache=cache)[:, -1]
    step_model = decoder(model, compile)
    out = torch.empty(batch, max_new_tokens, dtype=torch.long, device=device)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    steps_taken = 0
    for step in range(max_new_tokens):
        if bias is not None:
            logits = logits + bias
        nxt = choose(logits, temperature, top_k, top_p, generator)
        nxt = torch.where(done, torch.full_like(nxt, vocab.pad_id), nxt)
        out[:, step] = nxt
        steps_taken = step + 1
        done |= nxt == eos_id
        if step + 1 == max_new_tokens or bool(done.all()):
            break
        position = width + step
        if ragged:
            positions = (position - pads)[:, None]
            mask = valid[:, None, None, : position + 1]
        logits = step_model(nxt[:, None], positions=positions, mask=mask, cache=cache)[:, -1]
    model.train(was_training)
    results = []
    for row in out[:, :steps_taken].cpu():
        stop = (row == eos_id).nonzero()
        results.append(row[: int(stop[0])] if len(stop) else row)
    return results
