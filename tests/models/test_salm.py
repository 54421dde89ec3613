"""The speech-aware text LM: tiny local HF LLaMA / Qwen2 folders as its text LM, LoRA save → load, bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from spokenlm.encoders.spectral import LogMelConfig, LogMelEncoder
from spokenlm.errors import SpokenLMError
from spokenlm.models.adapters import AdapterConfig
from spokenlm.models.salm import SALM, SALMConfig, Turn, ask
from spokenlm.models.text_lm import LoraConfig, TextLMConfig, TinyLMShape, write_tiny_chat_lm

TEXTS = ["Transcribe this.", "What did Ben find?", "One day, Ben found a red ball near the park.", "ball", "Ben"]


@pytest.fixture(scope="module")
def lm_dirs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("text-lms")
    shape = dict(dim=32, layers=1, heads=2, kv_heads=1, ffn_dim=64, max_positions=96)
    return {family: write_tiny_chat_lm(root / family, TEXTS, TinyLMShape(family=family, **shape)) for family in ("llama", "qwen2")}


@pytest.fixture(scope="module")
def features(lj_wav) -> torch.Tensor:
    """Log-mel features ``[T, 40]`` (50 Hz) of 1 s of LJ001-0001."""
    return LogMelEncoder(LogMelConfig(n_mels=40)).extract(lj_wav[:16000])


def salm_config(lm_dir: Path, mode: str = "frozen") -> SALMConfig:
    return SALMConfig(adapter=AdapterConfig(type="linear", stack=5, hidden=32), encoder={"type": "log-mel", "n_mels": 40},
                      encoder_dim=40, frame_rate=50.0, text_lm=TextLMConfig(path=str(lm_dir), mode=mode, lora=LoraConfig(rank=2)))


@pytest.mark.parametrize("family", ["llama", "qwen2"])
def test_tiny_local_hf_folder_works_as_the_text_lm(lm_dirs, features, family) -> None:
    torch.manual_seed(0)
    model = SALM.build(salm_config(lm_dirs[family]))
    assert type(model.lm).__name__ == {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM"}[family]
    turns = [Turn("Transcribe this.", features), Turn("What did Ben find?", features[:23]), Turn("What did Ben find?")]
    loss, tokens, extra = model(turns, ["One day, Ben found a red ball near the park.", "ball", "ball"])
    assert extra is None and torch.isfinite(loss) and tokens == 12 + 1 + 1 + 1 + 1 + 1  # answer words and marks + the end token each
    loss.backward()
    assert model.adapter.project[0].weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.lm.parameters())  # frozen
    # the speech takes ceil(T / 5) places between the prompt pieces
    (inputs, labels), = model.sequences([turns[0]], ["ball"])
    before, after = model.prompt_pieces("Transcribe this.")
    assert len(inputs) == len(before) + -(-len(features) // 5) + len(after) + 2
    assert (labels != -100).sum() == 2
    answers = model.answer(turns, max_tokens=4)
    assert len(answers) == 3 and all(isinstance(a, str) for a in answers)


def test_lora_save_then_load_gives_identical_logits(lm_dirs, features, tmp_path) -> None:
    torch.manual_seed(0)
    model = SALM.build(salm_config(lm_dirs["llama"], mode="lora"))
    trainable = {n for n, p in model.lm.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    with torch.no_grad():  # LoRA's B starts at zero: move it so that the LoRA weights matter
        for name, p in model.lm.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    model.eval()
    turns = [Turn("Transcribe this.", features), Turn("What did Ben find?")]
    before = model.logits(turns)
    model.save_pretrained(tmp_path / "salm")
    files = sorted(str(p.relative_to(tmp_path / "salm")) for p in (tmp_path / "salm").rglob("*") if p.is_file())
    assert files == ["adapter/config.json", "adapter/model.safetensors", "lora/README.md", "lora/adapter_config.json",
                     "lora/adapter_model.safetensors", "salm.json"]
    loaded = SALM.from_pretrained(tmp_path / "salm")
    for a, b in zip(before, loaded.logits(turns)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    base = SALM.build(salm_config(lm_dirs["llama"], mode="frozen")).eval()
    base.adapter.load_state_dict(model.adapter.state_dict())
    assert not torch.allclose(base.logits(turns)[0], before[0])  # the LoRA weights are what changed the logits


def test_text_lm_without_tokenizer_is_refused(lm_dirs, tmp_path) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(lm_dirs["llama"] / name, bare / name)
    with pytest.raises(SpokenLMError, match="has no tokenizer"):
        SALM.build(salm_config(bare))


def test_prompt_over_the_context_is_refused_with_lengths(lm_dirs, lj_wav) -> None:
    model = SALM.build(salm_config(lm_dirs["llama"]))
    long = LogMelEncoder(LogMelConfig(n_mels=40)).extract(lj_wav[: 16000 * 9])  # 451 frames → 91 speech tokens
    with pytest.raises(SpokenLMError, match=r"prompt of \d+ tokens \(\d+ text, 91 speech, 0 answer\) is over the text LM's context of 96"):
        model.answer([Turn("Transcribe this.", long)])


def test_ask_reads_an_audio_file_and_names_a_bad_one(lm_dirs, asr_clips, tmp_path) -> None:
    model = SALM.build(salm_config(lm_dirs["llama"])).eval()
    assert isinstance(ask(model, asr_clips[0], "Transcribe this.", max_tokens=3), str)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF0000WAVE")
    with pytest.raises(SpokenLMError, match="broken.wav"):
        ask(model, broken, "Transcribe this.")
