"""``spokenlm eval generate``: continue 3-second speech prompts and measure the continuations (GSLM, pGSLM).

Per temperature: every prompt (the first ``prompt_seconds`` of each audio file)
is tokenized, continued by the unit LM, voiced, transcribed by the ASR backend;
then generative perplexity (text LM on transcripts), auto-BLEU2, self-BLEU2 and
VERT; with a tokenizer whose units are phones (one that lists ``phones``, the label of
each id), also the phone error rate of the transcript's CMUdict phones against the LM's own units
(:func:`spokenlm.eval.phone_error.meant_vs_said`) on continuations voiced for at least
``phone_min_seconds``; ``results["meant_vs_said"]`` repeats it at ``phone_temperature`` with the
auto-BLEU2 of those transcripts beside it. Over temperatures: the perplexity-VERT AUC, bounded by the oracle VERT
(the same metrics on the real continuations, i.e. the audio after each prompt,
when the files are long enough). Prosody (pGSLM): ``prosody_samples``
continuations per prompt at ``prosody_temperature``; min-MAE of log-F0 against
the real continuation, prompt/continuation consistency, expressiveness.

Audio of prompts and continuations is written under ``out_dir/audio`` for the
report's players; everything else goes to ``out_dir/results.json``.
The model, tokenizer, vocoder and ASR are reached through small protocols, so
tests can drive the pipeline with hand-made parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from spokenlm.audio.io import save_audio
from spokenlm.errors import ConfigError
from spokenlm.eval.autobleu import auto_bleu, self_bleu
from spokenlm.eval.genppl import TextLM, perplexity
from spokenlm.eval.prosody import consistency, expressiveness, log_f0, min_mae
from spokenlm.eval.vert import perplexity_vert_auc


class Continuer(Protocol):
    """Continues unit prompts: ``[T_i]`` ids (or frames ``[K, T_i]``) in, ``[n_i]`` (``[K, n_i]``) new ones out."""

    def continue_units(self, prompts: Sequence[np.ndarray], max_units: int, temperature: float, seed: int) -> list[np.ndarray]: ...


class Voicer(Protocol):
    """Units ``[T]`` (or frames ``[K, T]``) → ``(waveform [samples], sample rate Hz)``."""

    def __call__(self, units: np.ndarray) -> tuple[np.ndarray, int]: ...


class Transcriber(Protocol):
    """An ASR backend (see :mod:`spokenlm.eval.asr`)."""

    def transcribe(self, wav: np.ndarray, sr: int) -> str: ...


class UnitLMContinuer:
    """:class:`Continuer` over a :class:`spokenlm.models.unit_lm.UnitLM` with :func:`spokenlm.generate.sampling.sample`.

    Continuations are ``max_units`` long (EOS suppressed, as GSLM samples fixed-length
    continuations) unless ``stop_at_eos``, where a row ends at the LM's EOS (possibly at once).
    """

    def __init__(self, model: Any, stop_at_eos: bool = False) -> None:
        self.model = model
        self.stop_at_eos = stop_at_eos

    def continue_units(self, prompts: Sequence[np.ndarray], max_units: int, temperature: float, seed: int) -> list[np.ndarray]:
        from spokenlm.generate.sampling import sample

        model = self.model
        ids = [model.encode_frames(p) for p in prompts]
        eos = None if self.stop_at_eos else -1
        new = sample(model, ids, max_units * model.tokens_per_frame, temperature=temperature, seed=seed, eos_id=eos, units_only=True)
        frames = [model.decode_frames(n).numpy() for n in new]
        return [f if p.ndim == 2 else f[0] for f, p in zip(frames, prompts)]


class TokenizerVoicer:
    """:class:`Voicer` through a tokenizer's own decoder (codec tokenizers); durations are taken as one frame each."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    def __call__(self, units: np.ndarray) -> tuple[np.ndarray, int]:
        from spokenlm.tokens import Tokens

        frames = np.asarray(units)
        tokens = Tokens(frames if frames.ndim == 2 else frames[None, :], self.tokenizer.frame_rate, self.tokenizer.name)
        return self.tokenizer.decode(tokens), self.tokenizer.sample_rate


