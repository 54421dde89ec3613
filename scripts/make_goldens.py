"""Record the golden values that refactors must not change (``tests/golden/``).

Run it from the repository root, once, at the commit whose numbers are the reference::

    .venv/bin/python scripts/make_goldens.py            # writes tests/golden/ (about 3 minutes, one thread)
    .venv/bin/python scripts/make_goldens.py --compare  # writes nothing: how far today's trainers are from them
    .venv/bin/python scripts/make_goldens.py --rerecord hubert --reason "…"  # one trainer whose numbers moved on purpose

What it records, all with fixed seeds, ``precision=fp32`` and one torch thread:

- ``losses.safetensors``: every logged loss of the first 50 steps of each trainer at tiny size
  (``<run>/<metric>`` float64 ``[steps]``), from the CLI commands listed in ``goldens.json``
  (the golden test replays them): the unit LM, the codec (with a discriminator from step 25),
  the mixed tokenizer, HuBERT pre-training (2 iterations), the phone tokenizer and three vocoder
  kinds (unit-mel, unit-iSTFT with a discriminator from step 25, unit-HiFi-GAN with F0);
- ``checkpoints/``: the folders those runs saved (tokenizers, vocoders, the LM) plus the fitted
  k-means, BPE, Whisper-k-means and mel tokenizers — the "old checkpoints" that must keep loading;
- ``tokens.safetensors``: each tokenizer's ids (and durations) for one held-out real speech file;
- ``outputs.safetensors``: each vocoder's waveform for fixed tokens, each decoding tokenizer's
  waveform for its own tokens, and the LM's logits for a fixed token window;
- ``lm-tokens/``: the token shards the LM run trains on (so the LM golden does not depend on the
  tokenizer's floating point);
- ``goldens.json``: the commands, which metric is each run's loss, the machine, the headline
  numbers of ``spokenlm quickstart --scale micro``, and under ``rerecorded`` the trainers whose
  losses were recorded again later, with the commit and the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STEPS = 50
FIXED_FILE = "tests/assets/speechbrain/ASR/spk1_snt1.wav"  # a Harvard sentence by a speaker no golden run trains on
FIXED_SPEAKER = "george"  # of the unit-HiFi-GAN speaker table
TRAIN_AUDIO = "data.audio=['tests/assets/ljspeech/LJ001-000[1-6].flac', 'tests/assets/fsdd/[0-4]_*_0.flac']"

# name -> (argv after `python -m spokenlm`, metrics file inside the output folder, the metric that is "the loss")
# {out} is the run's output folder, {work} the scratch folder, {golden} the golden folder.
TRAINERS: dict[str, dict] = {
    "phone": {
        "argv": ["train-tokenizer", "-c", "recipes/tokenizer-phone.yaml", "-o", "{out}", "data.manifest={work}/corpus/cuts.jsonl.gz",
                 "data.split=null", "model.channels=32", "model.hidden=32", "model.conv_layers=1", f"optim.max_steps={STEPS}", "optim.batch_size=4",
                 "segment_seconds=1.0", "log_every=1", f"save_every={STEPS}"],
        "metrics": ["metrics.jsonl"], "loss": "loss",
    },
    "hubert": {
        "argv": ["train-tokenizer", "-c", "recipes/tokenizer-hubert-tiny.yaml", "-o", "{out}", TRAIN_AUDIO, "model.dim=32", "model.layers=2",
                 "model.heads=2", "model.ffn_dim=64", "model.final_dim=16", "model.pos_conv_kernel=16", "model.pos_conv_groups=4",
                 "model.layer=1", "iterations=2", "target_clusters=[16, 16]", "target_layer=1", "kmeans.k=16", f"train.optim.max_steps={STEPS}",
                 "train.optim.batch_size=4", "train.crop_seconds=1.0", "train.optim.warmup_steps=10", f"train.save_every={STEPS}",
                 "train.precision=fp32", "name=hubert-golden"],
        "metrics": ["train/iter1/metrics.jsonl", "train/iter2/metrics.jsonl"], "loss": "loss",
    },
    "codec": {
        "argv": ["train-tokenizer", "-c", "recipes/tokenizer-codec-tiny.yaml", "-o", "{out}", TRAIN_AUDIO, "model.channels=4",
                 "model.dimension=32", "model.num_codebooks=4", "model.codebook_size=64", "segment_seconds=0.32", "optim.batch_size=2",
                 f"optim.max_steps={STEPS}", "log_every=1", f"save_every={STEPS}", "adversarial_weight=1.0", "discriminator_start=25",
                 "discriminator_channels=4", "discriminator_fft_sizes=[256, 512]", "precision=fp32", "name=codec-golden"],
        "metrics": ["metrics.jsonl"], "loss": "loss",
    },
    "mixed": {
        "argv": ["train-tokenizer", "-c", "recipes/tokenizer-mixed-tiny.yaml", "-o", "{out}", TRAIN_AUDIO, "model.channels=4",
                 "model.dimension=32", "model.num_codebooks=4", "model.codebook_size=64", "segment_seconds=0.32", "optim.batch_size=2",
                 f"optim.max_steps={STEPS}", "log_every=1", f"save_every={STEPS}", "precision=fp32", "teacher={type: mfcc, n_mfcc: 13}",
                 "name=mixed-golden"],
        "metrics": ["metrics.jsonl"], "loss": "loss",
    },
    "lm": {
        "argv": ["train", "-c", "recipes/gslm-tiny.yaml", "data.train={golden}/lm-tokens", "out_dir={out}", "model.n_units=32", "model.dim=32",
                 "model.n_layers=2", "model.n_heads=4", "model.max_seq_len=64", "model.dropout=0.1", "data.seq_len=32", "optim.batch_size=4",
                 f"optim.max_steps={STEPS}", "optim.warmup_steps=5", "log_every=1", "eval_every=25", f"save_every={STEPS}", "precision=fp32"],
        "metrics": ["metrics.jsonl"], "loss": "loss",
    },
    "vocoder-unit-mel": {
        "argv": ["train-vocoder", "{out}", "-c", "recipes/vocoder-unit-mel-tiny.yaml", "tokenizer={checkpoints}/mfcc-km", TRAIN_AUDIO,
                 "model.mel_vocoder=griffin-lim", "model.conditioning.dim=16", "model.unit_to_mel.dim=16", "model.unit_to_mel.intermediate_dim=32",
                 "model.unit_to_mel.num_layers=1", "model.duration.dim=16", "model.duration.num_layers=1", "speaker=none", f"optim.max_steps={STEPS}",
                 "optim.batch_size=2", "segment_frames=32", "log_every=1", f"save_every={STEPS}", "precision=fp32"],
        "metrics": ["metrics.jsonl"], "loss": "loss",
    },
    "vocoder-unit-istft": {
        "argv": ["train-vocoder", "{out}", "-c", "recipes/vocoder-unit-istft-tiny.yaml", "tokenizer={checkpoints}/mfcc-km", TRAIN_AUDIO,
                 "model.conditioning.dim=16", "model.istft.dim=16", "model.istft.intermediate_dim=32", "model.istft.num_layers=2",
                 "speaker=none", "discriminator.channels=2", "discriminator.periods=[2, 3]", "discriminator.num_scales=1",
                 "adversarial_start=25", f"optim.max_steps={STEPS}", "optim.batch_size=2", "segment_frames=8", "log_every=1", f"save_every={STEPS}",
                 "precision=fp32"],
        "metrics": ["metrics.jsonl"], "loss": "loss",
    },
    "vocoder-unit-hifigan": {
        "argv": ["train-vocoder", "{out}", "-c", "recipes/vocoder-unit-hifigan-tiny.yaml", "tokenizer={checkpoints}/mfcc-km",
                 "data.audio=['tests/assets/fsdd/[0-4]_*_0.flac']", "model.conditioning.dim=16", "model.conditioning.f0_bins=8",
                 "model.hifigan.upsample_initial_channel=16", f"optim.max_steps={STEPS}", "optim.batch_size=2", "segment_frames=8",
                 "adversarial_start=1000000", "log_every=1", f"save_every={STEPS}", "precision=fp32"],
        "metrics": ["metrics.jsonl"], "loss": "loss",
    },
}

# Tokenizers fitted without gradient steps (their folders and tokens are golden too).
FITTED: dict[str, list[str]] = {
    "mfcc-km": ["train-tokenizer", "-c", "recipes/tokenizer-mfcc-km.yaml", "-o", "{out}", TRAIN_AUDIO, "kmeans.k=32", "name=mfcc-km32"],
    "mfcc-km-bpe": ["train-tokenizer", "-c", "recipes/tokenizer-mfcc-km.yaml", "-o", "{out}", TRAIN_AUDIO, "kmeans.k=32", "bpe_vocab_size=48",
                    "name=mfcc-km32-bpe48"],
    "whisper-km": ["train-tokenizer", "-c", "recipes/tokenizer-whisper-km.yaml", "-o", "{out}",
                   "data.audio=['tests/assets/ljspeech/LJ001-000[1-3].flac']", "kmeans.k=16", "name=whisper-km16"],
    "dmel": ["train-tokenizer", "-c", "recipes/tokenizer-dmel.yaml", "-o", "{out}", TRAIN_AUDIO, "bins=8", "name=dmel8"],
    "mel-rvq": ["train-tokenizer", "-c", "recipes/tokenizer-mel-rvq.yaml", "-o", "{out}", TRAIN_AUDIO, "codebooks=2", "codebook_size=32",
                "max_frames=20000", "name=mel-rvq2x32"],
}
TOKENIZER_RUNS = ["mfcc-km", "mfcc-km-bpe", "whisper-km", "dmel", "mel-rvq", "phone", "hubert", "codec", "mixed"]
VOCODER_RUNS = ["vocoder-unit-mel", "vocoder-unit-istft", "vocoder-unit-hifigan"]


def environment() -> dict[str, str]:
    """One torch thread, the repo on the path: the same float reductions in every run."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}


