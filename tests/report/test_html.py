"""Generative evaluation with hand-made parts, then the HTML report, opened in headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from helpers.eval_toys import ClipVoicer, EnergyTokenizer, LengthASR, RepeatContinuer, UnigramScorer

from spokenlm.audio.io import load_audio
from spokenlm.eval.generative import GenerateEvalConfig, evaluate_generation, read_prompt_audio
from spokenlm.eval.pairs import score_pairs, summarize
from spokenlm.eval.textlm import train_word_lm
from spokenlm.report.html import build_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, ljspeech_clips):
    """A run folder with a training log, a pair result and a generation result (with audio)."""
    root = tmp_path_factory.mktemp("run")
    (root / "lm").mkdir()
    (root / "lm/metrics.jsonl").write_text(
        "".join(json.dumps({"step": s, "split": "train", "loss": 5.0 / s}) + "\n" for s in range(1, 30))
        + json.dumps({"step": 29, "split": "val", "loss": 0.4}) + "\n"
    )
    scores = score_pairs(UnigramScorer([0.5, 0.3, 0.2]), [(f"p{i}", f"s{i % 3}", np.array([i % 3]), np.array([(i + 1) % 3])) for i in range(30)])
    (root / "eval-swuggy").mkdir()
    (root / "eval-swuggy/results.json").write_text(json.dumps({"skipped": 0, **summarize(scores)}))
    prompts_dir = root / "prompts"
    prompts_dir.mkdir()
    for clip in ljspeech_clips[:3]:
        shutil.copy(clip, prompts_dir / clip.name)
    (prompts_dir / "broken.flac").write_bytes(b"nope")
    prompts, skipped = read_prompt_audio(prompts_dir, seconds=2.0)
    assert len(prompts) == 3 and "broken.flac" in next(iter(skipped))
    clips = [load_audio(c, 16000) for c in ljspeech_clips[3:8]]
    config = GenerateEvalConfig(temperatures=[0.5, 0.8, 1.0], continuation_seconds=1.0, prosody_samples=2)
    text_lm = train_word_lm(LengthASR.SENTENCES * 3, min_count=1)
    out = root / "generate"
    results = evaluate_generation(prompts, EnergyTokenizer(), RepeatContinuer(), ClipVoicer(clips), LengthASR(), text_lm, config, out)
    (out / "results.json").write_text(json.dumps(results))
    return root, results


@pytest.mark.slow
def test_evs_generation_metrics(run_dir):
    _, results = run_dir
    assert [r["temperature"] for r in results["temperatures"]] == [0.5, 0.8, 1.0]
    for row in results["temperatures"]:
        assert row["perplexity"] > 1 and 0 <= row["auto_bleu2"] <= 1 and 0 <= row["vert"] <= 1
    assert len({r["vert"] for r in results["temperatures"]}) > 1  # the sweep changes the continuations
    assert "oracle" in results and np.isfinite(results["auc"]["auc"])
    prosody = results["prosody"]
    assert prosody["samples_per_prompt"] == 2 and np.isfinite(prosody["expressiveness"]) and np.isfinite(prosody["min_mae"])
    assert len(results["samples"]) == 9


def test_evs_empty_continuations_are_kept_and_counted(ljspeech_clips, tmp_path):
    class EndsAtOnce(RepeatContinuer):
        """The first prompt's continuation is empty (an LM that ends with EOS at once)."""

        def continue_units(self, prompts, max_units, temperature, seed):
            out = super().continue_units(prompts, max_units, temperature, seed)
            return [np.zeros(0, dtype=np.int64), *out[1:]]

    for clip in ljspeech_clips[:2]:
        shutil.copy(clip, tmp_path / clip.name)
    prompts, _ = read_prompt_audio(tmp_path, seconds=2.0)
    clips = [load_audio(c, 16000) for c in ljspeech_clips[3:5]]
    config = GenerateEvalConfig(temperatures=[0.5, 1.0], continuation_seconds=1.0, prosody_samples=2)
    text_lm = train_word_lm(LengthASR.SENTENCES * 3, min_count=1)
    results = evaluate_generation(prompts, EnergyTokenizer(), EndsAtOnce(), ClipVoicer(clips), LengthASR(), text_lm, config, tmp_path / "out")
    assert [row["empty_continuations"] for row in results["temperatures"]] == [1, 1]
    empty = [s for s in results["samples"] if s["units"] == 0]
    assert len(empty) == 2 and all(s["audio"] is None and s["transcript"] == "" for s in empty)
    assert np.isfinite(results["prosody"]["expressiveness"])
    (tmp_path / "out" / "results.json").write_text(json.dumps(results))
    assert "empty continuation" in build_report(tmp_path).read_text()


