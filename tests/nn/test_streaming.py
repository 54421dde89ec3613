"""Streaming equals offline for the shared causal layers."""

import torch
from torch import nn

from spokenlm.nn.streaming import CausalConv1d, CausalConvTranspose1d, StreamingModule


class _Stack(StreamingModule):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            CausalConv1d(1, 8, 7),
            nn.ELU(),
            CausalConv1d(8, 16, 4, stride=2),
            nn.ELU(),
            CausalConv1d(16, 16, 3, dilation=3),
            CausalConvTranspose1d(16, 8, 4, stride=2),
            nn.ELU(),
            CausalConv1d(8, 1, 5),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def _chunks(x: torch.Tensor, sizes: list[int]) -> list[torch.Tensor]:
    out, start = [], 0
    for size in sizes:
        out.append(x[..., start : start + size])
        start += size
    return out


def test_streaming_equals_offline_for_uneven_chunks() -> None:
    torch.manual_seed(0)
    model = _Stack().eval()
    x = torch.randn(2, 1, 400)
    with torch.no_grad():
        offline = model(x)
        with model.streaming(batch_size=2):
            streamed = torch.cat([model(c) for c in _chunks(x, [1, 7, 64, 3, 125, 200])], dim=-1)
    assert streamed.shape == offline.shape == (2, 1, 400)
    torch.testing.assert_close(streamed, offline, atol=1e-5, rtol=1e-5)


def test_reset_starts_a_new_stream_and_exit_clears_state() -> None:
    torch.manual_seed(1)
    conv = CausalConv1d(1, 2, 5, stride=1)
    x = torch.randn(1, 1, 50)
    with torch.no_grad():
        with conv.streaming():
            first = conv(x)
            conv.reset_streaming()
            second = conv(x)
        torch.testing.assert_close(first, second)
        assert conv._state is None and not conv.is_streaming
        torch.testing.assert_close(conv(x), first)


def test_transposed_conv_is_causal() -> None:
    torch.manual_seed(2)
    up = CausalConvTranspose1d(3, 2, kernel_size=6, stride=3)
    x = torch.randn(1, 3, 10)
    y = up(x)
    x2 = x.clone()
    x2[..., 6:] = 0.0
    y2 = up(x2)
    assert y.shape[-1] == 30
    torch.testing.assert_close(y[..., :18], y2[..., :18])