def fill(argv: list[str], **places: Path) -> list[str]:
    """``argv`` with ``{out}``, ``{work}``, ``{golden}``, ``{checkpoints}`` replaced by ``places``."""
    filled = []
    for arg in argv:
        for key, value in places.items():
            arg = arg.replace("{" + key + "}", str(value))
        filled.append(arg)
    return filled


def spokenlm(argv: list[str], log: Path) -> None:
    """Run ``python -m spokenlm ARGV`` in the repository root; stop with its output if it fails."""
    result = subprocess.run([sys.executable, "-m", "spokenlm", *argv], cwd=REPO, env=environment(), capture_output=True, text=True)
    log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise SystemExit(f"failed: spokenlm {' '.join(argv)}\n{(result.stdout + result.stderr)[-4000:]}")


def read_losses(out: Path, spec: dict) -> dict[str, list[float]]:
    """Every numeric metric per step of a run's metrics file(s), concatenated in file order."""
    series: dict[str, list[float]] = {}
    for name in spec["metrics"]:
        rows = [json.loads(line) for line in (out / name).read_text().splitlines() if line.strip()]
        rows = [r for r in rows if r.get("split", "train") == "train"]
        for row in rows:
            for key, value in row.items():
                if key not in ("step", "elapsed_s", "lr", "tokens_per_s", "tokens_seen", "mfu", "split") and isinstance(value, (int, float)):
                    series.setdefault(key, []).append(float(value))
    if spec["loss"] not in series and "loss" in series:
        series[spec["loss"]] = series["loss"]  # the training loop logs every run's optimised total as "loss"
    return series


