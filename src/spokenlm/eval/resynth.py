"""Resynthesis: audio → tokens → audio, and how much the round trip loses.

:func:`resynthesize` voices one waveform through a tokenizer and a vocoder.
:func:`run_resynthesis` does it for a corpus and writes the audio
(``spokenlm resynth``: ``audio/<id>.wav`` beside the input it came from, ``original/<id>.wav``, for
listening side by side); :func:`evaluate_resynthesis` also scores it
(``spokenlm eval resynth``): WER/CER of ASR(resynthesis) against the reference
text and against ASR(original), speaker similarity, DNSMOS, F0 correlation and
real-time factor, one CSV row per utterance plus ``summary.json``.

Inputs are lhotse cuts and/or audio globs (:class:`AudioDataConfig`); reference
texts come from the cut's supervision, a ``references`` file (``id|…|text``
lines, LJSpeech ``metadata.csv`` style: the last field is used) or a
``<stem>.txt`` file next to the audio. Bad files are skipped and counted;
rerunning continues after the rows already in the CSV.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spokenlm.atomic import atomic_write_json
from spokenlm.errors import AudioError, SpokenLMError
from spokenlm.audio.loader import AudioDataConfig, AudioItem, audio_items

ROWS_CSV = "resynth.csv"
SUMMARY_JSON = "summary.json"
AUDIO_DIR = "audio"
ORIGINAL_DIR = "original"


@dataclass
class ResynthConfig:
    """A resynthesis (and evaluation) run.

    Attributes:
        tokenizer: tokenizer folder (audio → tokens).
        vocoder: vocoder folder (tokens → audio); its tokenizer must match. Empty: the tokenizer
            decodes its own tokens (codecs, mel tokenizers).
        codebooks: multi-codebook tokenizers (codecs, residual mel k-means): keep only the first N codebooks.
        data: utterances (lhotse manifest and/or audio globs).
        references: optional ``id|…|text`` file of reference transcripts.
        out_dir: where audio, the CSV and the summary go.
        speaker: ``"none"``, ``"source"`` (d-vector of the input, for d-vector vocoders) or a speaker-table name.
        use_f0: condition on the input's F0 (vocoders with F0 bins).
        predict_durations: drop the tokens' durations and voice predicted ones (tests the duration model).
        mel_vocoder: override the mel vocoder (``hifigan-universal`` / ``griffin-lim``) of a unit-mel vocoder or a mel tokenizer.
        asr: ``"whisper"`` or ``"pocketsphinx"``; ``asr_model_dir`` overrides the packaged Whisper base.
        speaker_similarity / dnsmos / f0: which metrics to compute (ASR always runs in evaluation).
        save_audio: write ``audio/<id>.wav`` and the input at the tokenizer's rate as ``original/<id>.wav``.
    """

    tokenizer: str = ""
    vocoder: str = ""
    codebooks: int | None = None
    data: AudioDataConfig = field(default_factory=AudioDataConfig)
    references: str | None = None
    out_dir: str = "resynth"
    speaker: str = "source"
    use_f0: bool = True
    predict_durations: bool = False
    mel_vocoder: str | None = None
    asr: str = "whisper"
    asr_model_dir: str | None = None
    speaker_similarity: bool = True
    dnsmos: bool = True
    f0: bool = True
    save_audio: bool = True


@dataclass
class Resynthesizer:
    """A tokenizer + vocoder pair and how to condition the vocoder (``vocoder=None``: the tokenizer decodes)."""

    tokenizer: Any
    vocoder: Any
    speaker: str = "source"
    use_f0: bool = True
    predict_durations: bool = False

    @classmethod
    def from_config(cls, config: ResynthConfig) -> Resynthesizer:
        from spokenlm.tokenizers.base import load_tokenizer
        from spokenlm.vocoders import load_vocoder

        if not config.tokenizer:
            raise SpokenLMError("set tokenizer=<folder> (and vocoder=<folder> unless the tokenizer decodes its own tokens)")
        tokenizer = load_tokenizer(config.tokenizer)
        if config.codebooks is not None:
            if not hasattr(tokenizer, "with_num_codebooks"):
                raise SpokenLMError(f"codebooks={config.codebooks}: tokenizer {tokenizer.name!r} has a single stream")
            tokenizer = tokenizer.with_num_codebooks(config.codebooks)
        if not config.vocoder:
            if not tokenizer.has_decoder:
                raise SpokenLMError(f"tokenizer {tokenizer.name!r} has no decoder: set vocoder=<folder>")
            if config.mel_vocoder is not None:
                if not hasattr(tokenizer, "with_mel_vocoder"):
                    raise SpokenLMError(f"mel_vocoder applies to unit-mel vocoders and mel tokenizers, not tokenizer {tokenizer.name!r}")
                tokenizer = tokenizer.with_mel_vocoder(config.mel_vocoder)
            return cls(tokenizer, None)
        vocoder = load_vocoder(config.vocoder)
        if config.mel_vocoder is not None:
            if not vocoder.config.kind_spec.outputs_mel:
                raise SpokenLMError(f"mel_vocoder applies to vocoders that output mels (unit-mel), not {vocoder.config.kind}")
            vocoder.config.mel_vocoder = config.mel_vocoder
            vocoder.config.validate()
        return cls(tokenizer, vocoder, config.speaker, config.use_f0, config.predict_durations)

    @property
    def sample_rate(self) -> int:
        """Rate (Hz) of the resynthesized audio."""
        return self.tokenizer.sample_rate if self.vocoder is None else self.vocoder.sample_rate

    def conditioning(self, wav: np.ndarray, sr: int, frame_rate: float) -> tuple[Any, np.ndarray | None]:
        """(speaker, F0 track at the token rate) for the vocoder, from the input ``wav`` ``[samples]`` at ``sr`` Hz."""
        c = self.vocoder.config.conditioning
        speaker: Any = None
        if self.speaker == "source" and c.dvector:
            from spokenlm.audio.speaker import speaker_embedding

            speaker = speaker_embedding(wav, sr)
        elif self.speaker not in ("none", "source"):
            speaker = self.speaker
        f0 = None
        if self.use_f0 and c.f0_bins:
            from spokenlm.audio.f0 import extract_f0

            f0 = extract_f0(wav, sr, frame_rate=frame_rate)
        return speaker, f0

    def __call__(self, wav: np.ndarray, sr: int) -> tuple[np.ndarray, float]:
        """Resynthesize mono ``wav`` ``[samples]`` at ``sr`` Hz → (waveform at :attr:`sample_rate`, vocoder or decoder seconds)."""
        tokens = self.tokenizer.encode(wav, sr)[0]
        if self.vocoder is None:
            start = time.perf_counter()
            out = self.tokenizer.decode(tokens)
            return out, time.perf_counter() - start
        speaker, f0 = self.conditioning(wav, sr, tokens.frame_rate)
        start = time.perf_counter()
        out = self.vocoder(tokens, speaker=speaker, f0=f0, predict_durations=self.predict_durations)
        return out, time.perf_counter() - start


def read_references(config: ResynthConfig) -> dict[str, str]:
    """``id → text`` from the ``references`` file (last ``|`` field of each line)."""
    if not config.references:
        return {}
    path = Path(config.references)
    if not path.is_file():
        raise SpokenLMError(f"{path}: references file not found")
    refs = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) < 2:
            raise SpokenLMError(f"{path}:{number}: expected 'id|text', got {line[:60]!r}")
        refs[fields[0].strip()] = fields[-1].strip()
    return refs


def reference_text(item: AudioItem, references: dict[str, str]) -> str | None:
    """The reference transcript of ``item``, or ``None`` when there is none."""
    if item.id in references:
        return references[item.id]
    supervisions = getattr(item.cut, "supervisions", None) or []
    if supervisions and supervisions[0].text:
        return str(supervisions[0].text)
    if item.path is not None and item.path.with_suffix(".txt").is_file():
        return item.path.with_suffix(".txt").read_text().strip()
    return None


def _done_ids(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    with path.open() as handle:
        return {row["id"] for row in csv.DictReader(handle)}


def _append_row(path: Path, row: dict[str, Any]) -> None:
    new = not path.is_file()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def _utterance_metrics(config: ResynthConfig, asr: Any, original: np.ndarray, sr: int, resynth: np.ndarray, out_sr: int, ref: str | None) -> dict[str, Any]:
    """ASR of both sides and the optional quality metrics for one utterance."""
    from spokenlm.audio.io import resample
    from spokenlm.eval.wer import error_rates

    row: dict[str, Any] = {"reference": ref or "", "asr_original": asr.transcribe(original, sr), "asr_resynth": asr.transcribe(resynth, out_sr)}
    row["wer_vs_original"] = error_rates([row["asr_original"]], [row["asr_resynth"]])["wer"]
    if ref:
        row["wer_original"] = error_rates([ref], [row["asr_original"]])["wer"]
        row["wer_resynth"] = error_rates([ref], [row["asr_resynth"]])["wer"]
    resynth_sr = resample(resynth, out_sr, sr)
    if config.speaker_similarity:
        from spokenlm.eval.speaker import speaker_similarity

        row["speaker_similarity"] = speaker_similarity(original, resynth_sr, sr)
    if config.dnsmos:
        from spokenlm.eval.dnsmos import dnsmos

        row["dnsmos_original"] = dnsmos(original, sr)["ovrl"]
        row["dnsmos_resynth"] = dnsmos(resynth, out_sr)["ovrl"]
    if config.f0:
        from spokenlm.audio.f0 import extract_f0
        from spokenlm.eval.prosody import f0_correlation

        row["f0_pearson"] = f0_correlation(extract_f0(original, sr), extract_f0(resynth_sr, sr))["pearson"]
    return row


def _wer_intervals(rows: list[dict[str, str]]) -> dict[str, str]:
    """95 % bootstrap intervals (utterances resampled) of the resynthesis WER and of its ratio to the originals' WER."""
    from spokenlm.eval.stats import bootstrap_ratio_interval
    from spokenlm.eval.wer import error_rates

    words, original, resynth = [], [], []
    for row in rows:
        before, after = (error_rates([row["reference"]], [row[side]]) for side in ("asr_original", "asr_resynth"))
        words.append(before["words"])  # one reference: the same count on both sides
        original.append(before["wer"] * before["words"])  # word errors of this utterance
        resynth.append(after["wer"] * after["words"])
    wer = bootstrap_ratio_interval(resynth, words)
    ratio = bootstrap_ratio_interval(resynth, original)
    return {"wer_resynth_ci": f"[{wer.low:.3f}, {wer.high:.3f}]", "wer_ratio_ci": f"[{ratio.low:.2f}, {ratio.high:.2f}]"}


