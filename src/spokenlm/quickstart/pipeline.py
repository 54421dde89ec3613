"""The quickstart's stages: corpus → tokenizer → tokens → LM → vocoder → evaluations → report.

Each stage calls the same library code as its ``spokenlm`` command and writes
into its own sub-folder of the run directory:

    corpus/        synthesized multi-speaker corpus, per-split manifests, train text
    tokenizer/     supervised phone tokenizer (saved there, with its training state and metrics)
    tokens/        token shards of the train and dev splits
    lm/            unit LM run (lm/model is the saved model)
    vocoder/       unit vocoder run (vocoder/vocoder is the saved vocoder)
    resynth/       resynthesis of held-out voices: WER, speaker similarity, DNSMOS
    benchmarks/    sWUGGY and tStoryCloze built with held-out voices
    eval/          pair accuracies of the trained LM and of an untrained one
    generation/    continuations of held-out prompts, transcribed and scored
    machine.json   the CPU and a GEMM calibration of this invocation (times compare across machines)
    report.html
"""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path
from typing import Any


from spokenlm.atomic import atomic_write_json, atomic_write_text
from spokenlm.perf import configure_cpu_threads, describe_machine
from spokenlm.quickstart.stages import Stage
from spokenlm.quickstart.config import QuickstartConfig
from spokenlm.report.summary import MACHINE_NAME

SPLITS = ("train", "dev", "test")


def _split_of(cut: Any) -> str:
    return (cut.supervisions[0].custom or {}).get("split", "train") if cut.supervisions else "train"


def _paths(run_dir: Path) -> dict[str, Path]:
    return {
        "corpus": run_dir / "corpus",
        "train_text": run_dir / "corpus" / "text_train.txt",
        "tokenizer": run_dir / "tokenizer",
        "tokens": run_dir / "tokens",
        "model": run_dir / "lm" / "model",
        "vocoder": run_dir / "vocoder" / "vocoder",
        "benchmarks": run_dir / "benchmarks",
    }


def _cuts(run_dir: Path, split: str) -> Path:
    return run_dir / "corpus" / f"cuts_{split}.jsonl.gz"


def record_machine(run_dir: Path, calibration_seconds: float = 1.0) -> dict[str, Any]:
    """Set the threads from the cores free now, calibrate GEMM (about ``calibration_seconds``), write ``machine.json``."""
    configure_cpu_threads()
    machine = describe_machine(calibration_seconds)
    atomic_write_json(run_dir / MACHINE_NAME, machine)
    return machine


def stage_corpus(config: QuickstartConfig, run_dir: Path) -> dict[str, Any]:
    """Synthesize the corpus, then write per-split manifests and the train text in document order."""
    from lhotse import CutSet

    from spokenlm.data.synth import build_corpus

    paths = _paths(run_dir)
    result = build_corpus(config.corpus, paths["corpus"])
    cuts = CutSet.from_file(paths["corpus"] / "cuts.jsonl.gz").to_eager()
    for split in SPLITS:
        cuts.filter(lambda cut, s=split: _split_of(cut) == s).to_file(_cuts(run_dir, split))
    train = [c for c in cuts if _split_of(c) == "train"]
    atomic_write_text(paths["train_text"], "\n".join(dict.fromkeys(c.supervisions[0].text for c in train)) + "\n")
    voices = sorted({f"{c.supervisions[0].custom['engine']}:{c.supervisions[0].custom['voice']}" for c in train})
    return {
        "hours": round(result.stats.total_hours, 3),
        "utterances": sum(result.stats.utterances.values()),
        "voices": len(set().union(*result.stats.speakers.values())),
        "test_voices": len(result.stats.speakers.get("test", ())),
        "failed": len(result.failures),
        "train_voices": voices,
    }


