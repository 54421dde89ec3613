"""TWIST warm start: a UnitLM whose transformer comes from a pretrained HF text LM.

The text LM's blocks, final norm and (when kept) its token embeddings are copied; the
joint vocabulary adds special tokens and ``n_units`` speech units whose embeddings (and
output rows) start at the mean text embedding plus noise of the text embeddings' scale.
"""

from __future__ import annotations

from pathlib import Path

import torch

from spokenlm.data.vocab import Vocabulary
from spokenlm.models.config import UnitLMConfig
from spokenlm.models.hf_llama import from_hf_layout, hf_rope_theta, read_hf_config, read_hf_weights
from spokenlm.models.unit_lm import UnitLM


def _expand_rows(text_rows: torch.Tensor, vocab: Vocabulary, hf_special: dict[int, int | list[int] | None], generator: torch.Generator) -> torch.Tensor:
    """Text-LM rows ``[V_text, D]`` → joint rows ``[vocab.size, D]`` (specials, new units, text)."""
    text_rows = text_rows.float()
    mean, std = text_rows.mean(0), text_rows.std(0).mean()
    rows = mean + std * torch.randn(vocab.size, text_rows.shape[1], generator=generator)
    for our_id, hf_id in hf_special.items():
        if isinstance(hf_id, list):
            hf_id = hf_id[0] if hf_id else None
        if hf_id is not None and 0 <= hf_id < text_rows.shape[0]:
            rows[our_id] = text_rows[hf_id]
    if vocab.n_text:
        rows[vocab.text_offset :] = text_rows
    return rows


def unit_lm_from_text_lm(hf_dir: str | Path, n_units: int, keep_text: bool = True, seed: int = 0, max_seq_len: int | None = None) -> UnitLM:
    """Build a :class:`UnitLM` from the HF LLaMA-family directory ``hf_dir`` (config.json + safetensors).

    Args:
        n_units: speech units added to the vocabulary.
        keep_text: keep the text LM's tokens in the joint vocabulary (speech+text LM) or drop them (TWIST).
        seed: seed of the new rows' noise.
        max_seq_len: cap on positions (default: the text LM's ``max_position_embeddings``).
    """
    hf_dir = Path(hf_dir)
    hf = read_hf_config(hf_dir)
    text_vocab = int(hf["vocab_size"])
    tied = bool(hf.get("tie_word_embeddings", False))
    config = UnitLMConfig(
        n_units=n_units,
        n_text=text_vocab if keep_text else 0,
        dim=hf["hidden_size"],
        n_layers=hf["num_hidden_layers"],
        n_heads=hf["num_attention_heads"],
        n_kv_heads=hf.get("num_key_value_heads"),
        head_dim=hf.get("head_dim") or hf["hidden_size"] // hf["num_attention_heads"],
        ffn_dim=hf["intermediate_size"],
        max_seq_len=max_seq_len or int(hf.get("max_position_embeddings", 2048)),
        rope_theta=hf_rope_theta(hf),
        norm_eps=float(hf.get("rms_norm_eps", 1e-6)),
        tie_embeddings=tied,
        attention_bias=hf["model_type"] == "qwen2" or bool(hf.get("attention_bias", False)),
    )
    state = from_hf_layout(read_hf_weights(hf_dir), config.n_layers)
    vocab = config.vocab
    special = {vocab.bos_id: hf.get("bos_token_id"), vocab.eos_id: hf.get("eos_token_id"), vocab.pad_id: hf.get("pad_token_id")}
    generator = torch.Generator().manual_seed(seed)
    state["embeddings.0.weight"] = _expand_rows(state["embeddings.0.weight"], vocab, special, generator)
    if not tied:
        state["heads.0.weight"] = _expand_rows(state["heads.0.weight"], vocab, special, generator)
    model = UnitLM(config)
    model.load_weights({k: v.float() for k, v in state.items()}, str(hf_dir))
    return model