def summarize(rows_path: Path, skipped: int) -> dict[str, Any]:
    """Corpus-level numbers from the per-utterance CSV (WER/CER pooled over utterances, with 95 % bootstrap intervals of the
    resynthesis WER and of the WER ratio; other metrics averaged)."""
    from spokenlm.eval.wer import error_rates

    with rows_path.open() as handle:
        rows = list(csv.DictReader(handle))
    summary: dict[str, Any] = {"utterances": len(rows), "skipped": skipped}
    if not rows:
        return summary
    with_ref = [r for r in rows if r.get("reference")]
    if with_ref and "asr_original" in rows[0]:
        refs = [r["reference"] for r in with_ref]
        original = error_rates(refs, [r["asr_original"] for r in with_ref])
        resynth = error_rates(refs, [r["asr_resynth"] for r in with_ref])
        summary.update(wer_original=original["wer"], cer_original=original["cer"], wer_resynth=resynth["wer"], cer_resynth=resynth["cer"])
        summary["wer_ratio"] = resynth["wer"] / original["wer"] if original["wer"] > 0 else math.inf if resynth["wer"] > 0 else 1.0
        summary.update(_wer_intervals(with_ref))
    if "asr_original" in rows[0]:
        versus = error_rates([r["asr_original"] for r in rows], [r["asr_resynth"] for r in rows])
        summary.update(wer_vs_original=versus["wer"], cer_vs_original=versus["cer"])
    for key in ("speaker_similarity", "dnsmos_original", "dnsmos_resynth", "f0_pearson"):
        values = [float(r[key]) for r in rows if r.get(key) not in (None, "", "nan")]
        if values:
            summary[key] = float(np.nanmean(values))
    audio = sum(float(r["seconds"]) for r in rows)
    summary["rtf"] = sum(float(r["vocoder_seconds"]) for r in rows) / max(audio, 1e-9)
    return summary


