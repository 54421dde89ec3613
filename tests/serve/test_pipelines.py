"""The pipelines on their own: MODEL_DIR errors, half-duplex and cascade replies to real speech, sessions as rows of
one LM state (chunked prefill and steps equal offline sampling), streamed replies equal to offline ones, per-session
vocoder state."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

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


@pytest.fixture(scope="module")
def greedy(model_dir):
    """The half-duplex pipeline over the tiny MODEL_DIR with greedy 24-unit replies (not warmed up)."""
    from spokenlm.serve.pipelines.half_duplex import HalfDuplexConfig, HalfDuplexPipeline

    return HalfDuplexPipeline.load(model_dir, HalfDuplexConfig(temperature=0.0, reply_units=24, rows=4))


def greedy_continuation(pipeline, units: np.ndarray, n: int) -> np.ndarray:
    """The offline reply: :func:`sample` at temperature 0 over speech units, as units ``[n]``."""
    from spokenlm.generate.sampling import sample

    vocab = pipeline.model.vocab
    new = sample(pipeline.model, [vocab.encode_units(units)], n, temperature=0.0, eos_id=-1, units_only=True)[0]
    return vocab.ids_to_units(new).numpy()


def test_rows_prefilled_in_chunks_beside_other_rows_continue_as_offline(greedy, speech):
    """Incremental prefill == offline prefill, and the step path == sample() at temperature 0, while other rows of the
    shared state are busy in the same forward passes."""
    from spokenlm.serve.pipelines.half_duplex import UnitPicker
    from spokenlm.serve.pipelines.lm_rows import LMRows

    vocab = greedy.model.vocab
    prompts = [greedy.tokenizer.encode(wav, 16000)[0].ids[0] for wav in speech]
    rows = LMRows(greedy.model, 4)
    pick = UnitPicker(greedy.model, greedy.config, seed=0)
    ids = [vocab.encode_units(units) for units in prompts]
    chunked = [rows.advance(0, ids[0][:5], pick, reset=True)]  # row 0 in chunks of 5, the others in one piece
    chunked += [rows.advance(0, ids[0][start : start + 5], pick) for start in range(5, len(ids[0]), 5)]
    replies = {row: [rows.advance(row, ids[row], pick, reset=True).result()] for row in (1, 2)}
    replies[0] = [chunked[-1].result()]
    for _ in range(11):
        futures = {row: rows.advance(row, torch.tensor([reply[-1]]), pick) for row, reply in replies.items()}
        for row, future in futures.items():
            replies[row].append(future.result())
    assert rows.calls < len(chunked) + 3 * 12  # rows shared forward passes
    for row, units in enumerate(prompts):
        np.testing.assert_array_equal(np.array(replies[row]) - vocab.unit_offset, greedy_continuation(greedy, units, 12))


def test_streamed_reply_equals_the_offline_reply_voiced_offline(greedy, speech):
    from spokenlm.tokens import Tokens

    responder = greedy.open()
    pieces = [e.samples for e in responder.respond(speech[1])]
    responder.close()
    units = greedy_continuation(greedy, greedy.tokenizer.encode(speech[1], 16000)[0].ids[0], 24)
    offline = greedy.vocoder(Tokens(units[None], greedy.tokenizer.frame_rate), greedy.speaker, predict_durations=True)
    assert len(pieces) > 2 and len(pieces[0]) < len(offline) / 4  # audio starts before the reply is complete
    np.testing.assert_allclose(np.concatenate(pieces), offline, atol=1e-5)


@pytest.mark.parametrize("causal, lookahead", [(False, 0), (True, 3)])
def test_a_vocoder_that_hears_coming_units_voices_the_reply_as_offline(model_dir, speech, tmp_path, causal, lookahead):
    """Not causal (the tiny quickstart's): the reply is sampled first, then voiced as one piece (chunked for sending).
    Causal with 3 frames of look-ahead: streamed 3 frames late, the last frames flushed at the reply's end. Both equal
    voicing the same units offline."""
    from spokenlm.serve.pipelines.half_duplex import HalfDuplexConfig, HalfDuplexPipeline
    from spokenlm.tokens import Tokens
    from spokenlm.vocoders import UnitVocoder, load_vocoder

    other = shutil.copytree(model_dir, tmp_path / "model_dir")
    config = load_vocoder(other / "vocoder" / "vocoder").config
    config.istft.causal, config.lookahead_frames = causal, lookahead
    torch.manual_seed(1)
    UnitVocoder(config).save_pretrained(other / "vocoder" / "vocoder")
    pipeline = HalfDuplexPipeline.load(other, HalfDuplexConfig(temperature=0.0, reply_units=24, rows=2))
    assert pipeline.vocoder.streamable == causal
    responder = pipeline.open()
    pieces = [e.samples for e in responder.respond(speech[1])]
    responder.close()
    units = greedy_continuation(pipeline, pipeline.tokenizer.encode(speech[1], 16000)[0].ids[0], 24)
    offline = pipeline.vocoder(Tokens(units[None], pipeline.tokenizer.frame_rate), pipeline.speaker, predict_durations=True)
    if causal:
        assert len(pieces) > 2 and len(pieces[0]) < len(offline) / 4  # audio starts before the reply is complete
    np.testing.assert_allclose(np.concatenate(pieces), offline, atol=1e-5)


def test_heard_turn_is_prefilled_before_it_ends(greedy, speech):
    responder = greedy.open()
    turn = np.concatenate([speech[2], np.zeros(3200, np.float32)])
    responder.begin()
    for start in range(0, len(turn), 512):
        responder.hear(turn[start : start + 512])
        responder.prepare()
    fed_while_speaking = responder.fed
    wav = np.concatenate([e.samples for e in responder.respond(turn)])
    responder.close()
    offline = len(greedy.tokenizer.encode(turn, 16000)[0].ids[0]) + 1  # with the BOS
    assert fed_while_speaking > 0.5 * offline  # most of the turn was in the LM before its end
    assert len(wav) > 0 and np.abs(wav).max() > 0.01


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