def build_phone_corpus(work: Path) -> Path:
    """A paired real-speech manifest (LJSpeech with its text, FSDD digit words) for the phone tokenizer."""
    lines = []
    for row in (REPO / "tests/assets/ljspeech/metadata.csv").read_text().splitlines()[:8]:
        utt, _, normalized = row.split("|")
        lines.append({"id": utt, "path": str(REPO / "tests/assets/ljspeech" / f"{utt}.flac"), "text": normalized, "speaker": "lj"})
    for path in sorted((REPO / "tests/assets/fsdd").glob("[0-4]_*_0.flac")):
        digit, speaker, _ = path.stem.split("_")
        words = ("zero", "one", "two", "three", "four")
        lines.append({"id": path.stem, "path": str(path), "text": words[int(digit)], "speaker": speaker})
    listing = work / "phone-corpus.jsonl"
    listing.write_text("".join(json.dumps(line) + "\n" for line in lines))
    spokenlm(["data", "import", "jsonl", str(listing), str(work / "corpus")], work / "import.log")
    return work / "corpus" / "cuts.jsonl.gz"


def build_lm_tokens(work: Path, golden: Path, tokenizer: Path) -> None:
    """Tokenize FSDD (300 clips, 6 speakers) with the golden MFCC k-means into ``golden/lm-tokens``."""
    spokenlm(["data", "import", "fsdd", "tests/assets/fsdd", str(work / "fsdd")], work / "import-fsdd.log")
    target = golden / "lm-tokens"
    shutil.rmtree(target, ignore_errors=True)
    spokenlm(["tokenize", str(work / "fsdd" / "cuts.jsonl.gz"), "--tokenizer", str(tokenizer), "--out", str(target)], work / "tokenize.log")
    for skipped in target.glob("skipped.jsonl"):
        skipped.unlink()