def stage_tokenizer(config: QuickstartConfig, run_dir: Path) -> dict[str, Any]:
    """Train the supervised phone tokenizer on the train split; score its phone error rate on the held-out voices."""
    from spokenlm.audio.loader import iter_cuts
    from spokenlm.eval.phone_error import tokenizer_phone_error
    from spokenlm.train.tasks.phone import train_phone_tokenizer

    settings = copy.deepcopy(config.tokenizer)
    settings.data.manifest = str(_paths(run_dir)["corpus"] / "cuts.jsonl.gz")
    settings.data.split = "train"
    tokenizer = train_phone_tokenizer(settings, run_dir / "tokenizer")
    scores = tokenizer_phone_error(tokenizer, iter_cuts(_cuts(run_dir, "test")))
    return {"name": tokenizer.name, "frame_rate": tokenizer.frame_rate, "vocab_size": tokenizer.vocab_size,
            "test_per": round(scores["per"], 3), "test_insertions": round(scores["insertions"], 3),
            **{f"test_per_{k.split(':')[-1]}": round(v, 3) for k, v in scores.items() if k.startswith("per:")}}


def stage_tokenize(config: QuickstartConfig, run_dir: Path) -> dict[str, Any]:
    """Tokenize the train and dev splits into shards; report the unit rate after deduplication."""
    from spokenlm.data.shards import open_token_corpus
    from spokenlm.tokenizers.bulk import TokenizeConfig, run_tokenize

    paths = _paths(run_dir)
    results: dict[str, Any] = {}
    units, seconds = 0, 0.0
    for split in ("train", "dev"):
        out = paths["tokens"] / split
        summary = run_tokenize(TokenizeConfig(manifest=str(_cuts(run_dir, split)), tokenizer=str(paths["tokenizer"]), out=str(out), workers=config.tokenize_workers))
        results[f"{split}_skipped"] = len(summary.skipped)
        for reader in open_token_corpus(out):
            for _, tokens in reader:
                units += len(tokens)
                seconds += tokens.duration_seconds
    results["units"] = units
    results["units_per_second"] = round(units / max(seconds, 1e-9), 2)
    return results


def stage_lm(config: QuickstartConfig, run_dir: Path) -> dict[str, Any]:
    """Train the unit LM on the train tokens, validating on the dev tokens."""
    from spokenlm.tokenizers.base import load_tokenizer
    from spokenlm.train.tasks.lm import train

    paths = _paths(run_dir)
    settings = copy.deepcopy(config.lm)
    settings.model.n_units = load_tokenizer(paths["tokenizer"]).vocab_size
    settings.data.train = str(paths["tokens"] / "train")
    settings.data.val = str(paths["tokens"] / "dev")
    settings.out_dir = str(run_dir / "lm")
    summary = train(settings) or {}
    return {k: v for k, v in summary.items() if isinstance(v, (int, float, str))}


def stage_vocoder(config: QuickstartConfig, run_dir: Path) -> dict[str, Any]:
    """Train the unit vocoder on the train split's audio and units."""
    from spokenlm.train.tasks.vocoder import train_vocoder

    paths = _paths(run_dir)
    settings = copy.deepcopy(config.vocoder)
    settings.tokenizer = str(paths["tokenizer"])
    settings.data.manifest = str(_cuts(run_dir, "train"))
    vocoder = train_vocoder(settings, run_dir / "vocoder")
    return {"kind": vocoder.config.kind, "steps": settings.optim.max_steps}


def stage_resynth(config: QuickstartConfig, run_dir: Path) -> dict[str, Any]:
    """Resynthesize held-out voices (test split) and score WER, speaker similarity and DNSMOS."""
    from spokenlm.eval.resynth import run_resynthesis

    paths = _paths(run_dir)
    settings = copy.deepcopy(config.resynth)
    settings.tokenizer, settings.vocoder = str(paths["tokenizer"]), str(paths["vocoder"])
    settings.data.manifest = str(_cuts(run_dir, "test"))
    settings.data.max_items = config.resynth_items or None
    settings.out_dir = str(run_dir / "resynth")
    summary = run_resynthesis(settings, evaluate=True)
    atomic_write_json(run_dir / "resynth" / "results.json", summary)
    return {k: v for k, v in summary.items() if isinstance(v, (int, float, str))}


def _write_fresh_stories(config: QuickstartConfig, path: Path) -> Path:
    """Stories the LM never saw (another seed of the same generator), one sentence a line, in order."""
    from spokenlm.data.stories import generate_stories

    items = generate_stories(config.tstorycloze_stories, seed=config.corpus.seed + 1_000_003)
    atomic_write_text(path, "\n".join(item.text for item in items) + "\n")
    return path


