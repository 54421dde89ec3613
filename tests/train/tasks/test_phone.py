"""The supervised phone tokenizer and its task: training on a TTS corpus, save/load in another process, registry, skipped cuts."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from spokenlm.errors import AudioError
from spokenlm.tokenizers.base import load_tokenizer
from spokenlm.tokenizers.phone import PhoneTokenizer
from spokenlm.encoders.phone_model import PhoneClassifier, PhoneClassifierConfig
from spokenlm.train.tokenizer_recipes import TOKENIZER_RECIPES
from helpers.tts_corpus import add_broken_cut, build_tts_corpus, harvard_sentences

TINY = ["model.channels=32", "model.hidden=32", "model.conv_layers=1", "optim.batch_size=4", "segment_seconds=1.0", "log_every=1"]


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
def test_train_save_and_load_in_another_process(corpus, tmp_path):
    steps = ["optim.max_steps=6", "save_every=3", f"data.manifest={corpus}", "switch_penalty=1.5"]
    tokenizer = TOKENIZER_RECIPES.get("phone")(None, TINY + steps, tmp_path / "full")
    rows = [json.loads(line) for line in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]
    losses = [row["loss"] for row in rows]
    assert len(losses) == 6 and losses[-1] < losses[0] and all(0 <= row["frame_accuracy"] <= 1 for row in rows)
    assert rows[0]["lr"] == pytest.approx(3e-3)  # the phone task's cosine starts at the peak (no warmup)

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
    assert loaded.switch_penalty == tokenizer.switch_penalty == 1.5  # the decoding travels with the folder


def test_unusable_cuts_are_skipped_and_counted(corpus, tmp_path, capsys):
    from spokenlm.train.tasks.phone import PhoneDataConfig, PhoneTrainConfig, load_labelled_corpus

    labelled = load_labelled_corpus(PhoneTrainConfig(data=PhoneDataConfig(manifest=str(corpus))))
    assert len(labelled.mels) == 8 and len(labelled.skipped) == 1
    assert "broken" in labelled.skipped[0] and "missing" in labelled.skipped[0]
    assert all(len(m.shape) == 2 and m.shape[1] <= 2 * len(lab) for m, lab in zip(labelled.mels, labelled.labels))
    with pytest.raises(AudioError):
        from spokenlm.audio.loader import iter_cuts, load_cut

        load_cut(next(c for c in iter_cuts(corpus) if c.id == "broken"), 16000)


def test_blank_frames_belong_to_the_phone_before_them():
    """CTC outputs: ids 0..3 are phones, 4 the blank. Leading blanks take the first emitted phone; all blank is silence."""
    model = PhoneClassifier(PhoneClassifierConfig(channels=8, hidden=8, num_phones=4, blank=True))
    def logits(ids):
        return torch.nn.functional.one_hot(torch.tensor(ids), 5).float()
    assert model.frame_phones(logits([4, 4, 2, 4, 4, 1, 1, 4, 3])).tolist() == [2, 2, 2, 2, 2, 1, 1, 1, 3]
    assert model.frame_phones(logits([4, 4, 4])).tolist() == [0, 0, 0]
    plain = PhoneClassifier(PhoneClassifierConfig(channels=8, hidden=8, num_phones=4))
    assert plain.frame_phones(logits([3, 1, 0, 2])[:, :4]).tolist() == [3, 1, 0, 2]


def test_ctc_loss_is_low_for_the_right_sequence_and_ignores_padding():
    from spokenlm.train.tasks.phone import ctc_loss

    labels = torch.tensor([[1, 1, 1, 2, 2, 2, -100, -100]])  # phones 1 then 2, two padding frames
    right = torch.nn.functional.one_hot(torch.tensor([[1, 3, 3, 2, 3, 3, 0, 0]]), 4).float() * 20  # blank = 3
    wrong = torch.nn.functional.one_hot(torch.tensor([[2, 3, 3, 1, 3, 3, 0, 0]]), 4).float() * 20
    assert float(ctc_loss(right, labels, blank=3)) < 1e-3 < float(ctc_loss(wrong, labels, blank=3))


@pytest.mark.slow
def test_ctc_objective_trains_a_blank_and_gives_clean_tokens(corpus, tmp_path):
    steps = ["optim.max_steps=40", "save_every=40", f"data.manifest={corpus}", "objective=ctc", "mel_warp=0.15", "mel_shift=0",
             "spec_augment.freq_masks=2", "spec_augment.time_masks=2"]
    tokenizer = TOKENIZER_RECIPES.get("phone")(None, TINY + steps, tmp_path / "ctc")
    rows = [json.loads(line) for line in (tmp_path / "ctc" / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["loss"] < rows[0]["loss"]
    loaded = load_tokenizer(tmp_path / "ctc")
    assert loaded.model.config.blank and loaded.vocab_size == 40 and loaded.model.config.outputs == 41
    from spokenlm.audio.io import load_audio

    wav, _ = load_audio(sorted((corpus.parent / "audio").glob("*.flac"))[0], 16000)
    tokens = loaded.encode(wav, 16000)[0]
    assert int(tokens.ids.max()) < 40 and int(tokens.durations.sum()) == loaded.model.config.output_frames(len(wav))
    np.testing.assert_array_equal(tokens.ids, tokenizer.encode(wav, 16000)[0].ids)