def record_outputs(golden: Path) -> tuple[dict, dict]:
    """Tokens of the fixed file per tokenizer and waveforms per vocoder / decoding tokenizer (in this process, one thread)."""
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from spokenlm.audio.io import load_audio
    from spokenlm.models.unit_lm import UnitLM
    from spokenlm.tokenizers.base import load_tokenizer
    from spokenlm.tokens import Tokens
    from spokenlm.vocoders import load_vocoder

    checkpoints = golden / "checkpoints"
    wav, sr = load_audio(REPO / FIXED_FILE)
    tokens, outputs = {}, {}
    for name in TOKENIZER_RUNS:
        tokenizer = load_tokenizer(checkpoints / name)
        result = tokenizer.encode(wav, sr)[0]
        tokens[f"{name}/ids"] = torch.from_numpy(result.ids.copy())
        if result.durations is not None:
            tokens[f"{name}/durations"] = torch.from_numpy(result.durations.copy())
        if tokenizer.has_decoder:
            outputs[f"decode/{name}"] = torch.from_numpy(np.asarray(tokenizer.decode(result), dtype=np.float32))
    units = Tokens(tokens["mfcc-km/ids"].numpy(), 50.0, "mfcc-km32", tokens["mfcc-km/durations"].numpy())
    for name in VOCODER_RUNS:
        vocoder = load_vocoder(checkpoints / name)
        speaker = FIXED_SPEAKER if vocoder.config.conditioning.num_speakers else None
        f0 = np.linspace(90.0, 220.0, len(units.expanded()), dtype=np.float32) if vocoder.config.conditioning.f0_bins else None
        outputs[f"vocoder/{name}"] = torch.from_numpy(vocoder(units, speaker=speaker, f0=f0))
        if vocoder.config.kind == "unit-mel":
            vocoder.config.mel_vocoder = "hifigan-universal"
            vocoder._mel_vocoder = None
            outputs[f"vocoder/{name}+hifigan-universal"] = torch.from_numpy(vocoder(units))
    lm = UnitLM.from_pretrained(checkpoints / "lm").eval()
    window = torch.as_tensor(lm.vocab.encode_units(tokens["mfcc-km/ids"][0].numpy()[:40]))[None]
    with torch.no_grad():
        outputs["lm/logits"] = lm(window)[0].float()
    outputs["lm/input"] = window[0]
    return tokens, outputs


