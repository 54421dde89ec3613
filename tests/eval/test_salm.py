"""SALM evaluation: hand-worked scores, and every baseline of a held-out run on a tiny model."""

from __future__ import annotations

import pytest
import torch

from spokenlm.data.instructions import Example
from spokenlm.eval.salm import accuracy, evaluate, score
from spokenlm.models.adapters import AdapterConfig
from spokenlm.models.salm import SALM, SALMConfig
from spokenlm.models.text_lm import TextLMConfig, TinyLMShape, write_tiny_chat_lm


def test_scores_are_normalised_exact_matches_and_wer() -> None:
    result = accuracy(["Ella", "espeak-ng", "male"], ["ella.", "espeak - ng", "female"])
    assert result["value"] == pytest.approx(2 / 3) and result["low"] < 2 / 3 < result["high"] and result["count"] == 3
    assert score("asr", ["one day Ben found a ball"], ["one day Ben found the ball"])["wer"] == pytest.approx(1 / 6)


def test_evaluate_reports_the_model_and_its_baselines(tmp_path, lj_wav) -> None:
    from spokenlm.encoders.spectral import LogMelConfig, LogMelEncoder

    lm = write_tiny_chat_lm(tmp_path / "lm", ["Transcribe the audio.", "Is the speaker male or female?", "male female Ben"],
                            TinyLMShape(dim=32, layers=1, heads=2, kv_heads=1, ffn_dim=64))
    torch.manual_seed(0)
    model = SALM.build(SALMConfig(adapter=AdapterConfig(stack=5, hidden=16), encoder={"type": "log-mel", "n_mels": 40}, encoder_dim=40,
                                  frame_rate=50.0, text_lm=TextLMConfig(path=str(lm)))).eval()
    features = {"a": LogMelEncoder(LogMelConfig(n_mels=40)).extract(lj_wav[:16000])}
    test = [Example("a:gender", "a", "gender", "Is the speaker male or female?", "female", "Ben", "test"),
            Example("a:asr", "a", "asr", "Transcribe the audio.", "Ben", "Ben", "test")]
    train = [Example(f"t{i}:gender", f"t{i}", "gender", "Is the speaker male or female?", answer, "", "train") for i, answer in enumerate(["female", "female", "male"])]
    results = evaluate(model, test, features, train, cascade=(model, lambda e: e.transcript), max_tokens=3)
    assert results["gender"]["majority"]["value"] == 1.0  # "female", the most frequent training answer
    assert set(results["gender"]) == {"examples", "model", "question_only", "majority", "cascade"}
    assert set(results["asr"]["model"]) >= {"wer", "cer"} and "majority" not in results["asr"]  # no training asr examples
    assert results["speech_tokens_per_second"] == pytest.approx(11 / 1.02, rel=0.01)  # ceil(51 / 5) = 11 tokens over 51 frames (1.02 s)
