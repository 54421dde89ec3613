"""Tiny random TWIST and Slam unit LMs written in their published folder layouts (transformers LLaMA inside)."""

from __future__ import annotations

import json
from pathlib import Path

import torch


def tiny_llama(vocab_size: int, **ids):
    """A seeded random 2-layer ``LlamaForCausalLM`` in eval mode."""
    import transformers

    torch.manual_seed(0)
    config = transformers.LlamaConfig(vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512, **ids)
    return transformers.LlamaForCausalLM(config).eval()


def write_twist(folder: Path, num_units: int, offset: int = 4):
    """A HF causal LM whose config.json records ``offset`` (token = unit + offset), as TWIST's; returns the model."""
    model = tiny_llama(num_units + offset, pad_token_id=0)
    model.config.offset = offset
    model.save_pretrained(folder)
    return model


def write_slam(folder: Path, num_units: int):
    """A slamkit ``UnitLM`` folder (model_type speech_language_model, inner config in base_config, weights under ``lm.``)."""
    from safetensors.torch import save_file

    inner = tiny_llama(num_units + 2, pad_token_id=0, bos_token_id=1, eos_token_id=1)
    folder.mkdir(parents=True, exist_ok=True)
    config = {"model_type": "speech_language_model", "base_model_name": "llama", "base_config": inner.config.to_dict(),
              "vocab_size": num_units + 2, "twist_init": False, "architectures": ["UnitLM"]}
    (folder / "config.json").write_text(json.dumps(config))
    save_file({f"lm.{k}": v.contiguous() for k, v in inner.state_dict().items()}, str(folder / "model.safetensors"))
    return inner
