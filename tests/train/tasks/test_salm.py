"""The SALM task on the loop, on a tiny synthesized story corpus: the text stage, then adapter training in front of the
frozen text LM (its weights unchanged, the adapter's changed, the loss fell), then adapter + LoRA, resumed after a stop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from spokenlm.config import load_config
from spokenlm.data.synth import SynthConfig, build_corpus
from spokenlm.models.salm import SALM, Turn
from spokenlm.train.tasks.salm import SALMTrainConfig, train_salm

VOICES = ["espeak-ng:en-us+m1", "espeak-ng:en-gb+f1", "flite:kal", "espeak-ng:en-gb+m4", "flite:slt"]
TINY = ["tiny_lm.dim=48", "tiny_lm.layers=1", "tiny_lm.heads=2", "tiny_lm.kv_heads=1", "tiny_lm.ffn_dim=96", "log_every=1",
        "optim.batch_size=8", "optim.warmup_steps=0", "data.ljspeech_sentences=50", "device=cpu", "precision=fp32"]
SPEECH = ['model.encoder={"type": "log-mel", "n_mels": 40}', "model.adapter.type=linear", "model.adapter.stack=4", "model.adapter.hidden=32"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("salm-corpus")
    build_corpus(SynthConfig(source="stories", num_stories=6, voices=VOICES, test_voices=2, dev_fraction=0.17, test_fraction=0.17, workers=2), out)
    return out


def losses(run: Path) -> list[float]:
    return [r["loss"] for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if r["split"] == "train"]


def config(overrides: list[str]) -> SALMTrainConfig:
    return load_config(SALMTrainConfig, None, overrides)


@pytest.mark.slow
def test_text_stage_then_frozen_lm_then_lora(corpus, tmp_path) -> None:
    text_run = tmp_path / "text"
    train_salm(config([*TINY, f"data.corpora=[{corpus}]", "model.speech=false", "model.text_lm.mode=full", "optim.lr=3e-3",
                       "optim.max_steps=30", f"out_dir={text_run}", "save_every=0", "eval_every=0"]))
    assert losses(text_run)[-1] < losses(text_run)[0]
    text_lm = text_run / "model" / "text_lm"
    assert (text_lm / "tokenizer.json").is_file() and not (text_run / "model" / "adapter").exists()

    frozen_run = tmp_path / "frozen"
    train_salm(config([*TINY, *SPEECH, f"data.corpora=[{corpus}]", f"model.text_lm.path={text_lm}", "model.text_lm.mode=frozen",
                       "optim.lr=3e-3", "optim.max_steps=25", f"out_dir={frozen_run}", "save_every=0", "eval_every=0"]))
    assert (corpus / "features-log-mel.safetensors").is_file()  # frozen features cached once per corpus
    curve = losses(frozen_run)
    assert sum(curve[-5:]) / 5 < sum(curve[:5]) / 5
    model = SALM.from_pretrained(frozen_run / "model")
    base = load_file(str(text_lm / "model.safetensors"))
    for name, tensor in model.lm.state_dict().items():
        if name in base:
            torch.testing.assert_close(tensor, base[name], rtol=0, atol=0)  # frozen: unchanged
    torch.manual_seed(0)
    fresh = SALM.build(model.config)  # the same config with a newly initialised adapter (seed 0, as the run)
    assert not torch.allclose(fresh.adapter.project[0].weight, model.adapter.project[0].weight)
    files = sorted(p.name for p in (frozen_run / "model").iterdir())
    assert files == ["adapter", "salm.json"]  # a frozen LM is not copied: the folder names it

    lora_run = tmp_path / "lora"
    lora = [*TINY, *SPEECH, f"data.corpora=[{corpus}]", f"model.text_lm.path={text_lm}", "model.text_lm.mode=lora",
            "model.text_lm.lora.rank=2", "optim.lr=3e-3", f"out_dir={lora_run}", "save_every=4", "eval_every=0"]
    train_salm(config([*lora, "optim.max_steps=4"]))
    checkpoint = next((lora_run / "checkpoints").glob("step-*"))
    saved = load_file(str(next(checkpoint.glob("model*.safetensors"))))
    assert saved and all("lora_" in k or k.startswith("adapter.") for k in saved)  # frozen weights stay out of checkpoints
    summary = train_salm(config([*lora, "optim.max_steps=8"]))
    assert summary["steps"] == 8 and summary["trainable_parameters"] < summary["parameters"] / 5
    answers = SALM.from_pretrained(lora_run / "model").answer([Turn("Transcribe the audio.", torch.zeros(60, 40))], max_tokens=3)
    assert isinstance(answers[0], str)


@pytest.mark.parametrize("recipe", ["salm-text-tiny.yaml", "salm-tiny.yaml", "salm-whisper-large-7b.yaml"])
def test_recipes_load(recipe) -> None:
    from helpers.paths import REPO

    loaded = load_config(SALMTrainConfig, REPO / "recipes" / recipe, [])
    assert loaded.type == "salm" and loaded.data.corpora is not None
    assert loaded.model.speech == (recipe != "salm-text-tiny.yaml")
