"""Phone error rate of phone tokenizers on voices they never heard: TTS test voices and real speakers.

Trains one phone tokenizer per variant on the train split of a synthesized corpus (``spokenlm data
synth``, e.g. a quickstart run's ``corpus/``), with the quickstart tiny preset's tokenizer settings
plus the variant's overrides, and scores its deduplicated tokens:

- on the corpus's test split (voices held out of training; references: the engines' phone timings), overall and per voice,
- on its dev split (training voices, unseen sentences),
- with ``--words``, on the isolated words of a pair benchmark (a quickstart run's ``benchmarks/swuggy``: the
  words and pseudo-words the LM is scored on, in voices the corpus does not contain),
- on real speech of speakers no variant trains on: LJSpeech LJ001-0017…0032, the speechbrain
  Harvard clips (2 speakers) and the LibriVox clips (references: the dictionary phones of the
  transcripts, so pronunciation variants count as errors too).

    python bench/phone_tokenizer.py --corpus runs/quickstart/corpus \\
        --variant frame= --variant ctc=objective=ctc --variant ctc-warp=objective=ctc,mel_warp=0.12 --penalties 2,4

``--penalties`` scores each trained variant again with those decoding switch penalties (nats per phone
change, :func:`spokenlm.encoders.phone_model.smoothed_path`) without retraining.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "tests" / "assets"


def real_speech() -> list[tuple[str, Path, str]]:
    """(set, audio, transcript) of the repository's real speech of speakers the corpora do not contain."""
    items = []
    for line in (ASSETS / "ljspeech" / "metadata.csv").read_text().splitlines():
        utt, _, text = line.split("|")
        if int(utt.split("-")[1]) > 16:
            items.append(("ljspeech", ASSETS / "ljspeech" / f"{utt}.flac", text))
    annotation = json.loads((ASSETS / "speechbrain" / "annotation" / "ASR_train.json").read_text())
    annotation.update(json.loads((ASSETS / "speechbrain" / "annotation" / "ASR_dev.json").read_text()))
    for key, entry in sorted(annotation.items()):
        path = ASSETS / "speechbrain" / "ASR" / f"{key}.wav"
        if path.is_file():
            items.append(("harvard", path, entry["words"]))
    for path in sorted((ASSETS / "librivox").glob("*.wav")):
        items.append(("librivox", path, path.with_suffix(".txt").read_text()))
    return items


def word_items(folder: Path, limit: int) -> list[tuple[Path, list[str]]]:
    """(audio, phones without stress) of the first ``limit`` pairs' two sides of a pair benchmark's ``pairs.jsonl``."""
    from spokenlm.data.tts.arpabet import strip_stress

    pairs = [json.loads(line) for line in (folder / "pairs.jsonl").read_text().splitlines()[:limit]]
    return [(folder / p[side], strip_stress(p[f"{side}_phones"])) for p in pairs for side in ("positive", "negative")]


def score(tokenizer, corpus: Path, limit: int, words: Path | None = None) -> dict[str, float]:
    """PER on the test and dev splits (first ``limit`` cuts each), on isolated ``words`` and on each real-speech set."""
    from lhotse import CutSet

    from spokenlm.audio.io import load_audio
    from spokenlm.eval.phone_error import phone_error_rate, text_phones, tokenizer_phone_error

    results = {}
    every = list(CutSet.from_file(corpus / "cuts.jsonl.gz"))
    for split in ("test", "dev"):
        scores = tokenizer_phone_error(tokenizer, [c for c in every if (c.supervisions[0].custom or {}).get("split") == split][:limit])
        results[f"{split} PER"], results[f"{split} ins"] = scores["per"], scores["insertions"]
        if split == "test":
            results.update({f"{k.split(':')[-1]} PER": v for k, v in scores.items() if k.startswith("per:")})
    if words is not None:
        items = word_items(words, 2 * limit)
        hypotheses = [tokenizer.phone_labels(tokenizer.encode(load_audio(path, 16000)[0], 16000)[0]) for path, _ in items]
        results["words PER"] = phone_error_rate([phones for _, phones in items], hypotheses)["per"]
    real: dict[str, tuple[list, list]] = {}
    for name, path, text in real_speech():
        wav, _ = load_audio(path, 16000)
        refs, hyps = real.setdefault(name, ([], []))
        refs.append(text_phones(text))
        hyps.append(tokenizer.phone_labels(tokenizer.encode(wav, 16000)[0]))
    for name, (refs, hyps) in real.items():
        results[f"{name} PER"] = phone_error_rate(refs, hyps)["per"]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True, help="a spokenlm data synth folder (cuts.jsonl.gz with train/dev/test splits)")
    parser.add_argument("--variant", action="append", default=[], help="NAME=key=value,key=value (tokenizer overrides); repeatable")
    parser.add_argument("--scale", default="tiny", help="quickstart preset whose tokenizer settings are the base")
    parser.add_argument("--words", type=Path, help="a pair benchmark folder (pairs.jsonl + audio) whose isolated words are scored too")
    parser.add_argument("--penalties", default="", help="also score each variant decoded with these switch penalties, nats (e.g. 2,4,8)")
    parser.add_argument("--limit", type=int, default=100, help="test / dev cuts scored per split")
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "bench-phone-tokenizer")
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    from spokenlm.config import load_config
    from spokenlm.quickstart.config import load_quickstart_config
    from spokenlm.tokenizers.phone import PhoneTokenizer
    from spokenlm.train.tasks.phone import PhoneTrainConfig, train_phone_tokenizer

    console = Console(width=220)
    base = load_quickstart_config(args.scale).tokenizer
    variants = args.variant or ["frame="]
    rows = []
    for spec in variants:
        name, _, overrides = spec.partition("=")
        out = args.out / name
        config = load_config(PhoneTrainConfig, None, [o for o in overrides.split(",") if o], base=base)
        config.data.manifest, config.data.split = str(args.corpus / "cuts.jsonl.gz"), "train"
        started = time.perf_counter()
        tokenizer = PhoneTokenizer.from_pretrained(out) if (out / "config.json").is_file() else train_phone_tokenizer(config, out)
        seconds = time.perf_counter() - started
        for penalty in [tokenizer.switch_penalty, *(float(p) for p in args.penalties.split(",") if p)]:
            tokenizer.switch_penalty = penalty
            label = name if penalty == config.switch_penalty else f"{name}@{penalty:g}"
            rows.append((label, overrides or "(preset)", seconds, score(tokenizer, args.corpus, args.limit, args.words)))
            console.print(f"{label}: " + ", ".join(f"{k} {v:.3f}" for k, v in rows[-1][3].items()))
    table = Table(title=f"phone error rate of deduplicated phone tokens ({args.scale} preset; lower is better)")
    columns = list(rows[0][3])
    for column in ("variant", "overrides", "train s", *columns):
        table.add_column(column, justify="right")
    for name, overrides, seconds, results in rows:
        table.add_row(name, overrides, f"{seconds:.0f}", *(f"{results[c]:.3f}" for c in columns))
    console.print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({name: {"overrides": o, "train_s": t, **r} for name, o, t, r in rows}, indent=1))


if __name__ == "__main__":
    main()
