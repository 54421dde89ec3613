"""The one transformer: streaming equals offline (also after the ring wraps), rows are independent streams
(per-row reset and exec masks), left padding is not stored, state get/set, detached children."""

import pytest
import torch

from spokenlm.errors import SpokenLMError
from spokenlm.nn.streaming import StreamingModule
from spokenlm.nn.transformer import ROTARY_TABLE_MAX, Transformer, TransformerConfig, rotary_tables, window_mask


def make(**kw) -> Transformer:
    torch.manual_seed(0)
    config = {"dim": 32, "layers": 2, "heads": 4, "kv_heads": 2, "context": 6, **kw}
    return Transformer(TransformerConfig(**config)).eval()


def sliding(model: Transformer, x: torch.Tensor) -> torch.Tensor:
    """The offline pass with the sliding window a streaming row keeps."""
    positions = torch.arange(x.shape[1])
    return model(x, mask=window_mask(positions, positions, True, model.config.stream_context)[None, None])


@pytest.mark.parametrize("kw", [{}, {"window": 4}, {"norm": "layer", "mlp": "gelu", "qkv_bias": True, "out_bias": True}])
def test_frame_by_frame_and_chunks_equal_offline_past_the_ring(kw) -> None:
    model = make(**kw)
    x = torch.randn(3, 20, 32)  # 20 frames through a ring of 6 (or 4)
    with torch.no_grad():
        offline = sliding(model, x) if "window" not in kw else model(x)
        with model.streaming(3):
            frames = torch.cat([model(x[:, t : t + 1]) for t in range(20)], 1)
        with model.streaming(3):
            chunks = torch.cat([model(x[:, a:b]) for a, b in ((0, 1), (1, 9), (9, 10), (10, 20))], 1)
    torch.testing.assert_close(frames, offline, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(chunks, offline, atol=1e-5, rtol=1e-5)


def test_rows_are_independent_streams_under_reset_and_exec_masks() -> None:
    """Batch of 3: row 0 is reset after frame 5, row 1 is exec-masked for frames 3..6; each row equals running it alone."""
    model = make()
    x = torch.randn(3, 14, 32)
    outputs = {0: [], 1: [], 2: []}
    with torch.no_grad(), model.streaming(3):
        for t in range(14):
            if t == 6:
                model.reset_streaming(torch.tensor([True, False, False]))
            model.set_exec_mask(torch.tensor([True, not 3 <= t <= 6, True]))
            y = model(x[:, t : t + 1])
            for row in range(3):
                if row != 1 or not 3 <= t <= 6:
                    outputs[row].append(y[row])
        model.set_exec_mask(None)
    with torch.no_grad():
        alone = {
            0: torch.cat([sliding(model, x[:1, :6])[0], sliding(model, x[:1, 6:])[0]]),
            1: sliding(model, torch.cat([x[1:2, :3], x[1:2, 7:]], 1))[0],
            2: sliding(model, x[2:3])[0],
        }
    for row in range(3):
        torch.testing.assert_close(torch.cat(outputs[row]), alone[row], atol=1e-5, rtol=1e-5)


def test_left_padding_is_not_stored_and_positions_start_at_each_rows_first_frame() -> None:
    model = make(context=32)
    a, b = torch.randn(1, 7, 32), torch.randn(1, 3, 32)
    padded = torch.cat([a, torch.cat([torch.zeros(1, 4, 32), b], 1)])
    valid = torch.tensor([[True] * 7, [False] * 4 + [True] * 3])
    nxt = torch.randn(2, 1, 32)
    with torch.no_grad():
        with model.streaming(2):
            model(padded, valid=valid)
            last = model(nxt)
        torch.testing.assert_close(last[0], model(torch.cat([a, nxt[:1]], 1))[0, -1:], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(last[1], model(torch.cat([b, nxt[1:]], 1))[0, -1:], atol=1e-5, rtol=1e-5)


def test_get_and_set_state_resume_a_stream() -> None:
    model = make()
    x = torch.randn(2, 12, 32)
    with torch.no_grad(), model.streaming(2):
        model(x[:, :5])
        saved = model.get_streaming_state()
        first = model(x[:, 5:])
        model.set_streaming_state(saved)
        again = model(x[:, 5:])
        with pytest.raises(SpokenLMError, match="lacks module"):
            model.set_streaming_state({})
    torch.testing.assert_close(again, first)
    with pytest.raises(SpokenLMError, match="streaming\\(\\) context"):
        model.get_streaming_state()


def test_a_detached_child_keeps_out_of_its_parents_context() -> None:
    class Outer(StreamingModule):
        def __init__(self) -> None:
            super().__init__()
            self.main = make()
            self.inner = make().detach_streaming()

    outer = Outer()
    with outer.streaming(2):
        assert outer.main.is_streaming and not outer.inner.is_streaming
        assert all("inner" not in path for path in outer.get_streaming_state())
        with outer.inner.streaming(5):
            assert outer.inner.blocks[0].attn._state.offset.shape == (5,)


def test_a_bidirectional_transformer_refuses_to_stream_and_sees_both_ways() -> None:
    model = make(causal=False, window=3, layers=1)
    x = torch.randn(1, 8, 32)
    with pytest.raises(SpokenLMError, match="bidirectional"):
        with model.streaming(1):
            pass
    with torch.no_grad():
        changed = x.clone()
        changed[:, 5] += 1.0
        delta = (model(changed) - model(x)).abs().amax(-1)[0]
    assert delta[3:8].min() > 0 and delta[:3].max() == 0  # frames 3..7 see frame 5 (|d| < 3), earlier ones do not


def test_streaming_rotary_table_equals_the_angles_computed_per_position() -> None:
    """The table a streaming transformer looks rotary angles up in (and the direct path past its end) equal rotary_tables."""
    model = make()
    positions = torch.tensor([[0, 5, 63], [64, 200, ROTARY_TABLE_MAX + 3]])
    with model.streaming(2):
        for rows in (positions[:, :2], positions[:1], positions):
            for looked_up, computed in zip(model.rotary(rows), rotary_tables(rows, model.config.per_head, model.config.rope_theta)):
                torch.testing.assert_close(looked_up, computed, atol=1e-6, rtol=0)


@pytest.mark.parametrize("mlp", ["swiglu", "gelu"])
def test_weights_per_step_give_each_position_its_own_projections(mlp) -> None:
    model = make(weights_per_step=6, mlp=mlp, qkv_bias=mlp == "gelu")
    x = torch.randn(2, 6, 32)
    with torch.no_grad():
        before = model(x)
        with model.streaming(2):
            stepped = torch.cat([model(x[:, t : t + 1]) for t in range(6)], dim=1)
        assert torch.allclose(stepped, before, atol=1e-5)  # streaming picks the same set per position
        for block in model.blocks:  # new weights for position 3 only
            for layer in (block.attn.qkv, block.attn.out, *block.mlp.children()):
                if hasattr(layer, "weight") and layer.weight.dim() == 3:
                    layer.weight[3].normal_()
        after = model(x)
    assert torch.equal(after[:, :3], before[:, :3]) and not torch.allclose(after[:, 3], before[:, 3])
    assert model.matmul_weights() == make(mlp=mlp, qkv_bias=mlp == "gelu").matmul_weights()  # one set per frame
    with pytest.raises(SpokenLMError, match="weights_per_step=6"):
        model(torch.randn(1, 7, 32))
    with pytest.raises(Exception, match="weights_per_step=4"):
        make(weights_per_step=4)  # its streaming context (6) reaches positions without weights
