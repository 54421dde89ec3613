"""A tiny random-weight HF ``LlamaForCausalLM`` directory, for warm-start plumbing tests and the tiny TWIST recipe.

Its weights are random (no pretrained text knowledge); real TWIST runs point
``init.text_lm`` at a downloaded LLaMA/Qwen2 directory instead.
"""

from __future__ import annotations

from pathlib import Path

from spokenlm.errors import MissingDependencyError


def write_tiny_llama(directory: str | Path, vocab_size: int = 512, dim: int = 64, n_layers: int = 2, n_heads: int = 4,
                     n_kv_heads: int = 2, ffn_dim: int = 128, max_positions: int = 512, tied: bool = False, seed: int = 0) -> Path:
    """Save a random ``LlamaForCausalLM`` of the given shape (safetensors) into ``directory``."""
    try:
        import torch
        from transformers import LlamaConfig, LlamaForCausalLM
    except ImportError as err:
        raise MissingDependencyError("transformers", extra="hf", purpose="creating a HF text LM") from err
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=dim, intermediate_size=ffn_dim, num_hidden_layers=n_layers,
                         num_attention_heads=n_heads, num_key_value_heads=n_kv_heads, max_position_embeddings=max_positions,
                         tie_word_embeddings=tied, bos_token_id=1, eos_token_id=2)
    LlamaForCausalLM(config).save_pretrained(str(directory))
    return Path(directory)
