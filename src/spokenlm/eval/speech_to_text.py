"""Speech→text continuation as ASR: a speech+text LM continues ``BOS [SPEECH] units [TEXT]`` with text, greedily.

The transcript is the run of text ids the model writes before its first non-text id (EOS, a marker or a unit), decoded
by the text tokenizer; the word error rate is against the reference transcripts (normalised as :mod:`spokenlm.eval.wer`
does). The no-audio baseline is the same model given only ``BOS [TEXT]``: the one sentence it writes for every
utterance, so a WER below the baseline's means the model read the speech.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from spokenlm.data.vocab import Vocabulary
from spokenlm.eval.wer import error_rates
from spokenlm.generate.sampling import sample
from spokenlm.tokenizers.text import TextTokenizer


def leading_text(ids: Sequence[int] | np.ndarray | torch.Tensor, vocab: Vocabulary) -> list[int]:
    """The text ids ``[n]`` (text-token ids, not model ids) of the run of text model ids that ``ids`` starts with."""
    out = []
    for i in np.asarray(ids, dtype=np.int64).tolist():
        if not vocab.text_offset <= i < vocab.size:
            break
        out.append(i - vocab.text_offset)
    return out


def transcribe(model: Any, units: Sequence[np.ndarray], text: TextTokenizer, max_new_tokens: int = 48) -> list[str]:
    """Greedy text continuations of ``BOS [SPEECH] units [TEXT]`` for each unit sequence ``[T_i]`` (an empty one: the
    no-audio prompt ``BOS [TEXT]``)."""
    vocab = model.vocab
    prompts = [torch.as_tensor(np.concatenate([[vocab.bos_id], [vocab.speech_id, *(np.asarray(u) + vocab.unit_offset)] if len(u) else [],
                                               [vocab.text_id]]).astype(np.int64)) for u in units]
    return [text.decode(leading_text(new, vocab)) for new in sample(model, prompts, max_new_tokens, temperature=0.0)]


def speech_to_text_wer(model: Any, units: Sequence[np.ndarray], references: Sequence[str], text: TextTokenizer,
                       max_new_tokens: int = 48) -> dict[str, Any]:
    """WER (and CER) of the model's transcripts of ``units`` against ``references``, beside the no-audio baseline's,
    with the first 5 transcripts."""
    hypotheses = transcribe(model, units, text, max_new_tokens)
    (baseline,) = transcribe(model, [np.zeros(0, dtype=np.int64)], text, max_new_tokens)
    return {"asr": error_rates(list(references), hypotheses), "no_audio": error_rates(list(references), [baseline] * len(references)),
            "no_audio_text": baseline, "examples": [{"reference": r, "transcript": h} for r, h in zip(references[:5], hypotheses[:5])]}