@pytest.mark.slow
def test_evs_report_renders_in_headless_chromium(run_dir, tmp_path):
    root, _ = run_dir
    page = build_report(root)
    text = page.read_text()
    assert text.count("<audio") == 2 * 9 + 2 * 3 and text.count("<img") >= 5  # every sample, and the 3 prompts of T=0.5 up top
    assert "phone" not in text or "topline" in text
    report = json.loads((root / "report.json").read_text())
    assert set(report["pairs"]) == {"eval-swuggy"} and set(report["generation"]) == {"generate"}
    for sample in report["generation"]["generate"]["samples"]:
        assert (root / "generate" / sample["audio"]).is_file()
    if CHROMIUM is None:
        pytest.skip("chromium not installed")
    shot = tmp_path / "shot.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}"]
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1200,2400", page.as_uri()], capture_output=True, timeout=120)
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert dom.count("<audio") == 24 and "data:image/png;base64" in dom
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[0] > 1000 and pixels.std() > 0.05  # not a blank page
    assert (pixels.mean(axis=2) < 0.5).mean() > 0.005  # text and plots drawn


def test_the_report_opens_with_the_summary_table_and_listening_pairs_that_exist(tmp_path, ljspeech_clips):
    """A staged run: state.json + machine.json, a generation result and a resynthesis, all with real audio files."""
    import re
    from pathlib import Path

    from spokenlm.report.summary import machine_line

    run = tmp_path / "run"
    for folder in ("generation/audio/prompts", "generation/audio/t0.8", "resynth/audio", "resynth/original"):
        (run / folder).mkdir(parents=True)
    samples = []
    for i, clip in enumerate(ljspeech_clips[:3]):
        shutil.copy(clip, run / "generation/audio/prompts" / f"p{i}.flac")
        shutil.copy(clip, run / "generation/audio/t0.8" / f"p{i}.flac")
        samples.append({"prompt_id": f"p{i}", "temperature": 0.8, "units": 9, "prompt_audio": f"audio/prompts/p{i}.flac",
                        "audio": f"audio/t0.8/p{i}.flac", "transcript": "the cat sat", "seconds": 3.5})
    samples.append({**samples[0], "temperature": 1.0, "audio": "audio/t1/missing.flac"})  # another temperature: not up top
    row = {"perplexity": 40.0, "auto_bleu2": 0.1, "self_bleu2": 0.2, "vert": 0.14, "phone_error_rate": 0.6, "phone_continuations": 3}
    said = {"temperature": 0.8, "min_seconds": 3.0, "per": 0.6, "continuations": 3, "auto_bleu2": 0.1}
    (run / "generation/results.json").write_text(json.dumps({"prompts": 3, "temperatures": [{"temperature": 0.8, **row}, {"temperature": 1.0, **row}],
                                                             "samples": samples, "meant_vs_said": said}))
    for clip in ljspeech_clips[3:5]:
        shutil.copy(clip, run / "resynth/audio" / f"{clip.stem}.wav")
        shutil.copy(clip, run / "resynth/original" / f"{clip.stem}.wav")
    (run / "resynth/resynth.csv").write_text("id,asr_resynth\n" + "".join(f"{c.stem},a dog ran\n" for c in ljspeech_clips[3:5]) + "gone,x\n")
    state = {"corpus": {"results": {"hours": 0.1, "voices": 4}, "seconds": 12.5, "threads": 2},
             "generation": {"results": {"phone_error_rate": 0.6}, "seconds": 30.0, "threads": 1}}
    (run / "state.json").write_text(json.dumps(state))
    machine = {"cpu_model": "AMD EPYC (family 25, model 1)", "cores": 2, "avx512_bf16": False, "amx": False, "gemm_threads": 2, "gemm_gflops": 41.0}
    (run / "machine.json").write_text(json.dumps(machine))

    text = build_report(run).read_text()
    body = text[text.index("<body>"):]
    first_table = body.index("<table>")
    assert first_table < body.index("<h2>") and body.index("<audio") < body.index("<h2>")  # summary and players before any section
    assert "<th>stage</th><th>seconds</th><th>threads</th><th>results</th>" in body[first_table:body.index("</table>")]
    assert "<td>corpus</td><td>12.5</td><td>2</td><td>hours=0.1, voices=4</td>" in body
    assert machine_line(machine) in body and body.index(machine_line(machine)) < first_table
    headline = body[: body.index("<h2>")]
    sources = re.findall(r'<audio[^>]*src="([^"]+)"', headline)
    assert len(sources) == 2 * 3 + 2 * 2  # 3 prompt → continuation pairs at T=0.8, 2 original → resynthesis pairs
    assert all(not Path(src).is_absolute() and (run / src).is_file() for src in sources)
    assert headline.index("prompt → continuation") < headline.index("original → resynthesis")
    assert "phone error rate" in body and "<th>phone_error_rate</th>" in body
