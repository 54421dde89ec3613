"""Tokenizer quality on held-out real speech: ABX (within / across speakers), PNMI, purities, units/s.

For each extractor (MFCC k-means = the baseline, our own HuBERT iteration 2,
the supervised phone classifier, optionally Whisper-base) and each K, k-means is
fitted on a training split of the repository's real speech and scored on a
disjoint held-out split, aligned with pocketsphinx:

* train: LJSpeech LJ001-0001…0016, FSDD takes 1-4 of every digit and speaker;
* test:  LJSpeech LJ001-0017…0032, FSDD take 0, speechbrain Harvard clips (2 speakers),
  LibriVox clips — 1 + 6 + 2 + 1 = 10 speakers, none of them heard in training except LJ and the FSDD speakers.

The phone classifier trains on a multi-voice TTS corpus (``spokenlm.data.synth``,
Harvard sentences; "phone-tts"), and once more on that corpus plus the real
training split aligned with pocketsphinx ("phone-mix"). HuBERT pre-trains (no
labels) on that same TTS + real-training-split audio. Every number is measured
in this run; ratios are against MFCC k-means at the same K. Stages are cached in
``--out`` (rerunning resumes). Also measured: pocketsphinx alignment agreement with
the LibriVox reference alignments and with festival's own phone timings.

    python bench/tokenizer_quality.py --out runs/bench-tokq
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "assets"
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TTS_VOICES = [
    "espeak-ng:en-us+m3", "espeak-ng:en-us+f2", "espeak-ng:en-gb+m1", "espeak-ng:en-029+f4", "flite:slt", "flite:awb",
    "flite:rms", "flite:kal16", "festival:cmu_us_slt_arctic_hts", "festival:kal_diphone", "festival:ked_diphone",
]  # fmt: skip


def _cut(path: Path, cut_id: str, text: str, speaker: str):
    from lhotse import Recording, SupervisionSegment
    from lhotse.cut import MonoCut

    recording = Recording.from_file(path, recording_id=cut_id)
    supervision = SupervisionSegment(cut_id, cut_id, 0.0, recording.duration, text=text, speaker=speaker)
    return MonoCut(cut_id, 0.0, recording.duration, 0, recording=recording, supervisions=[supervision])


def real_speech_cuts(split: str) -> list:
    """Cuts (text + speaker) of the repository's real speech, ``split`` = ``"train"`` or ``"test"``."""
    cuts = []
    lj_text = {line.split("|")[0]: line.rstrip("\n").split("|")[2] for line in (DATA / "ljspeech" / "metadata.csv").open()}
    for path in sorted((DATA / "ljspeech").glob("*.flac")):
        if (int(path.stem.split("-")[1]) <= 16) == (split == "train"):
            cuts.append(_cut(path, path.stem, lj_text[path.stem], "LJ"))
    for path in sorted((DATA / "fsdd").glob("*.flac")):
        digit, speaker, index = path.stem.split("_")
        if (index != "0") == (split == "train"):
            cuts.append(_cut(path, path.stem, DIGITS[int(digit)], f"fsdd-{speaker}"))
    if split == "test":
        annotation = {}
        for name in ("ASR_train.json", "ASR_dev.json"):
            annotation.update(json.loads((DATA / "speechbrain" / "annotation" / name).read_text()))
        for clip, entry in sorted(annotation.items()):
            cuts.append(_cut(DATA / "speechbrain" / "ASR" / f"{clip}.wav", clip, entry["wrd"], f"speechbrain-{clip[:4]}"))
        for path in sorted((DATA / "librivox").glob("*.wav")):
            cuts.append(_cut(path, path.stem, path.with_suffix(".txt").read_text().strip(), "librivox"))
    return cuts


def write_cuts(cuts: list, path: Path) -> Path:
    from lhotse import CutSet

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        CutSet.from_cuts(cuts).to_file(path)
    return path


