"""Sampling (batched through streaming state, filters, EOS, delayed and depth multi-stream models) and the log_likelihood scoring API."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from spokenlm.data.vocab import encode_frames
from spokenlm.generate import sample
from spokenlm.generate.sampling import filter_logits
from spokenlm.layouts.delay import delay, undelay
from spokenlm.layouts.spec import StreamSpec
from spokenlm.models import UnitLM, UnitLMConfig
from spokenlm.models.config import DepthConfig
from spokenlm.models.scoring import log_likelihood, unit_log_likelihood


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return UnitLM(UnitLMConfig(n_units=30, dim=32, n_layers=2, n_heads=4, max_seq_len=64)).eval()


def test_batched_ragged_prompts_equal_one_by_one(model):
    prompts = [model.vocab.encode_units(u) for u in ([1, 2, 3, 4, 5, 6, 7], [9], [4, 4, 8])]
    for kwargs in ({"temperature": 0}, {"temperature": 1.0, "top_k": 5}):
        batched = sample(model, prompts, 10, eos_id=-1, **kwargs)
        if kwargs["temperature"] == 0:
            alone = [sample(model, [p], 10, eos_id=-1, **kwargs)[0] for p in prompts]
            assert [b.tolist() for b in batched] == [a.tolist() for a in alone]
        assert all(len(b) == 10 for b in batched)
    first = sample(model, prompts, 10, temperature=1.0, seed=3, eos_id=-1)
    again = sample(model, prompts, 10, temperature=1.0, seed=3, eos_id=-1)
    assert [a.tolist() for a in first] == [b.tolist() for b in again]


def test_greedy_equals_argmax_of_full_forward(model):
    prompt = model.vocab.encode_units([5, 6, 7])
    out = sample(model, [prompt], 5, temperature=0, eos_id=-1)[0]
    seq = prompt.clone()
    for _ in range(5):
        seq = torch.cat([seq, model(seq[None])[0, -1].argmax()[None]])
    assert out.tolist() == seq[len(prompt):].tolist()
    assert sample(model, [prompt], 5, temperature=1.0, top_k=1, eos_id=-1)[0].tolist() == out.tolist()


@pytest.mark.slow
def test_compiled_step_equals_eager_on_ragged_prompts(model):
    """compile=True (the backbone's one-frame forward through torch.compile, over the whole ring) decodes as eager does,
    on ragged one-stream prompts and on a delayed depth-head model (its depth transformer compiled too)."""
    depth = streams_model("depth")
    cases = [(model, [model.vocab.encode_units(u) for u in ([1, 2, 3, 4, 5, 6, 7], [9], [4, 4, 8])]),
             (depth, [encode_frames(depth.vocabs, torch.tensor([[1, 4, 4, 7], [0, 3, 8, 1], [6, 5, 4, 3]]))] * 2)]
    for lm, prompts in cases:
        eager = sample(lm, prompts, 12, temperature=0, eos_id=-1)
        compiled = sample(lm, prompts, 12, temperature=0, eos_id=-1, compile=True)
        assert [c.tolist() for c in compiled] == [e.tolist() for e in eager]


def test_units_only_and_eos(model):
    vocab = model.vocab
    prompt = vocab.encode_units([1, 2])
    outs = sample(model, [prompt] * 4, 30, temperature=2.0, units_only=True, eos_id=-1, seed=1)
    assert all(((o >= vocab.unit_offset) & (o < vocab.text_offset)).all() for o in outs)
    first = sample(model, [prompt], 30, temperature=0, eos_id=-1)[0]
    stopped = sample(model, [prompt], 30, temperature=0, eos_id=int(first[3]))[0]
    assert stopped.tolist() == first[: first.tolist().index(int(first[3]))].tolist()


def test_filter_logits_by_hand():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    assert torch.isinf(filter_logits(logits, top_k=2)).tolist() == [[False, False, True, True]]
    assert torch.isinf(filter_logits(logits, top_p=0.7)).tolist() == [[False, False, True, True]]
    assert torch.isinf(filter_logits(logits, top_p=0.5)).tolist() == [[False, True, True, True]]


def test_log_likelihood_matches_hand_computation(model):
    seqs = [model.vocab.encode_units(u) for u in ([1, 2, 3, 4], [7], [3, 3, 3, 3, 3, 3, 3, 3])]
    totals, counts = log_likelihood(model, [s.numpy() for s in seqs], batch_size=2)
    assert counts.tolist() == [4, 1, 8]
    for seq, total in zip(seqs, totals):
        with torch.no_grad():
            logp = F.log_softmax(model(seq[None])[0].double(), -1)
        expected = sum(float(logp[t - 1, seq[t]]) for t in range(1, len(seq)))
        assert float(total) == pytest.approx(expected, abs=1e-6)
    again, _ = unit_log_likelihood(model, [np.array([1, 2, 3, 4]), [7], [3] * 8], batch_size=32)
    torch.testing.assert_close(again, totals)


def test_uniform_model_scores_log_vocab():
    model = UnitLM(UnitLMConfig(n_units=11, dim=16, n_layers=1, n_heads=2, max_seq_len=16))
    for p in model.heads.parameters():
        torch.nn.init.zeros_(p)  # tied: zero embeddings and head → uniform predictions
    totals, counts = unit_log_likelihood(model, [[0, 1, 2]])
    assert float(totals[0]) == pytest.approx(-3 * math.log(model.vocab.size))


def test_log_likelihood_rejects_sequences_longer_than_the_model() -> None:
    from spokenlm.errors import SpokenLMError

    model = UnitLM(UnitLMConfig(n_units=10, dim=16, n_layers=1, n_heads=2, max_seq_len=8))
    with pytest.raises(SpokenLMError, match="longer than the model's max_seq_len 8"):
        log_likelihood(model, [np.arange(9) % 10 + 5])


def streams_model(head: str = "linear", delays=(0, 1, 2), per_step: bool = False) -> UnitLM:
    torch.manual_seed(0)
    specs = [StreamSpec("acoustic", size, 50.0, codebook=k, delay=d) for k, (size, d) in enumerate(zip((12, 9, 7), delays))]
    depth = DepthConfig(dim=16, layers=2, heads=2, weights_per_step=per_step)
    extra = {"head": "depth", "tie_embeddings": False, "depth": depth} if head == "depth" else {}
    return UnitLM(UnitLMConfig(streams=specs, dim=32, n_layers=2, n_heads=4, max_seq_len=64, **extra)).eval()


def test_delayed_greedy_generation_equals_argmax_of_full_forward():
    """Delay pattern (0, 1, 2): the prompt is delayed, the frames it fixes are forced, the output undelayed."""
    model = streams_model()
    frames = torch.tensor([[1, 4, 4, 7, 2], [0, 0, 3, 8, 1], [6, 5, 4, 3, 2]])
    prompt = encode_frames(model.vocabs, frames)  # [3, 6] with the BOS column
    out = sample(model, [prompt], 4, temperature=0, eos_id=-1)[0]
    delays = model.config.stream_delays
    seq = delay(prompt, delays, model.vocab.pad_id)
    n = prompt.shape[1]
    known = seq.clone()
    seq = seq[:, :n]
    for s in range(n, n + 4 + max(delays)):
        logits = model(seq[None])
        column = [int(known[k, s]) if s < n + delays[k] else int(logits[k][0, -1].argmax()) for k in range(3)]
        seq = torch.cat([seq, torch.tensor(column)[:, None]], 1)
    assert out.tolist() == undelay(seq, delays)[:, n:].tolist()
    assert out.shape == (3, 4)


@pytest.mark.parametrize("per_step", [False, True], ids=["shared", "weights-per-step"])
def test_depth_head_greedy_step_equals_teacher_forced_forward(per_step):
    model = streams_model("depth", delays=(0, 0, 0), per_step=per_step)
    prompt = encode_frames(model.vocabs, torch.tensor([[1, 4, 4], [0, 3, 8], [6, 5, 4]]))[None]
    with model.streaming(1):
        frame = model.step(prompt, lambda k, logits: logits.argmax(-1))[0]
    targets = torch.cat([prompt[:, :, 1:], torch.zeros(1, 3, 1, dtype=torch.long)], 2)
    for k in range(3):
        logits = model(prompt, targets=targets)[k][0, -1]
        assert int(logits.argmax()) == int(frame[k])
        targets[0, k, -1] = frame[k]  # stream k's choice conditions streams > k


def test_multi_stream_scores_every_delayed_token_by_hand():
    model = streams_model()
    units = np.array([[3, 1, 4, 1], [5, 0, 2, 6], [2, 6, 5, 3]])
    totals, counts = unit_log_likelihood(model, [units])
    delays = model.config.stream_delays
    seq = delay(encode_frames(model.vocabs, units), delays, model.vocab.pad_id)
    with torch.no_grad():
        logits = model(seq[None, :, :-1])
    expected = sum(float(F.log_softmax(logits[k][0, t].double(), -1)[seq[k, t + 1]])
                   for k in range(3) for t in range(seq.shape[1] - 1) if int(seq[k, t + 1]) not in (model.vocab.pad_id, model.vocab.bos_id))
    assert int(counts[0]) == 3 * 4 and float(totals[0]) == pytest.approx(expected, abs=1e-6)