@dataclass
class GenerateEvalConfig:
    """``spokenlm eval generate`` settings.

    Attributes:
        prompts: audio files (a folder, searched for .flac/.wav, or a text file listing paths).
        tokenizer: speech tokenizer folder.
        model: unit LM checkpoint folder.
        vocoder: unit vocoder folder that voices the continuations (tokenizers without a decoder, e.g. phone
            tokenizers); empty: the tokenizer's own decoder (codecs).
        asr: ASR backend (``whisper`` or ``pocketsphinx``).
        text_lm: text LM folder (HF causal LM or spokenlm n-gram); empty trains a word 3-gram on ``text_corpus``.
        text_corpus: text source for that n-gram (empty: bundled LJSpeech transcripts).
        max_prompts: use at most this many prompt files (0: all).
        prompt_seconds: prompt length, seconds.
        continuation_seconds: continuation length, seconds of units at the tokenizer's frame rate.
        temperatures: sampling temperatures of the sweep.
        dedup: deduplicate prompt units (as the LM was trained).
        stop_at_eos: let the LM end a continuation early with EOS (default: fixed-length continuations).
        prosody_samples: continuations per prompt for min-MAE (0 skips prosody).
        prosody_temperature: temperature of those samples.
        phone_temperature: the sweep temperature whose phone error rate (meant vs said) is the headline; it must be
            one of ``temperatures`` when the tokenizer's units are phones.
        phone_min_seconds: continuations voiced shorter than this (seconds) are left out of the phone error rate.
        seed: sampling seed.
    """

    prompts: str = ""
    tokenizer: str = ""
    model: str = ""
    vocoder: str = ""
    asr: str = "whisper"
    text_lm: str = ""
    text_corpus: str = ""
    max_prompts: int = 0
    prompt_seconds: float = 3.0
    continuation_seconds: float = 6.0
    temperatures: list[float] = field(default_factory=lambda: [0.5, 0.7, 0.9, 1.1])
    dedup: bool = True
    stop_at_eos: bool = False
    prosody_samples: int = 20
    prosody_temperature: float = 0.9
    phone_temperature: float = 0.7
    phone_min_seconds: float = 3.0
    seed: int = 0


@dataclass
class Prompt:
    """One prompt: its id, the first seconds ``wav`` ``[samples]`` and the rest ``reference`` (may be empty), at ``sr`` Hz."""

    prompt_id: str
    wav: np.ndarray
    reference: np.ndarray
    sr: int


def text_metrics(transcripts: Sequence[str], text_lm: TextLM) -> dict[str, float]:
    """Perplexity, mean auto-BLEU2, mean self-BLEU2 and VERT of a set of transcripts."""
    from spokenlm.benchmarks.cmu_lexicon import words_of

    words = [words_of(t) for t in transcripts]
    auto = float(np.mean([auto_bleu(w) for w in words])) if words else float("nan")
    selfb = float(np.mean(self_bleu(words))) if len(words) > 1 else float("nan")
    return {"perplexity": perplexity(text_lm, transcripts), "auto_bleu2": auto, "self_bleu2": selfb, "vert": float(np.sqrt(auto * selfb))}


def phone_agreement(continuations: Sequence[tuple[np.ndarray, str]], unit_phones: Sequence[str]) -> dict[str, float]:
    """Meant-vs-said phone error rate (:func:`~spokenlm.eval.phone_error.meant_vs_said`) and the mean auto-BLEU2 of the
    same transcripts, over ``(units [n], transcript)`` continuations; ``per`` is NaN when there are none."""
    from spokenlm.benchmarks.cmu_lexicon import words_of
    from spokenlm.eval.phone_error import meant_vs_said

    if not continuations:
        return {"per": float("nan"), "continuations": 0, "auto_bleu2": float("nan")}
    scores = meant_vs_said(continuations, unit_phones)
    return {**scores, "continuations": len(continuations), "auto_bleu2": float(np.mean([auto_bleu(words_of(t)) for _, t in continuations]))}


def _units(tokenizer: Any, wav: np.ndarray, sr: int, dedup: bool) -> np.ndarray:
    from spokenlm.eval.pairs import units_of

    return units_of(tokenizer.encode(wav, sr)[0], dedup)


