"""HF interop: export to LlamaForCausalLM (logits and HF generate), TWIST warm start from tiny HF LMs."""

import json

import pytest
import torch

transformers = pytest.importorskip("transformers")

from spokenlm.errors import SpokenLMError  # noqa: E402
from spokenlm.generate import sample  # noqa: E402
from spokenlm.models import UnitLM, UnitLMConfig  # noqa: E402
from spokenlm.models.hf_llama import export_llama  # noqa: E402
from spokenlm.models.tiny_text_lm import write_tiny_llama  # noqa: E402


@pytest.mark.parametrize("tied", [True, False])
def test_export_matches_hf_llama_and_hf_generate_runs(tmp_path, tied):
    torch.manual_seed(0)
    model = UnitLM(UnitLMConfig(n_units=30, dim=32, n_layers=2, n_heads=4, n_kv_heads=2, max_seq_len=64, tie_embeddings=tied)).eval()
    export_llama(model, tmp_path / "hf")
    hf = transformers.LlamaForCausalLM.from_pretrained(tmp_path / "hf").eval()
    ids = torch.randint(5, 35, (2, 12))
    with torch.no_grad():
        torch.testing.assert_close(hf(ids).logits, model(ids), atol=1e-4, rtol=1e-4)
    prompt = model.vocab.encode_units([3, 1, 4, 1, 5])
    out = hf.generate(prompt[None], max_new_tokens=6, do_sample=False, eos_token_id=None, pad_token_id=0)
    ours = sample(model, [prompt], 6, temperature=0, eos_id=-1)[0]
    assert out[0, len(prompt):].tolist() == ours.tolist()


def test_a_flat_layout_exports_with_its_streams_and_parallel_streams_refuse(tmp_path):
    from spokenlm.layouts.spec import StreamSpec

    specs = [StreamSpec("acoustic", 16, 50.0, codebook=k) for k in range(3)]
    torch.manual_seed(0)
    flat = UnitLM(UnitLMConfig(streams=specs, layout="flat", dim=32, n_layers=1, n_heads=4, max_seq_len=64)).eval()
    export_llama(flat, tmp_path / "flat")
    config = json.loads((tmp_path / "flat" / "config.json").read_text())
    assert config["spokenlm_layout"]["layout"] == "flat" and len(config["spokenlm_layout"]["streams"]) == 3
    ids = flat.encode_frames(torch.tensor([[1, 2], [3, 4], [5, 6]]))  # [1, 1 + 3·2]: BOS, then frame by frame
    assert ids.tolist() == [[1, 6, 16 + 3 + 5, 32 + 5 + 5, 7, 16 + 4 + 5, 32 + 6 + 5]]
    hf = transformers.LlamaForCausalLM.from_pretrained(tmp_path / "flat").eval()
    with torch.no_grad():
        torch.testing.assert_close(hf(ids).logits, flat(ids), atol=1e-4, rtol=1e-4)
    parallel = UnitLM(UnitLMConfig(streams=specs, dim=32, n_layers=1, n_heads=4, max_seq_len=64))
    with pytest.raises(SpokenLMError, match="data.flatten=true"):
        export_llama(parallel, tmp_path / "parallel")


@pytest.mark.parametrize("tied", [True, False])
def test_warm_start_keeps_the_text_lm(tmp_path, tied):
    write_tiny_llama(tmp_path / "llama", vocab_size=50, dim=32, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=64, tied=tied)
    hf = transformers.LlamaForCausalLM.from_pretrained(tmp_path / "llama").eval()
    model = UnitLM.from_text_lm(tmp_path / "llama", n_units=20, keep_text=True).eval()
    vocab = model.vocab
    assert vocab.size == 5 + 20 + 50 and model.config.n_kv_heads == 2
    text = torch.randint(0, 50, (2, 9))
    with torch.no_grad():
        ours = model(vocab.text_to_ids(text))[..., vocab.text_offset :]
        torch.testing.assert_close(ours, hf(text).logits, atol=1e-4, rtol=1e-4)
    speech_only = UnitLM.from_text_lm(tmp_path / "llama", n_units=20, keep_text=False)
    assert speech_only.vocab.size == 25
    torch.testing.assert_close(speech_only.backbone.blocks[1].mlp.down.weight, hf.model.layers[1].mlp.down_proj.weight)
    speech_only.save_pretrained(tmp_path / "ours")
    assert UnitLM.from_pretrained(tmp_path / "ours").vocab.size == 25


def test_unsupported_text_lm_is_a_clear_error(tmp_path):
    (tmp_path / "gpt").mkdir()
    (tmp_path / "gpt" / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(SpokenLMError, match="gpt2.*not supported"):
        UnitLM.from_text_lm(tmp_path / "gpt", n_units=10)
    with pytest.raises(SpokenLMError, match="config.json: missing"):
        UnitLM.from_text_lm(tmp_path / "nothing", n_units=10)