def run_quickstart(work: Path) -> dict:
    """``spokenlm quickstart --scale micro``: every stage's numeric results (state.json, timings left out) and pair accuracies."""
    run = work / "quickstart"
    shutil.rmtree(run, ignore_errors=True)
    spokenlm(["quickstart", str(run), "--scale", "micro"], work / "quickstart.log")
    return quickstart_headline(run)


def quickstart_headline(run: Path) -> dict[str, float]:
    """``stage.key`` → number for a finished quickstart folder (the golden test reads a fresh run the same way)."""
    state = json.loads((run / "state.json").read_text())
    headline = {f"{stage}.{key}": float(value) for stage, entry in state.items() for key, value in entry["results"].items()
                if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "rtf"}
    for results in sorted((run / "eval").glob("*/results.json")):
        scored = json.loads(results.read_text())
        for kind in ("summed", "normalized"):
            headline[f"pairs.{results.parent.name}.{kind}"] = float(scored[kind]["value"])
    return headline


def compare(golden: Path, work: Path) -> None:
    """Replay the recorded trainer commands and print how far every logged term is from its golden values."""
    import numpy as np
    from safetensors.torch import load_file

    meta = json.loads((golden / "goldens.json").read_text())
    recorded = load_file(str(golden / "losses.safetensors"))
    if not (work / "corpus" / "cuts.jsonl.gz").is_file():
        build_phone_corpus(work)
    print(f"{'run':22s} {'term':18s} largest relative difference by step 5 / 10 / 50")
    for name, spec in meta["trainers"].items():
        out = work / "runs" / name
        shutil.rmtree(out, ignore_errors=True)
        spokenlm(fill(spec["argv"], out=out, work=work, golden=golden, checkpoints=golden / "checkpoints"), work / f"{name}.log")
        series = read_losses(out, spec)
        for key, values in recorded.items():
            run, term = key.split("/", 1)
            if run != name:
                continue
            ours, theirs = np.asarray(series.get(term, [np.nan] * len(values))), values.numpy()
            rel = np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-12) if len(ours) == len(theirs) else np.full(len(theirs), np.inf)
            print(f"{name:22s} {term:18s} {rel[:5].max():.1e} / {rel[:10].max():.1e} / {rel.max():.1e}")


def rerecord(golden: Path, work: Path, name: str, reason: str) -> None:
    """Replace one trainer's golden losses by a fresh run of its recorded command (or, for ``quickstart``, the micro
    quickstart's headline numbers), keeping everything else (the checkpoints of the old code included) and noting why
    in ``goldens.json``."""
    meta = json.loads((golden / "goldens.json").read_text())
    if name == "quickstart":
        meta["quickstart_micro"] = run_quickstart(work)
    elif name not in meta["trainers"]:
        raise SystemExit(f"no trainer {name!r} in the goldens; known: quickstart, {', '.join(meta['trainers'])}")
    else:
        rerecord_losses(golden, work, meta["trainers"][name], name)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    meta.setdefault("rerecorded", {})[name] = {"commit": commit, "machine": machine(), "reason": reason}
    (golden / "goldens.json").write_text(json.dumps(meta, indent=1) + "\n")


def rerecord_losses(golden: Path, work: Path, spec: dict, name: str) -> None:
    """Replace the golden loss terms of trainer ``name`` by a fresh run of its recorded command ``spec``."""
    import torch
    from safetensors.torch import load_file, save_file

    if not (work / "corpus" / "cuts.jsonl.gz").is_file():
        build_phone_corpus(work)
    out = work / "runs" / name
    shutil.rmtree(out, ignore_errors=True)
    spokenlm(fill(spec["argv"], out=out, work=work, golden=golden, checkpoints=golden / "checkpoints"), work / f"{name}.log")
    recorded = load_file(str(golden / "losses.safetensors"))
    terms = {k for k in recorded if k.startswith(f"{name}/")}  # the terms recorded before (never timings)
    losses = {k: v for k, v in recorded.items() if k not in terms}
    losses.update({f"{name}/{key}": torch.tensor(values, dtype=torch.float64) for key, values in read_losses(out, spec).items()
                   if f"{name}/{key}" in terms})
    save_file(losses, str(golden / "losses.safetensors"))


