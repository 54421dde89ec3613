"""The text LM of a speech-aware text LM: a HF causal LM from a local folder, frozen, fully fine-tuned or with LoRA (``peft``).

Nothing is downloaded: the folder must hold ``config.json``, safetensors weights and a tokenizer with a chat template
(``tokenizer.json`` / ``tokenizer_config.json``, as ``save_pretrained`` writes them). LoRA weights save as their own small
``peft`` folder (``adapter_config.json`` + ``adapter_model.safetensors``) that loads back onto the same base.

:func:`write_tiny_chat_lm` makes the toy-scale stand-in for "your own instruction-tuned LLM": a word-level tokenizer
over given texts with a chat template, and a random ``LlamaForCausalLM`` (or ``Qwen2ForCausalLM``) of that vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from torch import nn

from spokenlm.errors import ConfigError, MissingDependencyError, SpokenLMError

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model")
SPECIALS = ("<pad>", "<unk>", "<s>", "<|user|>", "<|assistant|>", "<|end|>")
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)
WORD = r"[A-Za-z0-9']+|[^\sA-Za-z0-9']"


@dataclass
class LoraConfig:
    """LoRA on the text LM (``peft``): rank, scaling ``alpha / rank``, dropout and the projections it wraps."""

    rank: int = 8
    alpha: float = 16.0
    dropout: float = 0.0
    targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])


@dataclass
class TextLMConfig:
    """Which text LM and how it trains.

    Attributes:
        path: a local HF causal-LM folder (LLaMA / Qwen families) with its tokenizer.
        mode: ``frozen`` (no gradients), ``full`` (every weight trains) or ``lora`` (only LoRA weights train).
        lora: the LoRA settings of ``mode: lora``.
    """

    path: str = ""
    mode: Literal["frozen", "full", "lora"] = "frozen"
    lora: LoraConfig = field(default_factory=LoraConfig)


def _transformers() -> Any:
    try:
        import transformers
    except ImportError as err:
        raise MissingDependencyError("transformers", "hf", "HF text LMs") from err
    return transformers


def load_tokenizer(path: str | Path) -> Any:
    """The tokenizer of a local text-LM folder; a folder without one, or without a chat template, is refused."""
    path = Path(path)
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        raise SpokenLMError(f"{path}: the text LM has no tokenizer (none of {', '.join(TOKENIZER_FILES)}); save one with it")
    transformers = _transformers()
    # a tokenizer.json is read as it is: AutoTokenizer would rebuild the pre-tokenizer of the model family's own class
    reader = transformers.PreTrainedTokenizerFast if (path / "tokenizer.json").is_file() else transformers.AutoTokenizer
    tokenizer = reader.from_pretrained(str(path), local_files_only=True)
    if not tokenizer.chat_template:
        raise SpokenLMError(f"{path}: the tokenizer has no chat template (an instruction-tuned LM's tokenizer has one)")
    return tokenizer


def load_base_lm(path: str | Path) -> nn.Module:
    """A local HF causal LM in fp32 and eval mode (hub names and pickled weights are refused)."""
    path = Path(path)
    if not (path / "config.json").is_file():
        raise SpokenLMError(f"{path}: not a local HF model folder (no config.json); nothing is downloaded")
    if not any(path.glob("*.safetensors")):
        raise SpokenLMError(f"{path}: no safetensors weights (pickled .bin weights are not loaded)")
    transformers = _transformers()
    model = transformers.AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True, dtype="float32", use_safetensors=True)
    return model.eval()


def with_training_mode(model: nn.Module, config: TextLMConfig, lora_dir: str | Path | None = None) -> nn.Module:
    """``model`` set up for ``config.mode``: frozen, fully trainable, or wrapped with LoRA (new, or loaded from ``lora_dir``)."""
    if config.mode == "full":
        return model.requires_grad_(True)
    model.requires_grad_(False)
    if config.mode == "frozen":
        return model
    try:
        import peft
    except ImportError as err:
        raise MissingDependencyError("peft", "hf", "LoRA on the text LM") from err
    if lora_dir is not None:
        return peft.PeftModel.from_pretrained(model, str(lora_dir), is_trainable=True)
    lora = config.lora
    settings = peft.LoraConfig(r=lora.rank, lora_alpha=lora.alpha, lora_dropout=lora.dropout, target_modules=list(lora.targets), bias="none")
    return peft.get_peft_model(model, settings)


def words(text: str) -> list[str]:
    """The word-level tokens of ``text``: runs of letters, digits and apostrophes, and single punctuation marks."""
    return re.findall(WORD, text)


def write_word_tokenizer(directory: str | Path, texts: Iterable[str]) -> Any:
    """A word-level HF tokenizer (every word of ``texts``, case kept, plus :data:`SPECIALS`) with :data:`CHAT_TEMPLATE`, saved into ``directory``."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    transformers = _transformers()
    vocab = {token: i for i, token in enumerate(SPECIALS)}
    for text in texts:
        for word in words(text):
            vocab.setdefault(word, len(vocab))
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(Regex(WORD), behavior="isolated")])
    core.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", unk_token="<unk>", bos_token="<s>", eos_token="<|end|>",
        additional_special_tokens=["<|user|>", "<|assistant|>"],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(str(directory))
    return tokenizer


@dataclass
class TinyLMShape:
    """The shape of a tiny random text LM (:func:`write_tiny_chat_lm`)."""

    family: Literal["llama", "qwen2"] = "llama"
    dim: int = 128
    layers: int = 2
    heads: int = 4
    kv_heads: int = 2
    ffn_dim: int = 384
    max_positions: int = 1024


def write_tiny_chat_lm(directory: str | Path, texts: Iterable[str], shape: TinyLMShape | None = None, seed: int = 0) -> Path:
    """A word tokenizer over ``texts`` and a random causal LM of its vocabulary, saved together into ``directory``."""
    import torch

    shape = shape or TinyLMShape()
    transformers = _transformers()
    tokenizer = write_word_tokenizer(directory, texts)
    classes = {"llama": ("LlamaConfig", "LlamaForCausalLM"), "qwen2": ("Qwen2Config", "Qwen2ForCausalLM")}
    if shape.family not in classes:
        raise ConfigError(f"tiny text LM family {shape.family!r} is not one of {', '.join(classes)}")
    config_class, model_class = (getattr(transformers, name) for name in classes[shape.family])
    config = config_class(
        vocab_size=len(tokenizer), hidden_size=shape.dim, intermediate_size=shape.ffn_dim, num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads, num_key_value_heads=shape.kv_heads, max_position_embeddings=shape.max_positions,
        tie_word_embeddings=False, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model_class(config).save_pretrained(str(directory))
    return Path(directory)