def stage_benchmarks(config: QuickstartConfig, run_dir: Path, voices: list[str]) -> dict[str, Any]:
    """Build sWUGGY from the corpus's words and tStoryCloze from unseen stories, both with held-out voices."""
    from spokenlm.benchmarks.build import build_benchmark

    paths = _paths(run_dir)
    swuggy = copy.deepcopy(config.swuggy)
    swuggy.words_from = str(paths["train_text"])
    swuggy.synthesis.training_voices = list(voices)
    cloze = copy.deepcopy(config.tstorycloze)
    cloze.text = str(_write_fresh_stories(config, paths["benchmarks"] / "tstorycloze_text.txt"))
    cloze.synthesis.training_voices = list(voices)
    results = {}
    for name, settings in (("swuggy", swuggy), ("tstorycloze", cloze)):
        summary = build_benchmark(name, settings, paths["benchmarks"] / name)
        results[f"{name}_pairs"] = summary["pairs"]
        results[f"{name}_voices"] = ", ".join(summary["voices"])
    return results


def stage_pairs(config: QuickstartConfig, run_dir: Path) -> dict[str, Any]:
    """Score both benchmarks with the trained LM and with an untrained LM of the same shape."""
    import torch

    from spokenlm.eval.pairs import UnitLMScorer, evaluate_pairs
    from spokenlm.models.unit_lm import UnitLM
    from spokenlm.tokenizers.base import load_tokenizer

    paths = _paths(run_dir)
    tokenizer = load_tokenizer(paths["tokenizer"])
    trained = UnitLM.from_pretrained(paths["model"])
    torch.manual_seed(config.lm.seed)
    untrained = UnitLM(trained.config)
    results: dict[str, Any] = {}
    for name in ("swuggy", "tstorycloze"):
        settings = dataclasses.replace(config.pairs, benchmark=str(paths["benchmarks"] / name), tokenizer=str(paths["tokenizer"]), model=str(paths["model"]))
        if name == "swuggy":
            settings.topline_text = str(paths["train_text"])
        for label, model in (("", trained), ("_untrained", untrained)):
            out = evaluate_pairs(settings, UnitLMScorer(model.eval()), tokenizer, run_dir / "eval" / f"{name}{label}")
            estimate = out["summed"]
            results[f"{name}{label}"] = f"{estimate['value']:.3f} [{estimate['low']:.3f}, {estimate['high']:.3f}]"
            if label == "" and "topline" in out:
                results[f"{name}_topline"] = f"{out['topline']['summed']['value']:.3f}"
    return results


def _prompt_list(config: QuickstartConfig, run_dir: Path) -> Path:
    """Held-out prompts: test-split utterances (unseen voices and stories) and the bundled real human speech."""
    from importlib import resources

    from lhotse import CutSet

    files = [c.recording.sources[0].source for c in CutSet.from_file(_cuts(run_dir, "test")) if c.duration >= config.generation.prompt_seconds + 0.5]
    chosen = files[: config.synthetic_prompts]
    real = Path(str(resources.files("spokenlm") / "resources" / "audio" / "real_prompts"))
    chosen += sorted(str(p) for p in real.iterdir() if p.suffix in (".flac", ".wav"))
    path = run_dir / "generation" / "prompts.txt"
    atomic_write_text(path, "\n".join(chosen) + "\n")
    return path


def cmudict_word_share(transcripts: list[str]) -> float:
    """Share of transcript words (lower-cased, letters and apostrophes) that are English words in CMUdict."""
    from spokenlm.benchmarks.cmu_lexicon import pronunciations

    lexicon = pronunciations()
    words = [w for t in transcripts for w in re.findall(r"[a-z']+", t.lower())]
    return sum(w in lexicon for w in words) / len(words) if words else 0.0