def run_resynthesis(config: ResynthConfig, evaluate: bool = False) -> dict[str, Any]:
    """Resynthesize every utterance of ``config.data`` (scoring it when ``evaluate``); returns the summary."""
    from rich.progress import track

    from spokenlm.audio.io import save_audio
    from spokenlm.config import save_config
    from spokenlm.perf import configure_cpu_threads

    configure_cpu_threads()  # a long job starts: threads from the cores free now
    out_dir = Path(config.out_dir)
    save_config(config, out_dir)
    resynth = Resynthesizer.from_config(config)
    references = read_references(config)
    asr = None
    if evaluate:
        from spokenlm.eval.asr import load_asr

        asr = load_asr(config.asr, config.asr_model_dir)
    rows_path = out_dir / ROWS_CSV
    done = _done_ids(rows_path)
    skipped: list[str] = []
    sr = resynth.tokenizer.sample_rate
    for item in track(audio_items(config.data), description="resynthesizing"):
        if item.id in done:
            continue
        try:
            wav = item.load(sr)
            out, seconds = resynth(wav, sr)
        except (AudioError, SpokenLMError) as err:
            skipped.append(str(err))
            continue
        row: dict[str, Any] = {"id": item.id, "seconds": len(wav) / sr, "vocoder_seconds": seconds, "rtf": seconds / (len(wav) / sr)}
        if config.save_audio:
            save_audio(out_dir / AUDIO_DIR / f"{item.id}.wav", out, resynth.sample_rate)
            save_audio(out_dir / ORIGINAL_DIR / f"{item.id}.wav", wav, sr)
        if asr is not None:
            row.update(_utterance_metrics(config, asr, wav, sr, out, resynth.sample_rate, reference_text(item, references)))
        _append_row(rows_path, row)
    summary = summarize(rows_path, len(skipped)) if rows_path.is_file() else {"utterances": 0, "skipped": len(skipped)}
    summary["skipped_examples"] = skipped[:5]
    atomic_write_json(out_dir / SUMMARY_JSON, summary)
    return summary
