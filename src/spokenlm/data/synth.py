"""``spokenlm data synth``: a paired multi-speaker corpus (16 kHz FLAC + lhotse manifests) from text.

Resumable: every finished utterance is a FLAC file (written atomically) plus a
line in ``synth_log.jsonl``; a rerun skips the utterances whose line and file
agree, and redoes the rest (missing, truncated or failed ones). Manifests are
written at the end, in plan order, so they do not depend on worker timing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spokenlm.data.manifests import CorpusStats
from spokenlm.data.parallel import worker_map
from spokenlm.data.synth_plan import SynthJob, accent_variants, plan_jobs, select_voices
from spokenlm.errors import SpokenLMError

LOG = "synth_log.jsonl"


@dataclass
class SynthConfig:
    """How to build a synthetic corpus.

    Attributes:
        source: ``ljspeech``, ``harvard``, ``stories`` or the path of a text file (one sentence a line).
        num_stories: stories generated for ``source=stories``.
        max_sentences: use only the first N sentences (0: all).
        engines: engines to draw voices from when ``voices`` is empty.
        voices: explicit voice ids (``espeak-ng:en-us+m3``); the last ``test_voices`` are the test speakers.
        num_voices: voices drawn from ``engines`` when ``voices`` is empty.
        test_voices: voices that speak only the test split.
        voices_per_sentence: how many different voices speak each sentence.
        mix_accents: each train/dev sentence of an espeak-ng voice is spoken by that speaker (its variant) in an
            installed accent drawn per sentence, so training hears every accent but no more speakers; test voices
            speak in their own accent.
        isolated_words: single-word train utterances added, spoken by the train voices (words of the train
            sentences, :func:`~spokenlm.data.synth_plan.word_jobs`): the isolated-word prosody of sWUGGY-style items.
        dev_fraction: share of documents in dev (train voices, unseen sentences).
        test_fraction: share of documents in test (unseen voices, unseen sentences).
        sample_rate: output rate, Hz.
        workers: parallel synthesis processes.
        seed: fixes voices, splits and speaker assignment.
    """

    source: str = "stories"
    num_stories: int = 200
    max_sentences: int = 0
    engines: list[str] = field(default_factory=lambda: ["espeak-ng", "flite", "festival"])
    voices: list[str] = field(default_factory=list)
    num_voices: int = 12
    test_voices: int = 2
    voices_per_sentence: int = 1
    mix_accents: bool = False
    isolated_words: int = 0
    dev_fraction: float = 0.05
    test_fraction: float = 0.05
    sample_rate: int = 16000
    workers: int = 2
    seed: int = 0


PRESETS: dict[str, SynthConfig] = {
    # The README's main job: >= 1 hour, >= 8 voices, a few minutes on 2 cores.
    "demo": SynthConfig(source="stories", num_stories=160, num_voices=12, test_voices=2, workers=2),
}


@dataclass
class SynthResult:
    """Outcome of :func:`build_corpus`: manifest stats, how many were reused, and the failures (``id: reason``)."""

    stats: CorpusStats
    planned: int
    reused: int
    failures: list[str]


def plan_from_config(config: SynthConfig) -> list[SynthJob]:
    """The corpus plan for ``config`` (text source → voices → splits → jobs)."""
    from itertools import islice

    from spokenlm.data.text_sources import load_text_source
    from spokenlm.data.tts import Voice

    items = load_text_source(config.source, config.num_stories, config.seed)
    if config.max_sentences:
        items = islice(items, config.max_sentences)
    if config.voices:
        voices = [Voice.parse(v) for v in config.voices]
    else:
        voices = select_voices(config.engines, config.num_voices, config.seed, config.test_voices)
    accents = accent_variants(voices) if config.mix_accents else None
    return plan_jobs(
        items, voices, config.test_voices, config.voices_per_sentence, config.dev_fraction, config.test_fraction, config.seed,
        accents, config.isolated_words,
    )


def synthesize_job(job: SynthJob, out_dir: Path, sr: int) -> dict:
    """Synthesize one job into its FLAC file; return its log record (``error`` set on failure). Runs in a worker."""
    from spokenlm.audio.io import save_audio
    from spokenlm.data.tts import synthesize_utterance

    record: dict[str, Any] = {"id": job.id, "text": job.text}
    try:
        result = synthesize_utterance(job.text, job.voice, sr)
        save_audio(out_dir / job.audio, result.wav, sr)
    except SpokenLMError as err:
        record["error"] = str(err)
        return record
    except Exception as err:  # noqa: BLE001 - one bad utterance must not end a long run; it is logged and retried on rerun
        record["error"] = f"{job.voice}: unexpected {type(err).__name__}: {err} (text: {job.text!r})"
        return record
    record.update(num_samples=int(result.wav.size), sample_rate=sr, phonemes=result.phones, alignment=result.alignment)
    return record


def _worker(args: tuple[SynthJob, Path, int]) -> dict:
    return synthesize_job(*args)


def read_log(out_dir: Path) -> dict[str, dict]:
    """Finished records of ``synth_log.jsonl`` by id (the last line per id wins; a torn line is ignored)."""
    records: dict[str, dict] = {}
    path = out_dir / LOG
    if not path.exists():
        return records
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        records[record["id"]] = record
    return records


def _is_finished(job: SynthJob, record: dict | None, out_dir: Path, sr: int) -> bool:
    """The log says done for this text at this rate, and the file on disk holds exactly the logged samples."""
    import soundfile as sf

    if not record or "error" in record or record.get("sample_rate") != sr or record.get("text") != job.text:
        return False
    path = out_dir / job.audio
    try:
        return path.is_file() and sf.info(str(path)).frames == record["num_samples"]
    except (sf.LibsndfileError, RuntimeError):
        return False


def _manifest_items(jobs: list[SynthJob], records: dict[str, dict], out_dir: Path):
    """``(Recording, [SupervisionSegment])`` per finished job, in plan order."""
    from lhotse import Recording
    from lhotse.audio import AudioSource

    from spokenlm.data.manifests import make_supervision
    from spokenlm.data.tts import Voice

    for job in jobs:
        record = records.get(job.id)
        if not record or "error" in record:
            continue
        sr, n = record["sample_rate"], record["num_samples"]
        path = str((out_dir / job.audio).resolve())
        recording = Recording(job.id, [AudioSource("file", [0], path)], sr, n, n / sr, channel_ids=[0])
        voice = Voice.parse(job.voice)
        supervision = make_supervision(
            job.id, job.id, 0.0, n / sr, job.text, voice.id, job.split, voice.language,
            phonemes=record.get("phonemes"), alignment=record.get("alignment"),
            engine=voice.engine, voice=voice.name, text_id=job.text_id, doc_id=job.doc_id, sentence_index=job.index,
        )
        yield recording, [supervision]


def build_corpus(config: SynthConfig, out_dir: str | Path, progress: Callable[[int, int], Any] | None = None) -> SynthResult:
    """Build (or finish) the corpus of ``config`` in ``out_dir`` and write its manifests.

    ``progress(done, total)`` is called as utterances finish. An utterance an engine
    fails on is logged and skipped; the run goes on.
    """
    from spokenlm.config import save_config
    from spokenlm.data.manifests import write_corpus

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_config(config, out_dir)
    jobs = plan_from_config(config)
    records = read_log(out_dir)
    for stray in out_dir.glob("audio/*/.*.tmp"):  # a worker killed while writing
        stray.unlink()
    pending = [job for job in jobs if not _is_finished(job, records.get(job.id), out_dir, config.sample_rate)]
    reused = len(jobs) - len(pending)
    if progress is not None:
        progress(reused, len(jobs))
    failures: list[str] = []
    tasks = [(job, out_dir, config.sample_rate) for job in pending]
    with open(out_dir / LOG, "a", encoding="utf-8") as log, worker_map(config.workers, len(tasks), ordered=False) as imap:
        for done, record in enumerate(imap(_worker, tasks), reused + 1):
            log.write(json.dumps(record) + "\n")
            log.flush()
            records[record["id"]] = record
            if "error" in record:
                failures.append(f"{record['id']}: {record['error']}")
            if progress is not None:
                progress(done, len(jobs))
    stats = write_corpus(out_dir, _manifest_items(jobs, records, out_dir))
    return SynthResult(stats, len(jobs), reused, failures)
