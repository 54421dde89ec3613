"""The vocoder corpus cache: a rerun reuses token ids and d-vectors instead of recomputing them; another tokenizer's
cache is not reused, a truncated one is a one-line error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spokenlm.audio.loader import AudioDataConfig
from spokenlm.errors import SpokenLMError
from spokenlm.tokenizers.base import load_tokenizer
from spokenlm.train.tasks.vocoder_data import PreparationCache, load_vocoder_corpus
from spokenlm.vocoders.model import VocoderModelConfig
from spokenlm.train.tasks.vocoder import VocoderTrainConfig, resolve_model_config


def _refuse(*args, **kwargs):
    raise AssertionError("the tokenizer ran although the cache holds these utterances")


def test_rerun_reads_tokens_and_dvectors_from_the_cache(tmp_path: Path, tiny_tokenizer_dir: Path, asr_clips: list[Path]) -> None:
    data = AudioDataConfig(audio=[str(c) for c in asr_clips[:2]])
    tokenizer = load_tokenizer(tiny_tokenizer_dir)
    config = resolve_model_config(VocoderTrainConfig(model=VocoderModelConfig(kind="unit-mel", sample_rate=22050), speaker="dvector"), tokenizer)
    cache = tmp_path / "prepared.safetensors"
    first, _, _ = load_vocoder_corpus(data, tokenizer, config, "dvector", "", cache)
    assert cache.is_file()
    from spokenlm.audio.io import load_audio, resample

    wav, _ = load_audio(asr_clips[1], 22050)  # prepared in one batch == tokenized alone
    alone = tokenizer.encode(resample(wav, 22050, tokenizer.sample_rate), tokenizer.sample_rate)[0].expanded().ids
    np.testing.assert_array_equal(first[1].token_ids, alone)

    tokenizer.encode = _refuse
    second, _, _ = load_vocoder_corpus(data, tokenizer, config, "dvector", "", cache)
    assert len(first) == len(second) == 2
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.token_ids, b.token_ids)
        np.testing.assert_array_equal(a.ids, b.ids)
        np.testing.assert_array_equal(a.speaker, b.speaker)
        np.testing.assert_array_equal(a.target, b.target)

    tokenizer.name = "another-tokenizer"  # a cache written for other units is not used
    with pytest.raises(AssertionError, match="the tokenizer ran"):
        load_vocoder_corpus(data, tokenizer, config, "dvector", "", cache)


def test_preparation_cache_other_tokenizer_and_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "prepared.safetensors"
    cache = PreparationCache(path, "tokenizer-a")
    cache.put("item-1/tokens", np.arange(6, dtype=np.int64).reshape(1, 6))
    cache.save()
    np.testing.assert_array_equal(PreparationCache(path, "tokenizer-a").entries["item-1/tokens"], np.arange(6)[None])
    assert PreparationCache(path, "tokenizer-b").entries == {}  # made with another tokenizer: not reused
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(SpokenLMError, match=r"prepared\.safetensors: unreadable cache") as err:
        PreparationCache(path, "tokenizer-a")
    assert "\n" not in str(err.value)
