"""The pipelines on their own: MODEL_DIR errors, half-duplex and cascade replies to real speech, LM batching,
per-session vocoder state."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from spokenlm.errors import SpokenLMError
from spokenlm.serve.pipelines import PIPELINES, Audio, Text, build_pipeline
from spokenlm.serve.pipelines.half_duplex import session_vocoder
from spokenlm.serve.pipelines.model_dir import model_part


def test_registry_knows_both_pipelines():
    from spokenlm.serve.pipelines.base import import_builtin_pipelines

    import_builtin_pipelines()
    assert PIPELINES.names() == ["cascade", "half-duplex"]
    with pytest.raises(SpokenLMError, match="unknown pipeline 'duplex'; known: cascade, half-duplex"):
        build_pipeline("duplex", None)


def test_missing_model_parts_are_named(model_dir, tmp_path):
    broken = tmp_path / "run"
    shutil.copytree(model_dir, broken)
    shutil.rmtree(broken / "vocoder")
    with pytest.raises(SpokenLMError, match=r"no vocoder \(looked for vocoder/vocoder/config.json or vocoder/config.json\)"):
        build_pipeline("half-duplex", broken)
    with pytest.raises(SpokenLMError, match="MODEL_DIR not found"):
        model_part(tmp_path / "nowhere", "tokenizer")
    assert model_part(model_dir, "text LM", required=False) is None
    assert model_part(model_dir, "unit LM") == model_dir / "lm" / "model"


def test_half_duplex_answers_real_speech_with_audio(half_duplex, speech):
    events = list(half_duplex.open().respond(speech[0]))
    assert events and all(isinstance(e, Audio) for e in events)
    wav = np.concatenate([e.samples for e in events])
    assert half_duplex.output_rate == 16000 and len(wav) >= 40 * 320 and np.abs(wav).max() > 0.01


def test_sessions_share_vocoder_weights_not_streaming_state(half_duplex):
    a, b = session_vocoder(half_duplex.vocoder), session_vocoder(half_duplex.vocoder)
    assert a.net is not b.net
    assert next(a.net.parameters()) is next(half_duplex.vocoder.net.parameters())


def test_concurrent_turns_are_sampled_in_one_batch(half_duplex, speech):
    before = half_duplex.sampler.batches
    tokens = [half_duplex.tokenizer.encode(wav, 16000)[0].ids[0] for wav in speech]
    futures = [half_duplex.sampler.submit(units) for units in tokens]
    results = [f.result(60) for f in futures]
    assert all(len(r) == 40 for r in results)
    assert half_duplex.sampler.batches - before < len(tokens)  # the ones queued together shared a batch


def test_half_duplex_sessions_run_side_by_side(half_duplex, speech):
    with ThreadPoolExecutor(3) as pool:
        replies = list(pool.map(lambda wav: list(half_duplex.open().respond(wav)), speech))
    assert all(replies)


def test_cascade_transcribes_and_answers_in_words(cascade, speech):
    events = list(cascade.open().respond(speech[0]))
    texts = [e for e in events if isinstance(e, Text)]
    assert texts[0].role == "user" and "child" in texts[0].text.lower()
    assert texts[1].role == "model" and len(texts[1].text.split()) >= 3
    wav = np.concatenate([e.samples for e in events if isinstance(e, Audio)])
    assert len(wav) > 16000 * 0.5 and np.abs(wav).max() > 0.05
