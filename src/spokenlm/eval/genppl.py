"""Generative perplexity: how likely a text LM finds the ASR transcripts of generated speech.

The text LM is either a Hugging Face causal LM folder (``transformers``, loaded
from disk only) or a word n-gram spokenlm trains on a text corpus
(:mod:`spokenlm.eval.textlm`). Perplexity is ``exp(-Σ log p / Σ tokens)`` over
all transcripts (tokens of the LM's own tokenizer, end of text included).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from spokenlm.errors import MissingDependencyError, SpokenLMError


class TextLM(Protocol):
    """A text LM: ``text_logprobs(texts) -> [(natural-log probability, predicted tokens)]``."""

    def text_logprobs(self, texts: Sequence[str]) -> list[tuple[float, int]]: ...


class HFCausalLM:
    """A Hugging Face causal LM folder (model + tokenizer) scoring texts on CPU; nothing is downloaded."""

    def __init__(self, directory: str | Path) -> None:
        try:
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as err:
            raise MissingDependencyError("transformers", "hf", "generative perplexity with a HF causal LM") from err
        self.tokenizer: Any = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
        self.model: Any = AutoModelForCausalLM.from_pretrained(str(directory), local_files_only=True).eval()

    def text_logprobs(self, texts: Sequence[str]) -> list[tuple[float, int]]:
        import torch

        results = []
        eos = self.tokenizer.eos_token_id
        for text in texts:
            ids = self.tokenizer(text)["input_ids"]
            bos = self.tokenizer.bos_token_id if self.tokenizer.bos_token_id is not None else eos
            ids = torch.tensor([[bos, *ids, eos] if eos is not None else [bos, *ids]])
            with torch.no_grad():
                logits = self.model(ids).logits[0, :-1].double()
            logprobs = torch.log_softmax(logits, dim=-1).gather(1, ids[0, 1:, None])
            results.append((float(logprobs.sum()), int(ids.shape[1] - 1)))
        return results


def load_text_lm(directory: str | Path) -> TextLM:
    """Open a text LM folder: a spokenlm word n-gram (``"type": "ngram"``) or a HF causal LM."""
    from spokenlm.eval.textlm import WordNGramLM

    directory = Path(directory)
    config_path = directory / "config.json"
    if not config_path.is_file():
        raise SpokenLMError(f"{directory}: not a text LM folder (no config.json)")
    if json.loads(config_path.read_text()).get("type") == "ngram":
        return WordNGramLM.from_pretrained(directory)
    return HFCausalLM(directory)


def perplexity(lm: TextLM, texts: Sequence[str]) -> float:
    """Corpus perplexity of ``texts`` under ``lm``; ``nan`` when there are no tokens."""
    scores = lm.text_logprobs([t for t in texts if t.strip()])
    tokens = sum(n for _, n in scores)
    return math.exp(-sum(s for s, _ in scores) / tokens) if tokens else float("nan")