def machine() -> str:
    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
        model = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("Model name"))
    except (OSError, StopIteration):
        model = platform.processor()
    import torch

    return f"{model}, {platform.machine()}, torch {torch.__version__}, ATen CPU capability {torch.backends.cpu.get_cpu_capability()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "golden", help="golden folder to (re)write")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--skip-quickstart", action="store_true", help="keep the quickstart headline numbers already in goldens.json")
    parser.add_argument("--compare", action="store_true", help="write nothing: replay the trainers and print their distance to the goldens")
    parser.add_argument("--rerecord", metavar="TRAINER", help="re-record only this trainer's losses, or `quickstart` for the micro quickstart's numbers (a change that moves them on purpose)")
    parser.add_argument("--reason", default="", help="with --rerecord: why its numbers changed (kept in goldens.json)")
    args = parser.parse_args()
    golden = args.out.resolve()
    work = (args.work or Path(tempfile.mkdtemp(prefix="goldens-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if args.compare:
        compare(golden, work)
        return
    if args.rerecord:
        if not args.reason:
            raise SystemExit("--rerecord needs --reason: say why the numbers changed")
        rerecord(golden, work, args.rerecord, args.reason)
        return
    checkpoints = golden / "checkpoints"
    previous = json.loads((golden / "goldens.json").read_text()) if (golden / "goldens.json").is_file() else {}
    shutil.rmtree(checkpoints, ignore_errors=True)
    checkpoints.mkdir(parents=True)
    places = {"work": work, "golden": golden, "checkpoints": checkpoints}

    for name, argv in FITTED.items():
        print(f"fitting {name}", flush=True)
        spokenlm(fill(argv, out=checkpoints / name, **places), work / f"{name}.log")
    build_phone_corpus(work)
    build_lm_tokens(work, golden, checkpoints / "mfcc-km")

    import torch
    from safetensors.torch import save_file

    losses = {}
    for name, spec in TRAINERS.items():
        print(f"training {name}", flush=True)
        out = work / "runs" / name
        spokenlm(fill(spec["argv"], out=out, **places), work / f"{name}.log")
        for key, values in read_losses(out, spec).items():
            losses[f"{name}/{key}"] = torch.tensor(values, dtype=torch.float64)
        saved = {"lm": out / "model"}.get(name, out / "vocoder" if name.startswith("vocoder") else out)
        keep = checkpoints / name
        shutil.copytree(saved, keep, ignore=shutil.ignore_patterns("trainer_state", "checkpoints", "train", "metrics.jsonl", "metrics.csv", "summary.json", "prepared_corpus.safetensors"))
    save_file(losses, str(golden / "losses.safetensors"))

    tokens, outputs = record_outputs(golden)
    save_file(tokens, str(golden / "tokens.safetensors"))
    save_file({k: v.contiguous() for k, v in outputs.items()}, str(golden / "outputs.safetensors"))

    quickstart = previous.get("quickstart_micro", {}) if args.skip_quickstart else run_quickstart(work)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    meta = {
        "commit": commit,
        "machine": machine(),
        "steps": STEPS,
        "fixed_file": FIXED_FILE,
        "fixed_speaker": FIXED_SPEAKER,
        "trainers": {name: {"argv": spec["argv"], "metrics": spec["metrics"], "loss": spec["loss"]} for name, spec in TRAINERS.items()},
        "fitted": FITTED,
        "quickstart_micro": quickstart,
    }
    (golden / "goldens.json").write_text(json.dumps(meta, indent=1) + "\n")
    size = sum(p.stat().st_size for p in golden.rglob("*") if p.is_file())
    print(f"wrote {golden} ({size / 1e6:.1f} MB); scratch in {work}")


if __name__ == "__main__":
    main()
