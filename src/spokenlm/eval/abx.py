"""ABX phone discriminability of frame features or units, within and across speakers (ZeroSpeech style).

Items are phone occurrences cut from phone-aligned utterances, each with its
context (previous and next phone) and speaker. A triplet (A, B, X) has A and X
of the same central phone and B of another, all in the same context; it is an
error when X is closer to B than to A (a tie counts half).

* **within** speaker: A, B and X come from one speaker.
* **across** speakers: A and B come from one speaker, X from another.

Distances are DTW between the two items' frames, with the frame distance
averaged along the best path: the angle between feature vectors divided by π
(``"angular"``, for features ``[T, D]``) or 0/1 mismatch (``"hamming"``, for unit
ids ``[T]``). Errors are averaged per (A phone, B phone, context, A speaker, X
speaker) cell, then over the (context, X speaker) cells of each A speaker, then
over A speakers, then over phone pairs.

This is the definition of ZeroSpeech's ``zerospeech-libriabx2`` (``eval_ABX``, with
and without context): its item frames (:func:`abx_items`), its zero-vector
convention, its triplets and its averaging; ``tests/eval/test_abx_reference.py``
checks that both give the same errors on the same features and items. Two things
differ on purpose: distances are computed in float64 (the reference uses float32,
which can flip near-ties), and groups larger than ``max_items`` are sampled once,
with numpy (the reference redraws its sample with Python's ``random`` each time a
group is used), so the two agree exactly only when no group is sampled.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from spokenlm.align.phones import SILENCE, PhoneSegment

Distance = Literal["angular", "hamming"]
Mode = Literal["within", "across"]


@dataclass(frozen=True)
class AbxItem:
    """One phone occurrence: frames ``[start, end)`` of ``utterance`` at the features' frame rate."""

    utterance: str
    speaker: str
    phone: str
    context: tuple[str, str]
    start: int
    end: int


@dataclass
class AbxConfig:
    """ABX sampling.

    Attributes:
        use_context: group items by (previous, next) phone as ZeroSpeech does; ``False`` pools all contexts.
        max_items: most items of one phone kept per (context, speaker) group (seeded sample) to bound triplets.
        seed: sampling seed.
    """

    use_context: bool = True
    max_items: int = 5
    seed: int = 0


@dataclass
class AbxResult:
    """ABX error in [0, 1] (0.5 = chance), with the numbers of phone-pair cells and triplets it averages."""

    error: float
    cells: int
    triplets: int


def abx_items(
    alignments: Mapping[str, Sequence[PhoneSegment]],
    speakers: Mapping[str, str],
    frame_rate: float,
    num_frames: Mapping[str, int],
) -> list[AbxItem]:
    """Items for every non-silence phone with a neighbour on both sides, over frames at ``frame_rate`` Hz.

    ``alignments``, ``speakers`` and ``num_frames`` are keyed by utterance id. A phone
    ``[on, off]`` seconds covers frames ``[ceil(f·on − 0.5), floor(f·off − 0.5))`` at
    ``f = frame_rate``: the first frame is the first whose centre ``(t + 0.5) / f`` is at
    or after ``on``; the end is libri-light's ``floor``, which leaves out the last frame
    whose centre is before ``off`` unless ``f·off − 0.5`` is a whole number (e.g.
    [0.03, 0.06] s at 100 Hz is frames 3 and 4). Phones that cover no frame this way
    are skipped. A boundary exactly on a frame centre turns on the last bit of its time,
    as in the reference, so comparisons need the same float times (``repr``, not rounded).
    """
    items = []
    for utterance, segments in alignments.items():
        for index in range(1, len(segments) - 1):
            segment = segments[index]
            if segment.phone == SILENCE:
                continue
            start = max(0, math.ceil(frame_rate * segment.start - 0.5))
            end = min(math.floor(frame_rate * segment.end - 0.5), num_frames[utterance])
            if end > start:
                context = (segments[index - 1].phone, segments[index + 1].phone)
                items.append(AbxItem(utterance, speakers[utterance], segment.phone, context, start, end))
    return items


def _frame_costs(x: np.ndarray, y: np.ndarray, distance: Distance) -> np.ndarray:
    """Frame distance matrix ``[len(x), len(y)]``.

    ``"angular"`` puts an all-zero frame at distance 1 from every other frame and 0 from
    another all-zero frame (the reference's ``normalize_with_singularity``).
    """
    if distance == "hamming":
        return (x[:, None] != y[None, :]).astype(np.float64)
    x_norm = np.linalg.norm(x, axis=1, keepdims=True)
    y_norm = np.linalg.norm(y, axis=1, keepdims=True)
    x_zero, y_zero = x_norm == 0, y_norm == 0
    cosines = (x / np.where(x_zero, 1.0, x_norm)) @ (y / np.where(y_zero, 1.0, y_norm)).T
    costs = np.arccos(np.clip(cosines, -1.0, 1.0)) / np.pi
    return np.where(x_zero | y_zero.T, np.where(x_zero & y_zero.T, 0.0, 1.0), costs)


def dtw_distances(pairs: Sequence[tuple[np.ndarray, np.ndarray]], distance: Distance, chunk: int = 512) -> np.ndarray:
    """DTW distance of each pair ``(x [N, …], y [M, …])``: total frame cost of the cheapest path / its length.

    Steps are (1, 0), (0, 1) and (1, 1); on cost ties the diagonal step wins.
    Pairs of similar sizes are computed together, vectorised, ``chunk`` at a time. Returns ``[len(pairs)]``.
    """
    order = sorted(range(len(pairs)), key=lambda k: (len(pairs[k][0]), len(pairs[k][1])))
    result = np.zeros(len(pairs))
    for first in range(0, len(order), chunk):
        indices = order[first : first + chunk]
        result[indices] = _dtw_batch([pairs[k] for k in indices], distance)
    return result


