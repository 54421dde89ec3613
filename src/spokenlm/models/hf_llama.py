"""Conversion between UnitLM weights and HF LLaMA-layout checkpoints (``LlamaForCausalLM``, Qwen2, Mistral).

Both use RoPE in the ``rotate_half`` layout, RMSNorm and SwiGLU, so the conversion is a
renaming plus splitting/concatenating our fused q|k|v and gate|up projections.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from spokenlm.atomic import atomic_directory
from spokenlm.checkpoint import read_json, read_weights
from spokenlm.errors import SpokenLMError
from spokenlm.models.config import UnitLMConfig

LLAMA_FAMILY = ("llama", "qwen2", "mistral")


def read_hf_config(hf_dir: Path) -> dict[str, Any]:
    """Read and check ``config.json`` of a HF causal LM directory of the LLaMA family."""
    path = hf_dir / "config.json"
    if not path.is_file():
        raise SpokenLMError(f"{path}: missing (not a HF model directory)")
    config = read_json(path)
    family = config.get("model_type")
    if family not in LLAMA_FAMILY:
        raise SpokenLMError(f"{hf_dir}: model_type {family!r} is not supported for warm start (supported: {', '.join(LLAMA_FAMILY)})")
    if config.get("hidden_act", "silu") != "silu":
        raise SpokenLMError(f"{hf_dir}: hidden_act {config['hidden_act']!r} is not SwiGLU/silu")
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    if rope.get("rope_type", rope.get("type", "default")) != "default":
        raise SpokenLMError(f"{hf_dir}: rope scaling {rope} is not supported")
    return config


def hf_rope_theta(config: dict[str, Any]) -> float:
    """The rotary base of a HF config (``rope_theta`` or ``rope_parameters.rope_theta``)."""
    params = config.get("rope_parameters") or {}
    return float(params.get("rope_theta", config.get("rope_theta", 10000.0)))


def read_hf_weights(hf_dir: Path) -> dict[str, torch.Tensor]:
    """All tensors of a HF directory saved as ``model.safetensors`` (single or sharded)."""
    single = hf_dir / "model.safetensors"
    if single.is_file():
        return read_weights(single)
    index = hf_dir / "model.safetensors.index.json"
    if not index.is_file():
        raise SpokenLMError(f"{hf_dir}: no model.safetensors (pickled .bin weights are not loaded)")
    state: dict[str, torch.Tensor] = {}
    for shard in sorted(set(json.loads(index.read_text())["weight_map"].values())):
        state.update(read_weights(hf_dir / shard))
    return state


def from_hf_layout(state: dict[str, torch.Tensor], n_layers: int) -> dict[str, torch.Tensor]:
    """HF LLaMA-layout tensors → UnitLM tensors of the transformer (embedding/head rows unchanged)."""
    out = {"embeddings.0.weight": state["model.embed_tokens.weight"], "backbone.norm.weight": state["model.norm.weight"]}
    if "lm_head.weight" in state:
        out["heads.0.weight"] = state["lm_head.weight"]
    for i in range(n_layers):
        src, dst = f"model.layers.{i}.", f"backbone.blocks.{i}."
        attn = src + "self_attn."
        out[dst + "attn.qkv.weight"] = torch.cat([state[attn + f"{p}_proj.weight"] for p in "qkv"])
        if attn + "q_proj.bias" in state:
            out[dst + "attn.qkv.bias"] = torch.cat([state[attn + f"{p}_proj.bias"] for p in "qkv"])
        out[dst + "attn.out.weight"] = state[attn + "o_proj.weight"]
        out[dst + "mlp.gate_up.weight"] = torch.cat([state[src + "mlp.gate_proj.weight"], state[src + "mlp.up_proj.weight"]])
        out[dst + "mlp.down.weight"] = state[src + "mlp.down_proj.weight"]
        out[dst + "attn_norm.weight"] = state[src + "input_layernorm.weight"]
        out[dst + "mlp_norm.weight"] = state[src + "post_attention_layernorm.weight"]
    return out


def to_hf_layout(state: dict[str, torch.Tensor], config: UnitLMConfig) -> dict[str, torch.Tensor]:
    """UnitLM tensors (one stream) → HF ``LlamaForCausalLM`` tensor names."""
    q = config.n_heads * config.per_head
    kv = config.kv_heads * config.per_head
    out = {"model.embed_tokens.weight": state["embeddings.0.weight"], "model.norm.weight": state["backbone.norm.weight"]}
    out["lm_head.weight"] = state.get("heads.0.weight", state["embeddings.0.weight"])
    for i in range(config.n_layers):
        src, dst = f"backbone.blocks.{i}.", f"model.layers.{i}."
        for name, part in zip("qkv", state[src + "attn.qkv.weight"].split([q, kv, kv])):
            out[dst + f"self_attn.{name}_proj.weight"] = part
        if src + "attn.qkv.bias" in state:
            for name, part in zip("qkv", state[src + "attn.qkv.bias"].split([q, kv, kv])):
                out[dst + f"self_attn.{name}_proj.bias"] = part
        out[dst + "self_attn.o_proj.weight"] = state[src + "attn.out.weight"]
        gate, up = state[src + "mlp.gate_up.weight"].chunk(2)
        out[dst + "mlp.gate_proj.weight"], out[dst + "mlp.up_proj.weight"] = gate, up
        out[dst + "mlp.down_proj.weight"] = state[src + "mlp.down.weight"]
        out[dst + "input_layernorm.weight"] = state[src + "attn_norm.weight"]
        out[dst + "post_attention_layernorm.weight"] = state[src + "mlp_norm.weight"]
    return out


def export_llama(model: torch.nn.Module, directory: str | Path) -> Path:
    """Write ``model`` (a one-stream UnitLM) as a HF ``LlamaForCausalLM`` directory that HF ``generate`` loads."""
    config: UnitLMConfig = model.config
    if config.num_streams != 1:
        raise SpokenLMError(
            f"a model of {config.num_streams} parallel streams does not fit LlamaForCausalLM; "
            "train it with data.flatten=true (codebooks serialised in time, as Llama-Mimi) to export it"
        )
    vocab = config.vocab
    hf_config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": vocab.size,
        "hidden_size": config.dim,
        "intermediate_size": config.hidden,
        "num_hidden_layers": config.n_layers,
        "num_attention_heads": config.n_heads,
        "num_key_value_heads": config.kv_heads,
        "head_dim": config.per_head,
        "hidden_act": "silu",
        "max_position_embeddings": config.max_seq_len,
        "rms_norm_eps": config.norm_eps,
        "rope_theta": config.rope_theta,
        "rope_parameters": {"rope_theta": config.rope_theta, "rope_type": "default"},
        "attention_bias": config.attention_bias,
        "attention_dropout": config.attention_dropout,
        "mlp_bias": False,
        "tie_word_embeddings": config.tie_embeddings,
        "bos_token_id": vocab.bos_id,
        "eos_token_id": vocab.eos_id,
        "pad_token_id": vocab.pad_id,
        "torch_dtype": "float32",
        "spokenlm_vocab": vocab.to_dict(),
        "spokenlm_layout": {"layout": config.layout, "streams": [spec.to_dict() for spec in config.streams]},
    }
    state = {k: v.detach().cpu().contiguous() for k, v in to_hf_layout(model.state_dict(), config).items()}
    if config.tie_embeddings:
        del state["lm_head.weight"]
    directory = Path(directory)
    with atomic_directory(directory) as tmp:
        (tmp / "config.json").write_text(json.dumps(hf_config, indent=2) + "\n")
        (tmp / "generation_config.json").write_text(
            json.dumps({"bos_token_id": vocab.bos_id, "eos_token_id": vocab.eos_id, "pad_token_id": vocab.pad_id}, indent=2) + "\n"
        )
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
    return directory
