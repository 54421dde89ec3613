"""``spokenlm benchmarks build``, ``spokenlm eval pairs``, ``spokenlm eval generate`` and ``spokenlm report``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from spokenlm.cli.apps import app, benchmarks_app, eval_app
from spokenlm.cli.common import CONFIG_OPTION, OVERRIDES_ARGUMENT, console, resolve_config, user_errors

stdout = Console()


def _print_failures(kind: str, failures: dict[str, str]) -> None:
    if failures:
        console.print(f"[yellow]{len(failures)} {kind} skipped:[/]", highlight=False)
        for key, reason in list(failures.items())[:10]:
            console.print(f"  {key}: {reason}", highlight=False, soft_wrap=True)


@benchmarks_app.command("build")
def build(
    name: str = typer.Argument(..., help="Benchmark: swuggy, sblimp, tstorycloze, sstorycloze or salmon."),
    out_dir: Path = typer.Argument(..., help="Folder to create or finish: pairs.jsonl, audio/, config.yaml, build_summary.json."),
    config: Path = CONFIG_OPTION,
    overrides: list[str] = OVERRIDES_ARGUMENT,
) -> None:
    """Build a spoken pair benchmark with TTS voices held out from training.

    Every item is spoken by synthesis.voices_per_item voices picked from synthesis.engines
    (never one of synthesis.training_voices); sWUGGY speaks real and pseudo-words from phonemes.
    Rerunning the same command resumes: finished audio is kept, partial files are redone.
    Examples: spokenlm benchmarks build swuggy out/swuggy num_words=300 synthesis.training_voices=espeak-ng:en-us+m1;
    spokenlm benchmarks build sblimp out/sblimp blimp=path/to/blimp/
    """
    from spokenlm.benchmarks.build import benchmark, build_benchmark
    from spokenlm.config import load_config

    with user_errors():
        spec = benchmark(name)
        # start from the benchmark's defaults so partial overrides keep its nested defaults
        cfg = load_config(spec.config_class, config, overrides or [], base=spec.config_class())
        summary = build_benchmark(name, cfg, out_dir)
    stdout.print(f"{name}: {summary['pairs']} pairs in {out_dir} (voices: {', '.join(summary['voices'])})")
    _print_failures("audio files failed and their pairs were", summary["failures"])


def _accuracy_table(title: str, results: dict) -> Table:
    table = Table(title=title)
    for column in ("subset", "pairs", "summed", "normalized"):
        table.add_column(column, justify="left" if column == "subset" else "right")

    def cell(estimate: dict) -> str:
        return f"{estimate['value']:.3f} [{estimate['low']:.3f}, {estimate['high']:.3f}]"

    for subset, values in results["subsets"].items():
        table.add_row(subset, str(values["pairs"]), cell(values["summed"]), cell(values["normalized"]))
    table.add_row("all", str(results["pairs"]), cell(results["summed"]), cell(results["normalized"]), style="bold")
    if "topline" in results:
        top = results["topline"]
        table.add_row("phone n-gram topline", str(top["pairs"]), cell(top["summed"]), cell(top["normalized"]), style="italic")
    return table


@eval_app.command("pairs")
def pairs(
    out_dir: Path = typer.Argument(..., help="Folder for results.json, scores.jsonl and config.yaml."),
    config: Path = CONFIG_OPTION,
    overrides: list[str] = OVERRIDES_ARGUMENT,
) -> None:
    """Score a pair benchmark with a unit LM: accuracy (summed and per-token) with Wilson intervals, per subset.

    Needs benchmark=FOLDER tokenizer=FOLDER model=FOLDER. The model is a spokenlm unit LM, or a published TWIST or
    Slam HF folder scored with its own unit-id convention (spokenlm.models.hf_unit_lm). sWUGGY results also show the
    phone n-gram topline trained on topline_text (default: the bundled LJSpeech transcripts). A benchmark imported
    with `spokenlm benchmarks import` also gets its reference breakdown in OUT_DIR/reference/ (and, for slm21,
    ZeroSpeech submission files in OUT_DIR/submission/).
    Example: spokenlm eval pairs out/eval-swuggy benchmark=out/swuggy tokenizer=tok/ model=lm/model
    """
    from spokenlm.config import save_config
    from spokenlm.errors import ConfigError
    from spokenlm.eval.pairs import PairEvalConfig, UnitLMScorer, evaluate_pairs
    from spokenlm.models.hf_unit_lm import hf_unit_lm_family, load_hf_unit_lm
    from spokenlm.models.unit_lm import UnitLM
    from spokenlm.tokenizers.base import load_tokenizer

    cfg = resolve_config(PairEvalConfig, config, overrides)
    with user_errors():
        if not (cfg.benchmark and cfg.tokenizer and cfg.model):
            raise ConfigError("eval pairs needs benchmark=FOLDER tokenizer=FOLDER model=FOLDER")
        save_config(cfg, out_dir)
        scorer = load_hf_unit_lm(cfg.model) if hf_unit_lm_family(cfg.model) else UnitLMScorer(UnitLM.from_pretrained(cfg.model))
        results = evaluate_pairs(cfg, scorer, load_tokenizer(cfg.tokenizer), out_dir)
    stdout.print(_accuracy_table(f"{cfg.benchmark} ({cfg.model})", results))
    _print_failures("pairs with bad audio were", results["skipped_reasons"])


@eval_app.command("generate")
def generate(
    out_dir: Path = typer.Argument(..., help="Folder for results.json, audio/ (prompts, continuations), text_lm/ and config.yaml."),
    config: Path = CONFIG_OPTION,
    overrides: list[str] = OVERRIDES_ARGUMENT,
) -> None:
    """Continue 3-second prompts at several temperatures; report perplexity, auto-BLEU, VERT, AUC and prosody.

    Needs prompts=AUDIO_FOLDER tokenizer=FOLDER model=FOLDER. The units are voiced by vocoder=FOLDER
    (a unit vocoder) or else by the tokenizer's own decoder (codecs). text_lm=FOLDER picks a HF causal
    LM (or spokenlm n-gram); without it a word 3-gram is trained on text_corpus and saved in OUT_DIR/text_lm.
    With a phone tokenizer it also reports whether the speech says what the LM meant: the phone error rate
    of the transcript's CMUdict phones against the LM's own units, at phone_temperature, on continuations
    of at least phone_min_seconds, with their auto-BLEU2 beside it.
    Example: spokenlm eval generate out/gen prompts=tests/assets/ljspeech tokenizer=codec/ model=lm/model asr=whisper
    """
    from spokenlm.atomic import atomic_write_json
    from spokenlm.data.text_sources import read_sentences
    from spokenlm.config import save_config
    from spokenlm.errors import ConfigError
    from spokenlm.eval.asr import load_asr
    from spokenlm.eval.generative import GenerateEvalConfig, TokenizerVoicer, UnitLMContinuer, evaluate_generation, read_prompt_audio
    from spokenlm.eval.genppl import load_text_lm
    from spokenlm.eval.textlm import train_word_lm
    from spokenlm.models.hf_unit_lm import hf_unit_lm_family, load_hf_unit_lm
    from spokenlm.models.unit_lm import UnitLM
    from spokenlm.quickstart.voicing import VocoderVoicer
    from spokenlm.tokenizers.base import load_tokenizer

    cfg = resolve_config(GenerateEvalConfig, config, overrides)
    with user_errors():
        if not (cfg.prompts and cfg.tokenizer and cfg.model):
            raise ConfigError("eval generate needs prompts=AUDIO_FOLDER tokenizer=FOLDER model=FOLDER")
        save_config(cfg, out_dir)
        tokenizer = load_tokenizer(cfg.tokenizer)
        if hf_unit_lm_family(cfg.model):
            continuer = load_hf_unit_lm(cfg.model)
        else:
            continuer = UnitLMContinuer(UnitLM.from_pretrained(cfg.model), cfg.stop_at_eos)
        prompts, skipped = read_prompt_audio(cfg.prompts, cfg.prompt_seconds, cfg.max_prompts)
        asr = load_asr(cfg.asr)
        if cfg.text_lm:
            text_lm = load_text_lm(cfg.text_lm)
        else:
            text_lm = train_word_lm(read_sentences(cfg.text_corpus))
            text_lm.save_pretrained(out_dir / "text_lm")
        voicer = VocoderVoicer(cfg.vocoder, tokenizer.frame_rate) if cfg.vocoder else TokenizerVoicer(tokenizer)
        results = evaluate_generation(prompts, tokenizer, continuer, voicer, asr, text_lm, cfg, out_dir)
        results["skipped_prompts"] = skipped
        atomic_write_json(out_dir / "results.json", results)
    table = Table(title=f"generation ({cfg.model})")
    for column in ("temperature", "perplexity", "auto-BLEU2", "self-BLEU2", "VERT"):
        table.add_column(column, justify="right")
    for row in results["temperatures"]:
        table.add_row(*(f"{row[k]:.4g}" for k in ("temperature", "perplexity", "auto_bleu2", "self_bleu2", "vert")))
    stdout.print(table)
    if "meant_vs_said" in results:
        said = results["meant_vs_said"]
        stdout.print(f"meant vs said at T={said['temperature']:g}: phone error rate {said['per']:.3f} on {said['continuations']} "
                     f"continuation(s) of ≥ {said['min_seconds']:g} s, auto-BLEU2 {said['auto_bleu2']:.3f}", highlight=False)
    _print_failures("prompt files were", skipped)


@app.command("report")
def report(
    run_dir: Path = typer.Argument(..., help="Run folder: every metrics.jsonl and results.json under it is reported."),
    max_players: int = typer.Option(12, help="Audio players (prompt + continuation) shown per generation result."),
) -> None:
    """Write RUN_DIR/report.html (tables, plots, audio players) and RUN_DIR/report.json (all results)."""
    from spokenlm.report.html import build_report

    with user_errors():
        path = build_report(run_dir, max_players)
    stdout.print(f"report: {path}")
