"""Our sLM21 scores equal the ZeroSpeech toolkit's (``zerospeech-benchmarks``) on the same submission, and its
validator accepts our submission folder.

The toolkit cannot be installed next to spokenlm by pip (it pins pydantic < 2, which typer cannot use, and pip
refuses its direct-URL extras), and its scorer needs pandas < 3 (``groupby.apply`` on the grouping columns), so
this test runs where the toolkit is importable, e.g. with its sources and their dependencies on PYTHONPATH::

    pip install --no-deps --target /tmp/zrdeps 'pydantic[email]<2' 'pandas<3' pytz treelib humanize distro \
        pycryptodome filesplit email-validator dnspython
    pip download --no-deps zerospeech-benchmarks && tar xzf zerospeech-benchmarks-0.9.4.tar.gz
    PYTHONPATH=/tmp/zrdeps:zerospeech-benchmarks-0.9.4 python -m pytest tests/benchmarks/published/test_slm21_zerospeech.py
"""

from __future__ import annotations

import math
import os
import time
from types import SimpleNamespace

import pytest

from helpers.eval_toys import EnergyTokenizer, UnigramScorer
from helpers.published_replicas import write_slm21
from spokenlm.benchmarks.published import import_published
from spokenlm.eval.pairs import PairEvalConfig, evaluate_pairs


@pytest.fixture(scope="module")
def zerospeech(tmp_path_factory):
    app_dir = tmp_path_factory.mktemp("zr-data")
    index = app_dir / "repo.json"
    index.write_text("{}")
    week_old = time.time() - 8 * 86400  # the toolkit only looks for a newer index online when its copy is fresh
    os.utime(index, (week_old, week_old))
    with pytest.MonkeyPatch.context() as patch:  # the toolkit reads its settings once, on import
        patch.setenv("APP_DIR", str(app_dir))
        pytest.importorskip("zerospeech", reason="zerospeech-benchmarks is not importable here")
    import pandas

    if int(pandas.__version__.split(".")[0]) >= 3:
        pytest.skip("the ZeroSpeech scorer needs pandas < 3")
    from zerospeech.generics import FileItem
    from zerospeech.submissions.sLM21 import SLM21Submission, SLM21SubmissionValidator
    from zerospeech.tasks.lm import LexicalTask, SyntacticTask

    return SimpleNamespace(FileItem=FileItem, LexicalTask=LexicalTask, SyntacticTask=SyntacticTask,
                           Submission=SLM21Submission, Validator=SLM21SubmissionValidator)


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    root = tmp_path_factory.mktemp("slm21-zr")
    release = write_slm21(root / "sLM21-dataset")
    import_published("slm21", release, root / "bench")
    scorer = UnigramScorer([math.exp(-1.0)] * 8)
    results = evaluate_pairs(PairEvalConfig(benchmark=str(root / "bench"), dedup=False), scorer, EnergyTokenizer(), root / "eval")
    return release, root / "eval" / "submission" / "summed", results["reference"]["summed"]


def test_slm21_lexical_scores_equal_the_zerospeech_scorer(zerospeech, ours):
    release, submission, results = ours
    for split in ("dev", "test"):
        gold = zerospeech.FileItem.from_file(release / "lexical" / split / "gold.csv")
        sub = zerospeech.FileItem.from_file(submission / "lexical" / f"{split}.txt")
        by_pair, by_frequency, by_length = zerospeech.LexicalTask().run_lexical_eval(sub, gold)
        mine = results[f"lexical_{split}"]
        assert mine["all"] == pytest.approx(by_pair["score"].mean())
        bands = by_frequency[by_frequency["n"] > 0]
        assert [b["band"] for b in mine["by_frequency"]] == list(bands["frequency"].astype(str))
        assert [b["n"] for b in mine["by_frequency"]] == list(bands["n"])
        assert [b["score"] for b in mine["by_frequency"]] == pytest.approx(list(bands["score"]))
        in_vocab = bands[bands["frequency"] != "oov"]
        if len(in_vocab):
            expected = (in_vocab["score"] * in_vocab["n"]).sum() / in_vocab["n"].sum()  # the leaderboard's weighted mean
            assert mine["in_vocab"] == pytest.approx(expected)
        assert [(b["length"], b["n"]) for b in mine["by_length"]] == list(zip(by_length["length"], by_length["n"]))
        assert [b["score"] for b in mine["by_length"]] == pytest.approx(list(by_length["score"]))


def test_slm21_syntactic_scores_equal_the_zerospeech_scorer(zerospeech, ours):
    release, submission, results = ours
    gold = zerospeech.FileItem.from_file(release / "syntactic" / "dev" / "gold.csv")
    sub = zerospeech.FileItem.from_file(submission / "syntactic" / "dev.txt")
    by_pair, by_type = zerospeech.SyntacticTask().run_syntactic_comparison(gold, sub)
    mine = results["syntactic_dev"]
    assert mine["all"] == pytest.approx(by_pair["score"].mean())
    assert [(t["type"], t["n"]) for t in mine["by_type"]] == list(zip(by_type["type"], by_type["n"]))
    assert [t["score"] for t in mine["by_type"]] == pytest.approx(list(by_type["score"]))


def test_slm21_zerospeech_validator_accepts_our_submission(zerospeech, ours):
    release, submission, _ = ours

    def wavs(task, split):
        return SimpleNamespace(items=SimpleNamespace(wav_list=SimpleNamespace(files_list=sorted((release / task / split).glob("*.wav")))))

    subsets = {f"{t}_{s}": wavs(t, s) for t, s in (("lexical", "dev"), ("lexical", "test"), ("syntactic", "dev"))}
    validator = zerospeech.Validator.construct(dataset=SimpleNamespace(index=SimpleNamespace(subsets=SimpleNamespace(**subsets))))
    for tasks, sets in ((("lexical",), ("dev", "test")), (("syntactic",), ("dev",))):
        context = validator.validate(zerospeech.Submission.load(submission, tasks=tasks, sets=sets))
        assert not context.fails(), [str(e) for e in context.get_errors()]
        assert len(context.get_ok()) > 0
