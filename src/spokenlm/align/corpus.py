"""``spokenlm data align``: word alignments for every supervision of a corpus, stored in its lhotse manifests.

Each supervision gets a lhotse ``alignment["word"]`` tier: synthesized speech from its engine phone timings
grouped into words, real speech from a pocketsphinx forced alignment of its transcript. Supervisions that
already hold the tier are kept, so a rerun only does what is missing. Nothing is dropped silently: the
report lists the words that could not be aligned, the supervisions whose alignment failed and those
without a transcript.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from spokenlm.align.cuts import supervision_word_segments
from spokenlm.align.formats import supervision_words, with_words
from spokenlm.align.pocketsphinx_aligner import AlignmentError
from spokenlm.align.words import WordSegment
from spokenlm.data.manifests import CUTS, SUPERVISIONS, load_corpus, write_jsonl_gz


@dataclass
class AlignReport:
    """What :func:`align_corpus` did.

    Attributes:
        supervisions: supervisions seen.
        reused: supervisions that already had a word tier.
        words: words aligned (in new and reused tiers).
        unaligned: ``"supervision id: word, word"`` per supervision with words that could not be aligned.
        failed: ``"supervision id: reason"`` per supervision whose alignment failed (all its words unaligned).
        no_text: ids of the supervisions without a transcript (skipped).
    """

    supervisions: int = 0
    reused: int = 0
    words: int = 0
    unaligned: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    no_text: list[str] = field(default_factory=list)


def _cut_words(cut, report: AlignReport) -> dict[str, list[WordSegment]]:
    """Word segments (seconds from each supervision's start) of every supervision of ``cut`` that gets a tier."""
    found: dict[str, list[WordSegment]] = {}
    audio = None
    for sup in cut.supervisions:
        report.supervisions += 1
        stored = supervision_words(sup, cut.start + sup.start)
        if stored is not None:
            report.reused += 1
            report.words += len(stored)
            continue
        if not (sup.text or "").strip():
            report.no_text.append(sup.id)
            continue
        if audio is None:
            audio = cut.load_audio()[0]
        first = max(0, int(round(sup.start * cut.sampling_rate)))
        piece = audio[first : first + int(round(sup.duration * cut.sampling_rate))]
        try:
            words, missing = supervision_word_segments(sup, piece, cut.sampling_rate, sup.id)
        except AlignmentError as err:
            report.failed.append(f"{sup.id}: {err.reason}")
            continue
        if missing:
            report.unaligned.append(f"{sup.id}: {', '.join(missing)}")
        report.words += len(words)
        found[sup.id] = words
    return found


def align_corpus(directory: str | Path, progress: Callable[[], None] | None = None) -> AlignReport:
    """Add word tiers to the supervisions of the corpus in ``directory`` (its cuts and supervisions manifests are
    rewritten atomically); ``progress()`` is called after each cut."""
    directory = Path(directory)
    corpus = load_corpus(directory)
    report = AlignReport()
    words: dict[str, list[WordSegment]] = {}
    cuts = []
    for cut in corpus.cuts:
        found = _cut_words(cut, report)
        words.update(found)
        cut.supervisions = [with_words(s, found[s.id], cut.start + s.start) if s.id in found else s for s in cut.supervisions]
        cuts.append(cut.to_dict())
        if progress is not None:
            progress()
    supervisions = [(with_words(s, words[s.id]) if s.id in words else s).to_dict() for s in corpus.supervisions]
    write_jsonl_gz(directory / SUPERVISIONS, supervisions)
    write_jsonl_gz(directory / CUTS, cuts)
    return report
