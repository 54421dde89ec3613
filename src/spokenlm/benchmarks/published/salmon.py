"""SALMon (Maimon et al. 2024), the acoustic-consistency and alignment suite, read from its released folders.

Released layout: one folder per task, two ``.wav`` files per sample, the sample index
being the second ``_``-separated field of the name::

    DIR/{bg_alignment,bg_all_consistency,bg_domain_consistency,gender_consistency,
         rir_consistency,sentiment_alignment,sentiment_consistency,speaker_consistency}/*_<index>_*.wav

As in the SALMon code (``salmon.py``) and slamkit, the two files of a sample are taken in
name order: the first is the positive. The score is the share of samples whose positive
has the higher score (0.5 on a tie), per task; both the summed and the mean-per-token
log-likelihood are reported (the SALMon code's ``mean_nll`` off and on).
"""

from __future__ import annotations

from pathlib import Path

from spokenlm.benchmarks.published import PUBLISHED, Problem, PublishedBenchmark, Release, accuracy_report, indexed_pairs

TASKS = (
    "bg_alignment", "bg_all_consistency", "bg_domain_consistency", "gender_consistency",
    "rir_consistency", "sentiment_alignment", "sentiment_consistency", "speaker_consistency",
)


def read(source: Path) -> Release:
    """Every SALMon task folder; a missing task folder is a problem."""
    release = Release()
    for task in TASKS:
        folder = source / task
        if not folder.is_dir():
            release.problems.append(Problem(str(folder), "missing (SALMon task folder)"))
            continue
        part = indexed_pairs(folder, lambda stem: int(stem.split("_")[1]), task, f"salmon/{task}")
        release.pairs += part.pairs
        release.problems += part.problems
    return release


PUBLISHED.register("salmon")(PublishedBenchmark(
    description="SALMon acoustic consistency and alignment, 8 tasks",
    layout="DIR/<task>/*_<index>_*.wav, two per index (first in name order is the positive)",
    read=read,
    report=accuracy_report,
))