def alignment_agreement(tts_dir: Path) -> dict:
    """pocketsphinx vs LibriVox reference alignments, and vs festival's phone timings on the TTS corpus."""
    from spokenlm.align.agreement import boundary_agreement
    from spokenlm.align.formats import read_pocketsphinx_json, supervision_phones
    from spokenlm.align.pocketsphinx_aligner import align
    from spokenlm.audio.io import load_audio
    from spokenlm.audio.loader import iter_cuts, load_cut

    def summary(pairs: list) -> dict:
        results = [boundary_agreement(ref, hyp, tolerance=0.02) for ref, hyp in pairs]
        weights = np.array([r.boundaries for r in results])
        return {
            "utterances": len(results),
            "boundaries": int(weights.sum()),
            "within_20ms": float(np.average([r.within_tolerance for r in results], weights=weights)),
            "mean_abs_error_ms": 1000 * float(np.average([r.mean_abs_error for r in results], weights=weights)),
            "frame_agreement": float(np.mean([r.frame_agreement for r in results])),
        }

    librivox = []
    for path in sorted((DATA / "librivox").glob("*.wav")):
        wav, sr = load_audio(path, 16000)
        librivox.append((read_pocketsphinx_json(path.with_suffix(".phone.json")), align(wav, sr, path.with_suffix(".txt").read_text())))
    festival = []
    for cut in iter_cuts(tts_dir / "cuts.jsonl.gz"):
        supervision = cut.supervisions[0]
        if (supervision.custom or {}).get("engine") == "festival" and len(festival) < 40:
            reference = supervision_phones(supervision)
            if reference:
                festival.append((reference, align(load_cut(cut, 16000), 16000, supervision.text)))
    return {"librivox_vs_reference": summary(librivox), "festival_timings": summary(festival)}


def train_phone_tokenizer(cuts: Path, out: Path, steps: int):
    """Train the phone tokenizer into ``out``, or load it when a previous run of this bench finished it."""
    from spokenlm.tokenizers.phone import PhoneTokenizer
    from spokenlm.train.tokenizer_recipes import train_phone_recipe

    if (out / "config.json").is_file():
        return PhoneTokenizer.from_pretrained(out)
    return train_phone_recipe(REPO / "recipes" / "tokenizer-phone.yaml", [f"data.manifest={cuts}", f"optim.max_steps={steps}", "data.split=null"], out)


def tts_plus_real_corpus(tts_cuts: Path, real_train: list, path: Path) -> Path:
    """The TTS cuts plus the real training-split cuts, in one manifest."""
    from lhotse import CutSet

    return write_cuts([*CutSet.from_file(tts_cuts), *real_train], path)


def train_hubert(out: Path, steps: int, manifest: Path, overrides: list[str]) -> tuple[str, Path]:
    """Our own HuBERT on ``manifest`` (TTS corpus + real training split; resumable per iteration).

    Returns ``("hubert-iterN", encoder folder)`` for the last iteration N (2 unless ``iterations=`` is overridden).
    """
    from spokenlm.config import load_config
    from spokenlm.train.tasks.hubert import HubertRecipe, train_hubert_tokenizer

    recipe_path = REPO / "recipes" / "tokenizer-hubert-tiny.yaml"
    overrides = [f"data.manifest={manifest}", "data.audio=[]", f"train.optim.max_steps={steps}", "kmeans.k=50", *overrides]
    last = load_config(HubertRecipe, recipe_path, overrides).iterations
    if not (out / "train" / f"iter{last}" / "encoder" / "config.json").is_file():
        train_hubert_tokenizer(recipe_path, overrides, out)
    return f"hubert-iter{last}", out / "train" / f"iter{last}" / "encoder"


def extractor_features(extractor, wavs: list[np.ndarray], sr: int) -> list[np.ndarray]:
    from spokenlm.audio.io import resample

    return [extractor.extract(resample(w, sr, extractor.sample_rate)).numpy() for w in wavs]


