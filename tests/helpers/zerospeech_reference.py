"""The ZeroSpeech reference tools, run in their own venv (``.venv-zerospeech``, built by ``scripts/setup_zerospeech.sh``).

Imported by the tests, :func:`reference` runs this file as a script under that venv's Python and returns what it
prints (JSON); the test skips, with the reason ``setup_zerospeech.sh`` recorded, only when the venv could not be built.
Run as a script (in the side venv, without spokenlm), it has two commands::

    slm21 RELEASE SUBMISSION…  per submission folder, the zerospeech-benchmarks 0.9.4 sLM21 scorer's tables and
                               its validator's verdict (several in one call: importing the toolkit takes seconds)
    abx ITEMS FEATURES RATE    zerospeech-libriabx2 0.9.8 ABX errors (eval_ABX, cosine) of FEATURES/<file id>.npy
                               frames ``[T, D]`` at RATE Hz on the .item file ITEMS, no group sampled
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

SIDE_VENV = Path(__file__).resolve().parents[2] / ".venv-zerospeech"
UNSAMPLED = 10**6  # a group size no test reaches


_TRIED_BUILD: list[bool] = []  # the side venv is built at most once per test session


def ensure_side_venv() -> None:
    """Build the side venv on first use (``scripts/setup_zerospeech.sh``: about 2 minutes, mostly downloads), so that
    only the tests pay for it, not ``scripts/setup.sh`` and the quickstart; a build that is up to date does nothing."""
    if not _TRIED_BUILD:
        _TRIED_BUILD.append(True)
        subprocess.run(["bash", str(SIDE_VENV.parent / "scripts" / "setup_zerospeech.sh")], capture_output=True, text=True)


def reference(*args: str | Path | float) -> Any:
    """Output of this script's command ``args`` run by the side venv; skips the calling test when it cannot be built."""
    import pytest

    ensure_side_venv()
    if not (SIDE_VENV / "READY").is_file():
        failed = SIDE_VENV / "FAILED"
        reason = failed.read_text().strip() if failed.is_file() else "not built; run scripts/setup_zerospeech.sh"
        pytest.skip(f"{SIDE_VENV.name}: {reason}")
    run = subprocess.run([str(SIDE_VENV / "bin" / "python"), __file__, *map(str, args)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-4000:]
    return json.loads(run.stdout)


def _import_zerospeech() -> None:
    """Import the toolkit with its settings in a fresh application folder, offline.

    It reads its settings once, on import, and looks online for a newer dataset index unless its copy is more than
    a week old, so the folder gets an empty index dated eight days back.
    """
    app_dir = Path(tempfile.mkdtemp(prefix="zr-app-"))
    index = app_dir / "repo.json"
    index.write_text("{}")
    week_old = time.time() - 8 * 86400
    os.utime(index, (week_old, week_old))
    os.environ["APP_DIR"] = str(app_dir)
    import zerospeech  # noqa: F401


def _records(frame) -> list[dict]:
    """DataFrame rows as JSON-ready dicts (categorical bands as strings, numpy scalars as Python numbers)."""
    return json.loads(frame.astype({c: str for c in frame.columns if str(frame[c].dtype) == "category"}).to_json(orient="records"))


def slm21(release: Path, submission: Path) -> dict:
    """The toolkit's lexical/syntactic tables of ``submission`` against ``release``'s gold files, and its validation."""
    from zerospeech.generics import FileItem
    from zerospeech.submissions.sLM21 import SLM21Submission, SLM21SubmissionValidator
    from zerospeech.tasks.lm import LexicalTask, SyntacticTask

    out: dict = {}
    for split in ("dev", "test"):
        gold = FileItem.from_file(release / "lexical" / split / "gold.csv")
        sub = FileItem.from_file(submission / "lexical" / f"{split}.txt")
        by_pair, by_frequency, by_length = LexicalTask().run_lexical_eval(sub, gold)
        out[f"lexical_{split}"] = {"all": float(by_pair["score"].mean()), "by_frequency": _records(by_frequency),
                                   "by_length": _records(by_length)}
    gold = FileItem.from_file(release / "syntactic" / "dev" / "gold.csv")
    sub = FileItem.from_file(submission / "syntactic" / "dev.txt")
    by_pair, by_type = SyntacticTask().run_syntactic_comparison(gold, sub)
    out["syntactic_dev"] = {"all": float(by_pair["score"].mean()), "by_type": _records(by_type)}

    def wavs(task: str, split: str) -> SimpleNamespace:
        files = sorted((release / task / split).glob("*.wav"))
        return SimpleNamespace(items=SimpleNamespace(wav_list=SimpleNamespace(files_list=files)))

    subsets = {f"{t}_{s}": wavs(t, s) for t, s in (("lexical", "dev"), ("lexical", "test"), ("syntactic", "dev"))}
    index = SimpleNamespace(index=SimpleNamespace(subsets=SimpleNamespace(**subsets)))
    validator = SLM21SubmissionValidator.construct(dataset=index)
    out["validation"] = {}
    for task, sets in (("lexical", ("dev", "test")), ("syntactic", ("dev",))):
        context = validator.validate(SLM21Submission.load(submission, tasks=(task,), sets=sets))
        out["validation"][task] = {"fails": bool(context.fails()), "errors": [str(e) for e in ~context.get_errors()],
                                   "ok": len(context.get_ok())}
    return out


def abx(items: Path, features: Path, rate: float) -> dict:
    """``{"within-within": error, "across-within": …, "within-any": …, "across-any": …}`` from ``eval_ABX``, no group
    or X speaker sampled."""
    try:
        import torchaudio  # noqa: F401
    except ImportError:  # imported only by the package's CPC feature extractor, which is not run here
        sys.modules["torchaudio"] = ModuleType("torchaudio")
    from zrc_abx2 import EvalABX, EvalArgs

    args = EvalArgs(path_data=str(features), path_item_file=str(items), feature_size=1 / rate, distance_mode="cosine",
                    max_size_group=UNSAMPLED, max_x_across=UNSAMPLED)
    results = EvalABX().eval_abx(args)
    return {f"{r['abx-s-condition']}-{r['abx-c-condition']}": r["score"] for r in results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    slm = commands.add_parser("slm21")
    slm.add_argument("release", type=Path)
    slm.add_argument("submissions", type=Path, nargs="+")
    ab = commands.add_parser("abx")
    ab.add_argument("items", type=Path)
    ab.add_argument("features", type=Path)
    ab.add_argument("rate", type=float)
    args = parser.parse_args()
    with contextlib.redirect_stdout(sys.stderr):  # the toolkits print progress; stdout carries only the JSON
        if args.command == "slm21":
            _import_zerospeech()
            out = [slm21(args.release, submission) for submission in args.submissions]
        else:
            out = abx(args.items, args.features, args.rate)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