def _dtw_batch(pairs: list[tuple[np.ndarray, np.ndarray]], distance: Distance) -> np.ndarray:
    """:func:`dtw_distances` of one batch, padded to its largest pair."""
    rows = max(len(x) for x, _ in pairs)
    cols = max(len(y) for _, y in pairs)
    costs = np.full((len(pairs), rows, cols), np.inf)
    for k, (x, y) in enumerate(pairs):
        costs[k, : len(x), : len(y)] = _frame_costs(x, y, distance)
    total = np.full((len(pairs), rows + 1, cols + 1), np.inf)
    length = np.zeros((len(pairs), rows + 1, cols + 1))
    total[:, 0, 0] = 0.0
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            candidates = np.stack([total[:, i - 1, j - 1], total[:, i - 1, j], total[:, i, j - 1]])
            lengths = np.stack([length[:, i - 1, j - 1], length[:, i - 1, j], length[:, i, j - 1]])
            best = np.argmin(candidates, axis=0)
            picked = np.arange(len(pairs))
            total[:, i, j] = candidates[best, picked] + costs[:, i - 1, j - 1]
            length[:, i, j] = lengths[best, picked] + 1
    ends_x = np.array([len(x) for x, _ in pairs])
    ends_y = np.array([len(y) for _, y in pairs])
    picked = np.arange(len(pairs))
    return total[picked, ends_x, ends_y] / length[picked, ends_x, ends_y]


def _group(items: list[AbxItem], config: AbxConfig) -> dict[tuple, dict[str, dict[str, list[int]]]]:
    """``{context: {speaker: {phone: [item indices]}}}``, at most ``max_items`` per phone (seeded sample)."""
    rng = np.random.default_rng(config.seed)
    groups: dict[tuple, dict[str, dict[str, list[int]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for index, item in enumerate(items):
        context = item.context if config.use_context else ("*", "*")
        groups[context][item.speaker][item.phone].append(index)
    for by_spk in groups.values():
        for by_phone in by_spk.values():
            for phone, indices in by_phone.items():
                if len(indices) > config.max_items:
                    by_phone[phone] = sorted(rng.choice(indices, config.max_items, replace=False).tolist())
    return groups


def _triplet_cells(items: list[AbxItem], mode: Mode, config: AbxConfig) -> list[tuple[tuple, list[tuple[int, int, int]]]]:
    """Cells ``((phone_a, phone_b, speaker_ab, speaker_x, context), [(a, b, x) item indices])``."""
    cells = []
    for context, by_speaker in sorted(_group(items, config).items()):
        for speaker_ab, phones_ab in sorted(by_speaker.items()):
            x_speakers = [speaker_ab] if mode == "within" else [s for s in sorted(by_speaker) if s != speaker_ab]
            for speaker_x in x_speakers:
                phones_x = by_speaker[speaker_x]
                for phone_a, a_items in sorted(phones_ab.items()):
                    for phone_b, b_items in sorted(phones_ab.items()):
                        if phone_b == phone_a or phone_a not in phones_x:
                            continue
                        triplets = [
                            (a, b, x) for a in a_items for b in b_items for x in phones_x[phone_a] if x != a
                        ]
                        if triplets:
                            cells.append(((phone_a, phone_b, speaker_ab, speaker_x, context), triplets))
    return cells


def abx_error(
    items: list[AbxItem],
    frames: Mapping[str, np.ndarray],
    mode: Mode,
    distance: Distance,
    config: AbxConfig | None = None,
) -> AbxResult:
    """ABX error of ``frames`` (per utterance: features ``[T, D]`` or unit ids ``[T]``) on ``items``.

    Raises ``ValueError`` when no triplet can be formed (e.g. ``across`` with one speaker).
    """
    config = config or AbxConfig()
    cells = _triplet_cells(items, mode, config)
    if not cells:
        raise ValueError(f"no {mode}-speaker ABX triplets: need one phone in ≥2 items per context and ≥2 phones"
                         + (" and ≥2 speakers" if mode == "across" else ""))
    pair_index: dict[tuple[int, int], int] = {}
    for _, triplets in cells:
        for a, b, x in triplets:
            for pair in ((a, x), (b, x)):
                pair_index.setdefault(pair, len(pair_index))
    segments = [(frames[items[i].utterance][items[i].start : items[i].end], frames[items[j].utterance][items[j].start : items[j].end])
                for i, j in pair_index]
    distances = dtw_distances(segments, distance)
    by_cell: dict[tuple, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for (phone_a, phone_b, speaker_ab, _speaker_x, _context), triplets in cells:
        d_ax = distances[[pair_index[(a, x)] for a, _, x in triplets]]
        d_bx = distances[[pair_index[(b, x)] for _, b, x in triplets]]
        score = float(np.mean((d_ax > d_bx) + 0.5 * (d_ax == d_bx)))
        by_cell[(phone_a, phone_b)][speaker_ab].append(score)
    pair_errors = [np.mean([np.mean(cells_of) for cells_of in by_speaker.values()]) for by_speaker in by_cell.values()]
    return AbxResult(error=float(np.mean(pair_errors)), cells=len(cells), triplets=sum(len(t) for _, t in cells))
