"""Modality adapters: output shape, counts and rate (tokens per second of speech) of each, on real speech features."""

from __future__ import annotations

import math

import pytest
import torch

from spokenlm.encoders.spectral import LogMelConfig, LogMelEncoder
from spokenlm.errors import ConfigError
from spokenlm.models.adapters import ADAPTERS, AdapterConfig, CTCAdapter, build_adapter
from spokenlm.nn.transformer import TransformerConfig

LM_DIM = 24
TINY_TRANSFORMER = TransformerConfig(dim=32, layers=1, heads=2)


@pytest.fixture(scope="module")
def features(lj_wav, asr_clips) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Log-mel features (50 Hz, 40 bands) of LJ001-0001's first 3 s and 1.3 s of it, padded: ``[2, T, 40]``, lengths, frame rate."""
    encoder = LogMelEncoder(LogMelConfig(n_mels=40))
    rows = [encoder.extract(lj_wav[:48000]), encoder.extract(lj_wav[:20800])]
    lengths = torch.tensor([len(r) for r in rows])
    padded = torch.zeros(2, int(lengths.max()), 40)
    for b, row in enumerate(rows):
        padded[b, : len(row)] = row
    return padded, lengths, encoder.frame_rate


def config(kind: str) -> AdapterConfig:
    return AdapterConfig(type=kind, stack=4, strides=[2, 3], hidden=32, queries=3, window=10, transformer=TINY_TRANSFORMER)


def seconds(lengths: torch.Tensor, rate: float) -> list[float]:
    return [n / rate for n in lengths.tolist()]


@pytest.mark.parametrize(
    ("kind", "expected_counts", "expected_rate"),
    [
        ("linear", lambda n: math.ceil(n / 4), lambda fr: fr / 4),
        ("conv", lambda n: (((n - 1) // 2 + 1) - 1) // 3 + 1, lambda fr: fr / 6),
        ("window-qformer", lambda n: math.ceil(n / 10) * 3, lambda fr: 3 * fr / 10),
    ],
)
def test_fixed_rate_adapters(features, kind, expected_counts, expected_rate) -> None:
    x, lengths, frame_rate = features
    torch.manual_seed(0)
    adapter = build_adapter(config(kind), 40, LM_DIM, frame_rate)
    out, counts = adapter(x, lengths)
    assert counts.tolist() == [expected_counts(n) for n in lengths.tolist()]
    assert out.shape == (2, int(counts.max()), LM_DIM)
    assert torch.all(out[1, counts[1]:] == 0) and torch.all(out[1, : counts[1]].abs().sum(-1) > 0)
    assert adapter.output_rate() == pytest.approx(expected_rate(frame_rate))
    # the stated rate is what the adapter gives on the long utterance, to within one (partial) group
    measured = counts[0].item() / seconds(lengths, frame_rate)[0]
    assert abs(measured - adapter.output_rate()) * seconds(lengths, frame_rate)[0] <= 3


def test_padding_does_not_change_a_row(features) -> None:
    """The short row alone gives the same tokens as inside the padded batch (padding is masked)."""
    x, lengths, frame_rate = features
    for kind in ("linear", "conv", "qformer", "window-qformer"):
        torch.manual_seed(0)
        adapter = build_adapter(config(kind), 40, LM_DIM, frame_rate).eval()
        batched, counts = adapter(x, lengths)
        alone, alone_counts = adapter(x[1:, : lengths[1]], lengths[1:])
        assert alone_counts[0] == counts[1]
        torch.testing.assert_close(alone[0], batched[1, : counts[1]], atol=1e-5, rtol=1e-4, msg=kind)


def test_qformer_gives_queries_per_utterance(features) -> None:
    x, lengths, frame_rate = features
    adapter = build_adapter(config("qformer"), 40, LM_DIM, frame_rate)
    out, counts = adapter(x, lengths)
    assert out.shape == (2, 3, LM_DIM) and counts.tolist() == [3, 3]
    assert adapter.output_rate(seconds=1.5) == pytest.approx(2.0)
    with pytest.raises(ConfigError, match="duration"):
        adapter.output_rate()


def test_ctc_compression_keeps_one_token_per_non_blank_run(features) -> None:
    """Hand-worked: one-hot frames whose CTC argmax is blank, a, a, blank, b, b, a, blank | a, blank, a → 3 | 2 tokens,
    each the projection of its run's mean frame."""
    torch.manual_seed(0)
    adapter = build_adapter(config("ctc"), 3, LM_DIM, 50.0)
    assert isinstance(adapter, CTCAdapter)
    with torch.no_grad():  # logit of class c = 10 × feature c (blank is class 0)
        adapter.head.weight.zero_()
        adapter.head.bias.zero_()
        adapter.head.weight[:3] = 10 * torch.eye(3)
    labels = [[0, 1, 1, 0, 2, 2, 1, 0], [1, 0, 1]]
    x = torch.zeros(2, 8, 3)
    for b, row in enumerate(labels):
        x[b, torch.arange(len(row)), torch.tensor(row)] = 1.0
    out, counts = adapter(x, torch.tensor([8, 3]))
    assert counts.tolist() == [3, 2] and out.shape == (2, 3, LM_DIM)
    one_hot = torch.eye(3)
    expected = adapter.project(one_hot[[1, 2, 1]])
    torch.testing.assert_close(out[0], expected)
    torch.testing.assert_close(out[1, :2], expected[[0, 2]])
    assert torch.all(out[1, 2] == 0)
    assert adapter.output_rate() == 50.0  # the upper bound; the kept tokens follow the speech

    real, lengths, frame_rate = features
    adapter = build_adapter(config("ctc"), 40, LM_DIM, frame_rate)
    _, counts = adapter(real, lengths)
    assert torch.all(counts <= lengths)
    loss = adapter.auxiliary_loss(real, lengths, ["printing in the only sense", "printing"])
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    assert adapter.head.weight.grad.abs().sum() > 0


def test_every_adapter_is_registered_and_gives_gradients(features) -> None:
    x, lengths, frame_rate = features
    assert ADAPTERS.names() == ["conv", "ctc", "linear", "qformer", "window-qformer"]
    for kind in ADAPTERS.names():
        adapter = build_adapter(config(kind), 40, LM_DIM, frame_rate)
        out, _ = adapter(x, lengths)
        out.sum().backward()
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in adapter.parameters()), kind