class PosteriorExtractor:
    """The phone tokenizer's posteriorgram seen as an extractor (``[T, 40]`` at 50 Hz)."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        self.sample_rate = tokenizer.sample_rate
        self.frame_rate = tokenizer.frame_rate

    def extract(self, wav: np.ndarray) -> torch.Tensor:
        return self.tokenizer.features([wav], self.sample_rate)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "bench-tokenizer-quality")
    parser.add_argument("--ks", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--phone-steps", type=int, default=400)
    parser.add_argument("--hubert-steps", type=int, default=400, help="steps per HuBERT iteration (0 skips HuBERT)")
    parser.add_argument("--hubert-override", action="append", default=[], help="recipe override for HuBERT (repeatable), e.g. model.dim=192")
    parser.add_argument("--hubert-layers", type=int, nargs="*", default=[],
                        help="transformer layers to score HuBERT units from (default: the recipe's feature layer)")
    parser.add_argument("--hubert-every-iteration", action="store_true", help="score every pre-training iteration, not only the last")
    parser.add_argument("--kmeans-algorithm", choices=["minibatch", "full"], default="minibatch", help="k-means of every extractor")
    parser.add_argument("--kmeans-init", type=int, default=1, help="k-means++ restarts of every extractor")
    parser.add_argument("--tts-sentences", type=int, default=100)
    parser.add_argument("--tts-voices-per-sentence", type=int, default=2)
    parser.add_argument("--whisper", action="store_true", help="also score Whisper-base encoder units (slow on CPU)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a shared 2-core machine)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from rich.console import Console
    from rich.table import Table

    from spokenlm.atomic import atomic_write_json
    from spokenlm.data.synth import SynthConfig, build_corpus
    from spokenlm.eval.abx import AbxConfig
    from spokenlm.eval.tokenizer_eval import EVAL_SAMPLE_RATE, TokenizerEvalConfig, load_eval_corpus, score_representation
    from spokenlm.audio.loader import load_cut
    from spokenlm.encoders.base import load_encoder
    from spokenlm.encoders.spectral import MfccConfig, MfccEncoder
    from spokenlm.tokenizers.quantizer import KMeansConfig, KMeansQuantizer

    console = Console(width=200)
    out = args.out
    timings: dict[str, float] = {}

    def stage(name: str):
        timings[name] = time.perf_counter()

    def done(name: str):
        timings[name] = time.perf_counter() - timings[name]
        console.print(f"[dim]{name}: {timings[name]:.0f} s[/]")

    stage("corpora")
    test_cuts = write_cuts(real_speech_cuts("test"), out / "real-test" / "cuts.jsonl.gz")
    train_cuts = real_speech_cuts("train")
    corpus = load_eval_corpus(TokenizerEvalConfig(manifest=str(test_cuts)))
    train_wavs = [load_cut(c, EVAL_SAMPLE_RATE) for c in train_cuts]
    tts_dir = out / "tts"
    if not (tts_dir / "cuts.jsonl.gz").exists():
        synth = SynthConfig(source="harvard", max_sentences=args.tts_sentences, voices=TTS_VOICES, test_voices=0,
                            voices_per_sentence=args.tts_voices_per_sentence, dev_fraction=0.0, test_fraction=0.0, workers=2)
        build_corpus(synth, tts_dir)
    done("corpora")
    console.print(f"test: {len(corpus.utterances)} utterances, {sum(u.seconds for u in corpus.utterances):.0f} s, "
                  f"{len({u.speaker for u in corpus.utterances})} speakers, {len(corpus.skipped)} skipped; "
                  f"train: {len(train_wavs)} utterances, {sum(len(w) for w in train_wavs) / EVAL_SAMPLE_RATE:.0f} s")

    stage("alignment agreement")
    agreement = alignment_agreement(tts_dir)
    done("alignment agreement")

    mixed_corpus = tts_plus_real_corpus(tts_dir / "cuts.jsonl.gz", train_cuts, out / "mix-corpus" / "cuts.jsonl.gz")
    extractors = {"mfcc": MfccEncoder(MfccConfig())}
    if args.hubert_steps:
        stage("hubert training")
        name, encoder = train_hubert(out / "hubert", args.hubert_steps, mixed_corpus, args.hubert_override)
        last = int(name.removeprefix("hubert-iter"))
        for iteration in range(1 if args.hubert_every_iteration else last, last + 1):
            for layer in args.hubert_layers or [None]:
                label = f"hubert-iter{iteration}" + ("" if layer is None else f" L{layer}")
                extractors[label] = load_encoder(encoder.parents[1] / f"iter{iteration}" / "encoder", layer=layer)
        done("hubert training")
    phones = {}
    for variant, cuts in (("phone-tts", tts_dir / "cuts.jsonl.gz"), ("phone-mix", mixed_corpus)):
        stage(f"{variant} training")
        phones[variant] = train_phone_tokenizer(cuts, out / variant, args.phone_steps)
        extractors[variant] = PosteriorExtractor(phones[variant])
        done(f"{variant} training")
    if args.whisper:
        from spokenlm.encoders.whisper import CT2WhisperConfig, CT2WhisperEncoder

        extractors["whisper-base"] = CT2WhisperEncoder(CT2WhisperConfig())

    abx = AbxConfig()
    test_wavs = [u.wav for u in corpus.utterances]
    rows = []
    for name, extractor in extractors.items():
        stage(f"{name} features")
        train_features = extractor_features(extractor, train_wavs, EVAL_SAMPLE_RATE)
        test_features = extractor_features(extractor, test_wavs, EVAL_SAMPLE_RATE)
        done(f"{name} features")
        features = {u.id: f for u, f in zip(corpus.utterances, test_features)}
        feature_abx = None
        candidates = [(k, None) for k in args.ks]
        if name in phones:
            candidates.insert(0, (phones[name].vocab_size, "argmax"))
        for k, mode in candidates:
            stage(f"{name} K={k}")
            if mode == "argmax":
                units = {u.id: phones[name].frame_units([u.wav], EVAL_SAMPLE_RATE)[0].ids[0] for u in corpus.utterances}
            else:
                kmeans = KMeansConfig(k=k, algorithm=args.kmeans_algorithm, n_init=args.kmeans_init, seed=0)
                quantizer = KMeansQuantizer.fit([torch.from_numpy(f) for f in train_features], kmeans)
                units = {u.id: quantizer.assign(torch.from_numpy(f)).numpy() for u, f in zip(corpus.utterances, test_features)}
            report = score_representation(corpus, units, float(extractor.frame_rate), None if feature_abx else features,
                                          float(extractor.frame_rate), abx)
            if feature_abx is None:
                feature_abx = (report.abx_features_within, report.abx_features_across)
            report = replace(report, abx_features_within=feature_abx[0], abx_features_across=feature_abx[1])
            rows.append({"extractor": name if mode is None else f"{name} argmax", "k": k, **asdict(report)})
            done(f"{name} K={k}")

    baseline = {row["k"]: row for row in rows if row["extractor"] == "mfcc"}
    table = Table(title="Tokenizer quality on held-out real speech (ABX error %, lower is better)")
    for column in ("extractor", "K", "ABX feat within", "ABX feat across", "ABX units within", "ABX units across",
                   "PNMI", "phone purity", "cluster purity", "units/s", "across / MFCC", "PNMI / MFCC"):
        table.add_column(column, justify="right")
    pct = lambda v: "n/a" if v is None else f"{100 * v:.1f}"  # noqa: E731
    for row in rows:
        base = baseline.get(row["k"])
        across_ratio = f"{row['abx_units_across'] / base['abx_units_across']:.2f}" if base and row["abx_units_across"] and base["abx_units_across"] else "—"
        pnmi_ratio = f"{row['pnmi'] / base['pnmi']:.2f}" if base and base["pnmi"] else "—"
        row["across_ratio_vs_mfcc"], row["pnmi_ratio_vs_mfcc"] = across_ratio, pnmi_ratio
        table.add_row(row["extractor"], str(row["k"]), pct(row["abx_features_within"]), pct(row["abx_features_across"]),
                      pct(row["abx_units_within"]), pct(row["abx_units_across"]), f"{row['pnmi']:.3f}",
                      f"{row['phone_purity']:.3f}", f"{row['cluster_purity']:.3f}", f"{row['units_per_second']:.1f}",
                      across_ratio, pnmi_ratio)
    console.print(table)
    markdown = ["| " + " | ".join(c.header for c in table.columns) + " |", "|" + "---|" * len(table.columns)]
    markdown += ["| " + " | ".join(cells) + " |" for cells in zip(*(c._cells for c in table.columns))]
    (out / "tokenizer_quality.md").write_text("\n".join(markdown) + "\n")
    console.print(f"alignment agreement (20 ms tolerance): {json.dumps(agreement)}")
    atomic_write_json(out / "tokenizer_quality.json", {"rows": rows, "alignment": agreement, "skipped_test_cuts": corpus.skipped,
                                                       "seconds": timings, "args": {k: str(v) for k, v in vars(args).items()}})
    console.print(f"wrote {out / 'tokenizer_quality.json'}")


if __name__ == "__main__":
    main()
