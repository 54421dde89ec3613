"""Tokenizer evaluation on real aligned speech, and ``spokenlm eval tokenizer``."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from spokenlm.align.phones import PHONE_SET, frame_labels
from spokenlm.eval.abx import AbxConfig
from spokenlm.eval.tokenizer_eval import TokenizerEvalConfig, load_eval_corpus, score_representation
from helpers.paths import ASSETS

ASR = ASSETS / "speechbrain"
CLIPS = ("spk1_snt1", "spk1_snt2", "spk1_snt3", "spk2_snt1", "spk2_snt2", "spk2_snt3")


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    """Six speechbrain Harvard-sentence clips (2 speakers, text only) and one cut whose file is missing."""
    from lhotse import CutSet, Recording, SupervisionSegment
    from lhotse.cut import MonoCut

    texts = json.loads((ASR / "annotation" / "ASR_train.json").read_text())
    cuts = []
    for clip in CLIPS:
        recording = Recording.from_file(ASR / "ASR" / f"{clip}.wav", recording_id=clip)
        supervision = SupervisionSegment(clip, clip, 0.0, recording.duration, text=texts[clip]["wrd"], speaker=clip[:4])
        cuts.append(MonoCut(clip, 0.0, recording.duration, 0, recording=recording, supervisions=[supervision]))
    gone = Recording.from_dict({**cuts[0].recording.to_dict(), "id": "gone", "sources": [{"type": "file", "channels": [0], "source": "/nonexistent/gone.wav"}]})
    cuts.append(MonoCut("gone", 0.0, gone.duration, 0, recording=gone, supervisions=[cuts[0].supervisions[0]]))
    path = tmp_path_factory.mktemp("real") / "cuts.jsonl.gz"
    CutSet.from_cuts(cuts).to_file(path)
    return path


@pytest.fixture(scope="module")
def corpus(manifest):
    return load_eval_corpus(TokenizerEvalConfig(manifest=str(manifest)))


def test_corpus_is_aligned_and_bad_cut_skipped(corpus):
    assert [u.id for u in corpus.utterances] == list(CLIPS)
    assert {u.speaker for u in corpus.utterances} == {"spk1", "spk2"}
    assert len(corpus.skipped) == 1 and "gone" in corpus.skipped[0]
    assert all(len(u.phones) > 15 and u.phones[-1].end <= u.seconds + 0.01 for u in corpus.utterances)


def test_oracle_phone_units_score_perfectly(corpus):
    rate = 100.0
    units, onehots = {}, {}
    for u in corpus.utterances:
        labels = frame_labels(u.phones, rate, int(u.seconds * rate))
        units[u.id] = np.array([PHONE_SET.index(p) for p in labels])
        onehots[u.id] = np.eye(len(PHONE_SET))[units[u.id]]
    report = score_representation(corpus, units, rate, onehots, rate, AbxConfig(use_context=False))
    assert report.pnmi == pytest.approx(1.0) and report.phone_purity == pytest.approx(1.0)
    assert report.abx_units_within == 0.0 and report.abx_units_across == 0.0
    assert report.abx_features_within == 0.0 and report.abx_features_across == 0.0
    phones = sum(1 for u in corpus.utterances for i, p in enumerate(u.phones) if i == 0 or p.phone != u.phones[i - 1].phone)
    assert report.units_per_second == pytest.approx(phones / report.seconds, rel=0.05)
    constant = {k: np.zeros_like(v) for k, v in units.items()}
    chance = score_representation(corpus, constant, rate, abx=AbxConfig(use_context=False))
    assert chance.pnmi == 0.0 and chance.abx_units_within == 0.5 and chance.abx_features_within is None


def test_cli_eval_tokenizer(manifest, tmp_path):
    from spokenlm.cli.main import app
    from spokenlm.tokenizers.phone import PhoneTokenizer
    from spokenlm.encoders.phone_model import PhoneClassifier, PhoneClassifierConfig

    torch.manual_seed(0)
    PhoneTokenizer(PhoneClassifier(PhoneClassifierConfig(channels=16, hidden=16, conv_layers=1))).save_pretrained(tmp_path / "tok")
    result = CliRunner().invoke(
        app, ["eval", "tokenizer", "--tokenizer", str(tmp_path / "tok"), "--manifest", str(manifest), "--out", str(tmp_path / "out"), "abx.use_context=false"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "tokenizer_eval.json").read_text())
    assert report["utterances"] == 6 and report["skipped"] == 1 and "gone" in report["skipped_cuts"][0]
    assert 0.0 <= report["pnmi"] <= 1.0 and 0.0 <= report["abx_units_across"] <= 1.0
    assert report["abx_features_within"] is not None and 0 < report["units_per_second"] <= 50
    assert "use_context: false" in (tmp_path / "out" / "config.yaml").read_text()
    assert "PNMI" in result.output


def test_cli_reports_missing_manifest(tmp_path):
    from spokenlm.cli.main import app
    from spokenlm.tokenizers.phone import PhoneTokenizer
    from spokenlm.encoders.phone_model import PhoneClassifier, PhoneClassifierConfig

    PhoneTokenizer(PhoneClassifier(PhoneClassifierConfig(channels=16, hidden=16, conv_layers=1))).save_pretrained(tmp_path / "tok")
    result = CliRunner().invoke(app, ["eval", "tokenizer", "-t", str(tmp_path / "tok"), "-m", str(tmp_path / "none.jsonl.gz")])
    assert result.exit_code == 2 and "none.jsonl.gz" in result.output


def test_evaluate_mfcc_unit_tokenizer(corpus):
    from spokenlm.eval.tokenizer_eval import evaluate_tokenizer
    from spokenlm.encoders.spectral import MfccConfig, MfccEncoder
    from spokenlm.tokenizers.fitting import fit_unit_tokenizer
    from spokenlm.tokenizers.quantizer import KMeansConfig

    tokenizer = fit_unit_tokenizer(MfccEncoder(MfccConfig()), [u.wav for u in corpus.utterances], KMeansConfig(k=8, n_init=1), "mfcc-km8")
    report = evaluate_tokenizer(tokenizer, corpus, AbxConfig(use_context=False))
    assert report.frame_rate == 50.0 and report.utterances == 6
    assert 0.0 < report.pnmi < 1.0 and 0.0 < report.abx_features_across < 0.5
    assert 0.0 < report.units_per_second < 50.0
