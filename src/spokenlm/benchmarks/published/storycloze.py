"""Spoken StoryCloze (Hassid et al. 2023, TWIST): sStoryCloze and tStoryCloze, read from their released folders.

Released layout: a flat folder of ``.wav`` files, two per story, the story index being
the first ``_``-separated field of the name::

    DIR/<index>_*.wav

slamkit (``metric/modelling_metric.py``) sorts the files by that index and takes each
consecutive two as (true ending, wrong ending); here the two files of an index are taken
in name order, the first being the true ending. The score is the share of stories whose
true ending has the higher score (0.5 on a tie), summed and mean-per-token.
"""

from __future__ import annotations

from pathlib import Path

from spokenlm.benchmarks.published import PUBLISHED, PublishedBenchmark, Release, accuracy_report, indexed_pairs


def _reader(name: str):
    def read(source: Path) -> Release:
        return indexed_pairs(source, lambda stem: int(stem.split("_")[0]), name, name)

    return read


for _name, _what in (("sstorycloze", "true vs plausible wrong ending"), ("tstorycloze", "true vs random ending from another story")):
    PUBLISHED.register(_name)(PublishedBenchmark(
        description=f"spoken StoryCloze {_name[0]}SC: {_what}",
        layout="DIR/<index>_*.wav, two per index (first in name order is the true ending)",
        read=_reader(_name),
        report=accuracy_report,
    ))