def evaluate_generation(
    prompts: Sequence[Prompt],
    tokenizer: Any,
    continuer: Continuer,
    voicer: Voicer,
    asr: Transcriber,
    text_lm: TextLM,
    config: GenerateEvalConfig,
    out_dir: Path,
) -> dict[str, Any]:
    """Run the sweep and prosody metrics (see the module docstring); returns the results dict."""
    from rich.progress import Progress

    from spokenlm.perf import configure_cpu_threads

    configure_cpu_threads()  # a long job starts: threads from the cores free now
    unit_phones = getattr(tokenizer, "phones", None)  # phone tokenizers label each id with its phone
    if unit_phones is not None and config.phone_temperature not in config.temperatures:
        raise ConfigError(f"phone_temperature={config.phone_temperature:g} is not one of temperatures={config.temperatures}")
    max_units = max(1, int(round(config.continuation_seconds * tokenizer.frame_rate)))
    units = [_units(tokenizer, p.wav, p.sr, config.dedup) for p in prompts]
    samples: list[dict[str, Any]] = []
    for prompt in prompts:
        save_audio(out_dir / "audio" / "prompts" / f"{prompt.prompt_id}.flac", prompt.wav, prompt.sr)
    references = [p for p in prompts if p.reference.size > p.sr]
    results: dict[str, Any] = {"prompts": len(prompts), "temperatures": []}
    if len(references) >= 2:
        results["oracle"] = text_metrics([asr.transcribe(p.reference, p.sr) for p in references], text_lm)
    with Progress(transient=True) as progress:
        task = progress.add_task("continuing prompts", total=len(config.temperatures) * len(prompts))
        for t_index, temperature in enumerate(config.temperatures):
            continuations = continuer.continue_units(units, max_units, temperature, config.seed + t_index)
            transcripts, long_enough = [], []
            for prompt, continuation in zip(prompts, continuations):
                sample = {"prompt_id": prompt.prompt_id, "temperature": temperature, "units": int(continuation.shape[-1]),
                          "prompt_audio": f"audio/prompts/{prompt.prompt_id}.flac", "audio": None, "transcript": "", "seconds": 0.0}
                if continuation.shape[-1]:  # an empty continuation (the LM ended at once) is kept, with no audio and no words
                    wav, sr = voicer(continuation)
                    path = out_dir / "audio" / f"t{temperature:g}" / f"{prompt.prompt_id}.flac"
                    save_audio(path, wav, sr)
                    sample.update(audio=str(path.relative_to(out_dir)), transcript=asr.transcribe(wav, sr), seconds=len(wav) / sr)
                    if continuation.ndim == 1 and sample["seconds"] >= config.phone_min_seconds:
                        long_enough.append((continuation, sample["transcript"]))
                transcripts.append(sample["transcript"])
                samples.append(sample)
                progress.advance(task)
            empty = sum(c.shape[-1] == 0 for c in continuations)
            row = {"temperature": temperature, "empty_continuations": empty, **text_metrics(transcripts, text_lm)}
            if unit_phones is not None:
                agreement = phone_agreement(long_enough, unit_phones)
                row.update(phone_error_rate=agreement["per"], phone_continuations=agreement["continuations"])
                if temperature == config.phone_temperature:
                    results["meant_vs_said"] = {"temperature": temperature, "min_seconds": config.phone_min_seconds, **agreement}
            results["temperatures"].append(row)
    results["samples"] = samples
    rows = results["temperatures"]
    finite = [r for r in rows if np.isfinite(r["vert"]) and np.isfinite(r["perplexity"])]
    if len(finite) >= 2:
        oracle = results.get("oracle", {})
        results["auc"] = perplexity_vert_auc(
            [r["vert"] for r in finite], [r["perplexity"] for r in finite], oracle.get("vert"), oracle.get("perplexity")
        )
    if config.prosody_samples > 0:
        results["prosody"] = prosody_metrics(prompts, units, continuer, voicer, config, max_units)
    return results


def prosody_metrics(
    prompts: Sequence[Prompt], units: Sequence[np.ndarray], continuer: Continuer, voicer: Voicer, config: GenerateEvalConfig, max_units: int
) -> dict[str, float]:
    """pGSLM log-F0 metrics over ``config.prosody_samples`` continuations per prompt."""
    prompt_f0 = [log_f0(p.wav, p.sr) for p in prompts]
    sampled: list[list[np.ndarray]] = [[] for _ in prompts]
    for k in range(config.prosody_samples):
        for i, continuation in enumerate(continuer.continue_units(units, max_units, config.prosody_temperature, config.seed + 1000 + k)):
            if continuation.size:
                sampled[i].append(log_f0(*voicer(continuation)))
    result = {
        "samples_per_prompt": config.prosody_samples,
        "consistency": consistency([f for f, s in zip(prompt_f0, sampled) if s], [s[0] for s in sampled if s]),
        "expressiveness": expressiveness([c for s in sampled for c in s]),
    }
    with_reference = [(log_f0(p.reference, p.sr), s) for p, s in zip(prompts, sampled) if s and p.reference.size > p.sr]
    if with_reference:
        result["min_mae"] = min_mae([r for r, _ in with_reference], [s for _, s in with_reference])
    return result


def read_prompt_audio(source: str | Path, seconds: float, max_prompts: int = 0) -> tuple[list[Prompt], dict[str, str]]:
    """Prompts from a folder of audio files (or a text file of paths): first ``seconds`` + the rest.

    Returns the prompts and ``{file: reason}`` for files that could not be used (skipped, not fatal).
    """
    from spokenlm.audio.validate import validate_waveform
    from spokenlm.audio.io import load_audio
    from spokenlm.errors import AudioError, ManifestError

    source = Path(source)
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.suffix.lower() in (".flac", ".wav"))
    elif source.is_file():
        files = [Path(line.strip()) for line in source.read_text().splitlines() if line.strip()]
    else:
        raise ManifestError(f"{source}: prompt folder or list not found")
    prompts, skipped = [], {}
    for path in files:
        if max_prompts and len(prompts) >= max_prompts:
            break
        try:
            wav, sr = load_audio(path, 16000)
            validate_waveform(wav, sr, path)
        except AudioError as err:
            skipped[str(path)] = str(err)
            continue
        cut = int(round(seconds * sr))
        prompts.append(Prompt(path.stem, wav[:cut], wav[cut:], sr))
    if not prompts:
        raise ManifestError(f"{source}: no usable prompt audio ({len(skipped)} files skipped)")
    return prompts, skipped
