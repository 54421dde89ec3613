"""UnitLM: shapes, streaming == full forward, document masks, save→load round trips, old checkpoints, bad checkpoints."""

import json

import pytest
import torch

from spokenlm.errors import SpokenLMError
from spokenlm.layouts.spec import StreamSpec
from spokenlm.models import UnitLM, UnitLMConfig
from spokenlm.models.masks import document_mask


def tiny(**kw) -> UnitLM:
    torch.manual_seed(0)
    return UnitLM(UnitLMConfig(**{"n_units": 40, "dim": 32, "n_layers": 2, "n_heads": 4, "max_seq_len": 64, **kw})).eval()


def test_forward_shapes_single_and_multi_stream():
    model = tiny()
    ids = torch.randint(0, model.vocab.size, (2, 7))
    assert model(ids).shape == (2, 7, model.vocab.size)
    multi = tiny(streams=[StreamSpec("semantic", 40, 50.0), StreamSpec("acoustic", 12, 50.0, codebook=1)])
    sizes = [v.size for v in multi.vocabs]
    assert sizes == [45, 17] and [e.num_embeddings for e in multi.embeddings] == sizes  # each stream its own vocabulary
    logits = multi(torch.stack([torch.randint(0, 45, (2, 7)), torch.randint(0, 17, (2, 7))], 1))
    assert [tuple(x.shape) for x in logits] == [(2, 7, 45), (2, 7, 17)]
    with pytest.raises(SpokenLMError, match="streams"):
        multi(ids)


@pytest.mark.parametrize("residual, attention", [(0.0, 0.5), (0.5, 0.0)])
def test_residual_and_attention_dropout_are_separate(residual, attention):
    model = tiny(dropout=residual, attention_dropout=attention)
    ids = torch.randint(0, model.vocab.size, (2, 16))
    assert torch.equal(model(ids), model(ids))  # eval: no dropout at all
    model.train()
    assert not torch.allclose(model(ids), model(ids))
    assert model.backbone.blocks[0].attn.config.attention_dropout == attention


@pytest.mark.parametrize("kv_heads", [None, 2])
def test_streaming_chunks_equal_full_forward(kv_heads):
    model = tiny(n_kv_heads=kv_heads)
    ids = torch.randint(0, model.vocab.size, (3, 20))
    full = model(ids)
    with torch.no_grad(), model.streaming(3):
        pieces = [model(ids[:, a:b]) for a, b in ((0, 9), (9, 10), (10, 16), (16, 20))]
    torch.testing.assert_close(torch.cat(pieces, 1), full, atol=1e-5, rtol=1e-5)


def test_step_frame_by_frame_equals_forward_after_the_ring_wraps():
    """A stream 3× longer than the sliding window: step-by-step greedy choices and logits equal the offline pass."""
    model = tiny(window=8, max_seq_len=64)
    ids = torch.randint(5, 45, (2, 1, 24))
    full = model(ids)[0]  # offline, same sliding window
    seen = []

    def record(k, logits):
        seen.append(logits)
        return logits.argmax(-1)

    with model.streaming(2):
        for t in range(24):
            model.step(ids[:, :, t : t + 1], record)
    torch.testing.assert_close(torch.stack(seen, 1), full, atol=1e-5, rtol=1e-5)


def test_checkpoints_from_before_the_backbone_module_still_load(tmp_path):
    model = tiny()
    state = {k.removeprefix("backbone."): v for k, v in model.state_dict().items() if not k.startswith("heads.")}
    assert "blocks.0.attn.qkv.weight" in state and "norm.weight" in state  # the old key names
    again = UnitLM(model.config)
    again.load_weights(state, "old")
    ids = torch.randint(0, model.vocab.size, (2, 9))
    assert torch.equal(again(ids), model(ids))


def test_document_mask_makes_packed_documents_independent():
    model = tiny()
    a, b = torch.randint(5, 45, (1, 6)), torch.randint(5, 45, (1, 9))
    packed = torch.cat([a, b], 1)
    segments = torch.tensor([[0] * 6 + [1] * 9])
    mask, positions = document_mask(segments)
    assert positions.tolist() == [list(range(6)) + list(range(9))]
    out = model(packed, positions=positions, mask=mask)
    torch.testing.assert_close(out[:, :6], model(a), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out[:, 6:], model(b), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("tied", [True, False])
def test_save_load_round_trip(tmp_path, tied):
    model = tiny(tie_embeddings=tied, n_text=7)
    model.save_pretrained(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "config.json").read_text())["n_text"] == 7
    loaded = UnitLM.from_pretrained(tmp_path / "m").eval()
    ids = torch.randint(0, model.vocab.size, (2, 11))
    assert torch.equal(loaded(ids), model(ids))
    assert (loaded.heads[0].weight is loaded.embeddings[0].weight) == tied
    assert loaded.num_parameters() == model.num_parameters()


def test_bad_checkpoint_errors_name_the_file(tmp_path):
    with pytest.raises(SpokenLMError, match="config.json: missing"):
        UnitLM.from_pretrained(tmp_path)
    model = tiny()
    model.save_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    (tmp_path / "m" / "config.json").write_text(json.dumps({**config, "dim": 64}))
    with pytest.raises(SpokenLMError, match=str(tmp_path / "m")):
        UnitLM.from_pretrained(tmp_path / "m")
    model.save_pretrained(tmp_path / "t")
    weights = tmp_path / "t" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:7])  # a copy cut short
    with pytest.raises(SpokenLMError, match=f"{weights}: unreadable weights, truncated or not a safetensors file"):
        UnitLM.from_pretrained(tmp_path / "t")
    (tmp_path / "t" / "config.json").write_text("{not json")
    with pytest.raises(SpokenLMError, match="config.json: not valid JSON"):
        UnitLM.from_pretrained(tmp_path / "t")


def test_flops_per_token_counts_matmuls_and_attention():
    model = tiny()
    c = model.config
    per_layer = c.dim * 3 * c.dim + c.dim * c.dim + 3 * c.dim * c.hidden
    expected = 6 * (c.n_layers * per_layer + model.vocab.size * c.dim) + 12 * c.n_layers * 16 * c.dim
    assert model.flops_per_token(16) == expected
