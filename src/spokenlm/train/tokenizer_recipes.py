"""``spokenlm train-tokenizer``: a recipe's ``type`` picks how the tokenizer is made.

Fitted without gradient steps (:mod:`spokenlm.tokenizers`): ``kmeans`` (an encoder + k-means,
+ dedup, + BPE) and ``mel`` (dMel bins or residual k-means of log-mels). Trained on the loop
(:mod:`spokenlm.train.tasks`): ``phone``, ``codec``, ``mixed`` and ``hubert`` (iterations of
masked prediction, then k-means).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from spokenlm.config import load_config, parse_overrides, read_yaml
from spokenlm.errors import ConfigError
from spokenlm.registry import Registry
from spokenlm.tokenizers.base import SpeechTokenizer
from spokenlm.tokenizers.mel_train import train_mel_tokenizer
from spokenlm.tokenizers.train_kmeans import train_kmeans_tokenizer
from spokenlm.train.loop import Loop
from spokenlm.train.tasks.codec import CodecTask, CodecTrainConfig
from spokenlm.train.tasks.hubert import train_hubert_tokenizer
from spokenlm.train.tasks.phone import PhoneTrainConfig, train_phone_tokenizer

Recipe = Callable[[str | Path | None, Sequence[str], str | Path], SpeechTokenizer | None]
TOKENIZER_RECIPES: Registry[Recipe] = Registry("tokenizer recipe type")
TOKENIZER_RECIPES.register("kmeans")(train_kmeans_tokenizer)
TOKENIZER_RECIPES.register("mel")(train_mel_tokenizer)
TOKENIZER_RECIPES.register("hubert")(train_hubert_tokenizer)


@TOKENIZER_RECIPES.register("phone")
def train_phone_recipe(config_path: str | Path | None, overrides: Sequence[str], out_dir: str | Path) -> SpeechTokenizer | None:
    """A ``type: phone`` recipe plus ``key=value`` overrides → the phone tokenizer in ``out_dir``."""
    return train_phone_tokenizer(load_config(PhoneTrainConfig, config_path, list(overrides)), out_dir)


def _codec_recipe(kind: str) -> Recipe:
    def train(config_path: str | Path | None, overrides: Sequence[str], out_dir: str | Path) -> SpeechTokenizer | None:
        config = load_config(CodecTrainConfig, config_path, list(overrides), base=CodecTrainConfig(type=kind, name=kind))
        if config.type != kind:
            raise ConfigError(f"recipe type {config.type!r} given to the {kind!r} trainer")
        task = CodecTask(config)
        Loop(task, out_dir).fit()
        return task.artifact

    train.__doc__ = f"A ``type: {kind}`` recipe plus ``key=value`` overrides → the {kind} tokenizer in ``out_dir``."
    return train


TOKENIZER_RECIPES.register("codec")(_codec_recipe("codec"))
TOKENIZER_RECIPES.register("mixed")(_codec_recipe("mixed"))


def recipe_type(config_path: str | Path | None, overrides: Sequence[str]) -> str:
    """The ``type`` of a recipe: from the overrides, else from the YAML file."""
    kind = parse_overrides(list(overrides)).get("type")
    if kind is None and config_path is not None:
        kind = read_yaml(config_path).get("type")
    if kind is None:
        raise ConfigError(f"the recipe has no 'type' (one of {', '.join(TOKENIZER_RECIPES.names())})")
    return str(kind)


def train_tokenizer(config_path: str | Path | None, overrides: Sequence[str], out_dir: str | Path) -> SpeechTokenizer | None:
    """Make the tokenizer a recipe describes (its ``type`` picks how) and save it into ``out_dir``; ``None`` on ranks but the main one."""
    return TOKENIZER_RECIPES.get(recipe_type(config_path, overrides))(config_path, overrides, out_dir)