def stage_generation(config: QuickstartConfig, run_dir: Path) -> dict[str, Any]:
    """Continue held-out prompts, voice them with the unit vocoder, transcribe with Whisper, score.

    The summary's ``phone_error_rate`` says whether the speech says what the LM meant: the transcript's CMUdict
    phones against the LM's own phone units, at ``generation.phone_temperature``, on continuations voiced for at
    least ``generation.phone_min_seconds``, with the auto-BLEU2 of those transcripts beside it.
    """
    from lhotse import CutSet

    from spokenlm.audio.io import load_audio
    from spokenlm.data.text_sources import read_sentences
    from spokenlm.eval.asr import load_asr
    from spokenlm.eval.generative import UnitLMContinuer, evaluate_generation, read_prompt_audio
    from spokenlm.audio.speaker import speaker_embedding
    from spokenlm.eval.textlm import train_word_lm
    from spokenlm.models.unit_lm import UnitLM
    from spokenlm.quickstart.voicing import VocoderVoicer
    from spokenlm.tokenizers.base import load_tokenizer

    paths = _paths(run_dir)
    out_dir = run_dir / "generation"
    tokenizer = load_tokenizer(paths["tokenizer"])
    prompts, skipped = read_prompt_audio(_prompt_list(config, run_dir), config.generation.prompt_seconds)
    speaker = None
    if config.vocoder.speaker == "dvector":
        first = next(iter(CutSet.from_file(_cuts(run_dir, "train"))))
        wav, _ = load_audio(first.recording.sources[0].source, 16000)
        speaker = speaker_embedding(wav, 16000)
    elif config.vocoder.speaker == "table":
        speaker = 0
    voicer = VocoderVoicer(paths["vocoder"], tokenizer.frame_rate, speaker)
    text_lm = train_word_lm(read_sentences(paths["train_text"]))
    text_lm.save_pretrained(out_dir / "text_lm")
    results = evaluate_generation(
        prompts, tokenizer, UnitLMContinuer(UnitLM.from_pretrained(paths["model"]).eval(), config.generation.stop_at_eos), voicer,
        load_asr(config.generation.asr), text_lm, config.generation, out_dir,
    )
    results["skipped_prompts"] = skipped
    results["cmudict_word_share"] = cmudict_word_share([s["transcript"] for s in results.get("samples", [])])
    atomic_write_json(out_dir / "results.json", results)
    best = min(results["temperatures"], key=lambda row: row["perplexity"]) if results["temperatures"] else {}
    said = results.get("meant_vs_said", {})
    return {
        "prompts": results["prompts"],
        "cmudict_word_share": round(results["cmudict_word_share"], 3),
        **{f"best_{k}": round(float(v), 3) for k, v in best.items() if isinstance(v, (int, float)) and not k.startswith("phone_")},
        **({"phone_temperature": said["temperature"], "phone_continuations": said["continuations"],
            "phone_error_rate": round(said["per"], 3), "phone_auto_bleu2": round(said["auto_bleu2"], 3)} if said else {}),
    }


def stage_report(run_dir: Path) -> dict[str, Any]:
    """Write report.html and report.json over everything the run produced."""
    from spokenlm.report.html import build_report

    return {"report": str(build_report(run_dir))}


def quickstart_stages(config: QuickstartConfig) -> list[Stage]:
    """The ordered stages; weights are rough shares of the tiny run's wall time (for the ETA)."""

    def voices(run_dir: Path) -> list[str]:
        from spokenlm.quickstart.stages import StageRunner

        state = StageRunner(run_dir, []).load_state()
        return list(state.get("corpus", {}).get("results", {}).get("train_voices", []))

    return [
        Stage("corpus", lambda d: stage_corpus(config, d), 1.0, "synthesizing a multi-speaker corpus", ("corpus",)),
        Stage("tokenizer", lambda d: stage_tokenizer(config, d), 1.5, "training the phone tokenizer", ("tokenizer",)),
        Stage("tokenize", lambda d: stage_tokenize(config, d), 0.7, "tokenizing train and dev", ("tokens",)),
        Stage("lm", lambda d: stage_lm(config, d), 4.0, "training the unit LM", ("lm",)),
        Stage("vocoder", lambda d: stage_vocoder(config, d), 3.0, "training the unit vocoder", ("vocoder",)),
        Stage("resynth", lambda d: stage_resynth(config, d), 1.0, "resynthesis of held-out voices", ("resynth",)),
        Stage("benchmarks", lambda d: stage_benchmarks(config, d, voices(d)), 1.0, "building sWUGGY and tStoryCloze", ("benchmarks",)),
        Stage("pairs", lambda d: stage_pairs(config, d), 0.7, "scoring the pair benchmarks", ("eval",)),
        Stage("generation", lambda d: stage_generation(config, d), 1.5, "continuing held-out prompts", ("generation",)),
        Stage("report", stage_report, 0.1, "writing report.html"),
    ]

