"""The supervised phone tokenizer: training on a TTS corpus, save/load, resume, registry, skipped cuts."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import spokenlm.tokenizers.phone_train  # noqa: F401  (registers the "phone" trainer)
from spokenlm.errors import AudioError
from spokenlm.tokenizers.base import TOKENIZER_TRAINERS, load_tokenizer
from spokenlm.tokenizers.phone import PhoneTokenizer
from spokenlm.tokenizers.phone_model import PhoneClassifier, PhoneClassifierConfig
from tokeval_corpus import add_broken_cut, build_tts_corpus, harvard_sentences

TINY = ["model.channels=32", "model.hidden=32", "model.conv_layers=1", "batch_size=4", "segment_seconds=1.0", "log_every=1"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("tts")
    cuts = build_tts_corpus(out, harvard_sentences(4), voices=("espeak-ng:en-us+m3", "festival:kal_diphone"))
    return add_broken_cut(cuts)


def test_batched_encode_equals_one_by_one_and_dedup(ljspeech_clips):
    from spokenlm.audio.io import load_audio

    torch.manual_seed(0)
    tokenizer = PhoneTokenizer(PhoneClassifier(PhoneClassifierConfig(channels=32, hidden=32)), dedup=False)
    wavs = [load_audio(p, 22050)[0] for p in ljspeech_clips[:2]]
    batched = tokenizer.encode(wavs, 22050)
    for wav, tokens in zip(wavs, batched):
        single = tokenizer.encode(wav, 22050)[0]
        np.testing.assert_array_equal(single.ids, tokens.ids)
        assert len(tokens) == PhoneClassifierConfig().output_frames(round(len(wav) * 16000 / 22050))
    tokenizer.dedup = True
    dedup = tokenizer.encode(wavs[0], 22050)[0]
    assert dedup.durations is not None and int(dedup.durations.sum()) == len(batched[0])
    assert len(tokenizer.phone_labels(dedup)) == len(dedup)


@pytest.mark.slow
def test_train_save_load_resume(corpus, tmp_path, monkeypatch):
    train = TOKENIZER_TRAINERS.get("phone")
    steps = ["steps=6", "checkpoint_every=3", f"data.manifest={corpus}"]
    tokenizer = train(None, TINY + steps, tmp_path / "full")
    losses = [row["loss"] for row in map(json.loads, (tmp_path / "full" / "metrics.jsonl").read_text().splitlines())]
    assert len(losses) == 6 and losses[-1] < losses[0]

    # a run killed after its step-3 checkpoint resumes and reproduces the uninterrupted losses
    import spokenlm.tokenizers.phone_train as phone_train

    original = phone_train.save_training_state
    calls = []

    def crash_on_second_save(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(phone_train, "save_training_state", crash_on_second_save)
    with pytest.raises(KeyboardInterrupt):
        train(None, TINY + steps, tmp_path / "resumed")
    monkeypatch.setattr(phone_train, "save_training_state", original)
    train(None, TINY + steps, tmp_path / "resumed")
    resumed = [row["loss"] for row in map(json.loads, (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines())]
    np.testing.assert_allclose(resumed, losses, rtol=1e-5)

    # saved by this process, loaded by another: identical tokens
    saved = tmp_path / "full"
    assert json.loads((saved / "config.json").read_text())["type"] == "phone"
    from spokenlm.audio.io import load_audio

    wav, _ = load_audio(sorted((corpus.parent / "audio").glob("*.flac"))[0], 16000)
    mine = tokenizer.encode(wav, 16000)[0]
    code = (
        "import sys, json, numpy as np\n"
        "from spokenlm.tokenizers import load_tokenizer\n"
        "from spokenlm.audio.io import load_audio\n"
        "t = load_tokenizer(sys.argv[1]); w, _ = load_audio(sys.argv[2], 16000)\n"
        "tok = t.encode(w, 16000)[0]; print(json.dumps([tok.ids.tolist(), tok.durations.tolist()]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(saved), str(sorted((corpus.parent / "audio").glob("*.flac"))[0])],
                         capture_output=True, text=True, check=True)
    ids, durations = json.loads(out.stdout)
    assert ids == mine.ids.tolist() and durations == mine.durations.tolist()
    loaded = load_tokenizer(saved)
    assert isinstance(loaded, PhoneTokenizer) and loaded.frame_rate == 50.0 and loaded.vocab_size == 40


def test_unusable_cuts_are_skipped_and_counted(corpus, tmp_path, capsys):
    from spokenlm.tokenizers.phone_train import PhoneDataConfig, PhoneTrainConfig, load_labelled_corpus

    labelled = load_labelled_corpus(PhoneTrainConfig(data=PhoneDataConfig(manifest=str(corpus))))
    assert len(labelled.mels) == 8 and len(labelled.skipped) == 1
    assert "broken" in labelled.skipped[0] and "missing" in labelled.skipped[0]
    assert all(len(m.shape) == 2 and m.shape[1] <= 2 * len(lab) for m, lab in zip(labelled.mels, labelled.labels))
    with pytest.raises(AudioError):
        from spokenlm.tokenizers.audio_source import iter_cuts, load_cut

        load_cut(next(c for c in iter_cuts(corpus) if c.id == "broken"), 16000)
