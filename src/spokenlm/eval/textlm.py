"""A small n-gram language model with interpolated Kneser-Ney smoothing, over any integer tokens.

Used as the text LM of generative perplexity when the user has no HF causal LM
(words of a text corpus, :func:`train_word_lm`) and as the phone n-gram topline
of sWUGGY (ARPAbet phone ids). Probabilities, for order ``n`` and discount ``d``::

    P(w | h) = max(c(h w) - d, 0) / c(h) + d * N1+(h •) / c(h) * P(w | h[1:])

with raw counts at the highest order, continuation counts (distinct left
neighbours) below it, and a uniform distribution over the vocabulary under the
unigrams. A context never seen backs off fully. Every sequence is padded with
``n - 1`` begin ids and ends with an end id, which is predicted and counted.

Saved as an HF-style folder: ``config.json`` (order, discount, vocabulary) and
``ngrams.json`` (counts), written atomically.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from spokenlm.atomic import atomic_directory
from spokenlm.errors import SpokenLMError

BOS, EOS = -1, -2


class NGramLM:
    """Interpolated Kneser-Ney n-gram LM over integer token ids in ``[0, vocab_size)``.

    Fits the pair runner's scorer interface: :meth:`log_likelihood`.
    """

    def __init__(self, order: int = 3, vocab_size: int = 0, discount: float = 0.75) -> None:
        if order < 1:
            raise SpokenLMError(f"n-gram order must be >= 1, got {order}")
        self.order = order
        self.vocab_size = vocab_size
        self.discount = discount
        # counts[k][context][word] for k = 1..order (context has k - 1 ids).
        self.counts: list[dict[tuple[int, ...], Counter[int]]] = [defaultdict(Counter) for _ in range(order + 1)]

    def _padded(self, tokens: Iterable[int]) -> list[int]:
        return [BOS] * (self.order - 1) + [int(t) for t in tokens] + [EOS]

    def fit(self, sequences: Iterable[Sequence[int]]) -> NGramLM:
        """Count n-grams of ``sequences`` (lists of ids); returns ``self``."""
        top = self.counts[self.order]
        for sequence in sequences:
            padded = self._padded(sequence)
            for i in range(self.order - 1, len(padded)):
                top[tuple(padded[i - self.order + 1 : i])][padded[i]] += 1
                if self.vocab_size <= padded[i] and padded[i] >= 0:
                    self.vocab_size = padded[i] + 1
        for k in range(self.order - 1, 0, -1):
            lower = self.counts[k]
            lower.clear()
            for context, words in self.counts[k + 1].items():
                for word in words:
                    lower[context[1:]][word] += 1  # one more distinct left neighbour
        return self

    def _prob(self, context: tuple[int, ...], word: int) -> float:
        k = len(context) + 1
        lower = 1.0 / (self.vocab_size + 1) if k == 1 else self._prob(context[1:], word)
        words = self.counts[k].get(context)
        if not words:
            return lower
        total = sum(words.values())
        return max(words.get(word, 0) - self.discount, 0.0) / total + self.discount * len(words) / total * lower

    def next_probs(self, context: Sequence[int]) -> np.ndarray:
        """``P(w | context)`` ``[vocab_size + 1]`` for ids ``0 … vocab_size-1`` and, last, the end of the sequence.

        ``context``: the ids so far (the begin padding is added, so ``[]`` is the start of a sequence).
        Equal to :meth:`_prob` for every word, computed for all words at once.
        """
        history = [BOS] * (self.order - 1) + [int(t) for t in context]
        probs = np.full(self.vocab_size + 1, 1.0 / (self.vocab_size + 1))
        for k in range(1, self.order + 1):
            words = self.counts[k].get(tuple(history[len(history) - k + 1 :]) if k > 1 else ())
            if not words:
                continue
            total = sum(words.values())
            probs = probs * (self.discount * len(words) / total)
            for word, count in words.items():
                probs[self.vocab_size if word == EOS else word] += max(count - self.discount, 0.0) / total
        return probs

    def sequence_logprob(self, tokens: Sequence[int]) -> tuple[float, int]:
        """Natural-log probability of ``tokens`` and its end, and the number of predicted tokens (``len + 1``)."""
        padded = self._padded(tokens)
        total = 0.0
        for i in range(self.order - 1, len(padded)):
            total += math.log(self._prob(tuple(padded[i - self.order + 1 : i]), padded[i]))
        return total, len(padded) - self.order + 1

    def log_likelihood(self, sequences: Sequence[Sequence[int]], batch_size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
        """Scorer interface: ``(sum_logprob [N], n_tokens [N])`` of each id sequence ``[T]``."""
        scores = [self.sequence_logprob(np.asarray(s).tolist()) for s in sequences]
        return torch.tensor([s for s, _ in scores], dtype=torch.float64), torch.tensor([n for _, n in scores])

    def perplexity(self, sequences: Sequence[Sequence[int]]) -> float:
        """``exp(-Σ log p / Σ tokens)`` over ``sequences``."""
        total, count = self.log_likelihood(sequences)
        return float(torch.exp(-total.sum() / count.sum()))

    def save_pretrained(self, directory: str | Path, extra_config: dict | None = None) -> Path:
        """Write ``config.json`` and ``ngrams.json`` into ``directory`` atomically."""
        config = {"type": "ngram", "order": self.order, "vocab_size": self.vocab_size, "discount": self.discount, **(extra_config or {})}
        top = [[list(context), list(words.items())] for context, words in self.counts[self.order].items()]
        with atomic_directory(directory) as tmp:
            (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n")
            (tmp / "ngrams.json").write_text(json.dumps(top))
        return Path(directory)

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> NGramLM:
        """Load a model written by :meth:`save_pretrained`."""
        directory = Path(directory)
        try:
            config = json.loads((directory / "config.json").read_text())
            top = json.loads((directory / "ngrams.json").read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise SpokenLMError(f"{directory}: not an n-gram LM folder ({err})") from err
        model = cls(config["order"], config["vocab_size"], config["discount"])
        model.counts[model.order] = defaultdict(Counter, {tuple(c): Counter(dict((int(w), n) for w, n in words)) for c, words in top})
        for k in range(model.order - 1, 0, -1):
            lower = model.counts[k]
            for context, words in model.counts[k + 1].items():
                for word in words:
                    lower[context[1:]][word] += 1
        return model


class WordNGramLM:
    """A word-level :class:`NGramLM` with its vocabulary: text in, log-probabilities out (for generative perplexity).

    Words outside the vocabulary map to ``<unk>`` (id 0).
    """

    def __init__(self, model: NGramLM, vocabulary: list[str]) -> None:
        self.model = model
        self.vocabulary = vocabulary
        self._index = {w: i for i, w in enumerate(vocabulary)}

    def ids(self, text: str) -> list[int]:
        """Word ids of ``text`` (lower-cased word tokens; unknown words → 0)."""
        from spokenlm.benchmarks.cmu_lexicon import words_of

        return [self._index.get(w, 0) for w in words_of(text)]

    def text_logprobs(self, texts: Sequence[str]) -> list[tuple[float, int]]:
        """``(natural-log probability, predicted tokens)`` per text."""
        return [self.model.sequence_logprob(self.ids(t)) for t in texts]

    def generate(self, prompt: str, max_words: int, temperature: float = 1.0, seed: int = 0, min_words: int = 0) -> str:
        """Continue ``prompt`` with sampled words until the end of a sentence or ``max_words`` (``<unk>`` never sampled;
        the sentence does not end before ``min_words``).

        ``temperature`` 0 is greedy. Returns the new words, space-separated (may be empty).
        """
        rng = np.random.default_rng(seed)
        context, words = self.ids(prompt), []
        for step in range(max_words):
            probs = self.model.next_probs(context)
            probs[0] = 0.0  # <unk>
            if step < min_words:
                probs[-1] = 0.0
            if temperature == 0:
                choice = int(probs.argmax())
            else:
                weights = probs ** (1.0 / temperature)
                choice = int(rng.choice(len(weights), p=weights / weights.sum()))
            if choice == len(self.vocabulary):
                break
            context.append(choice)
            words.append(self.vocabulary[choice])
        return " ".join(words)

    def save_pretrained(self, directory: str | Path) -> Path:
        """The n-gram folder plus the vocabulary in ``config.json``."""
        return self.model.save_pretrained(directory, {"vocabulary": self.vocabulary})

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> WordNGramLM:
        """Load a folder written by :meth:`save_pretrained`."""
        config = json.loads((Path(directory) / "config.json").read_text())
        if "vocabulary" not in config:
            raise SpokenLMError(f"{directory}: n-gram folder has no vocabulary (not a word LM)")
        return cls(NGramLM.from_pretrained(directory), config["vocabulary"])


def train_word_lm(sentences: Sequence[str], order: int = 3, min_count: int = 2, discount: float = 0.75) -> WordNGramLM:
    """Fit a word n-gram on ``sentences``; words seen fewer than ``min_count`` times become ``<unk>``."""
    from spokenlm.benchmarks.cmu_lexicon import words_of

    tokenized = [words_of(s) for s in sentences]
    counts = Counter(w for words in tokenized for w in words)
    vocabulary = ["<unk>", *sorted(w for w, n in counts.items() if n >= min_count)]
    lm = WordNGramLM(NGramLM(order, len(vocabulary), discount), vocabulary)
    lm.model.fit([lm._index.get(w, 0) for w in words] for words in tokenized)
    return lm
