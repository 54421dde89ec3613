"""Speech+text interleaving against speech only, on the same CPU budget: the cross-modal tStoryCloze matrix.

Reads a quickstart run folder (its corpus, phone tokenizer and training tokens; `spokenlm quickstart DIR` builds
one, and the stages after ``tokenize`` are not needed). Steps (each skipped when its output exists):
1. the corpus manifests are copied into ``--out`` and word-aligned (``spokenlm data align``: the engines' phone
   timings grouped into words);
2. the held-out split (``--split``, default the test voices and stories) is tokenized with the run's tokenizer;
3. two LMs of ``recipes/spiritlm-tiny.yaml`` train for ``--steps`` steps on the same tokens: ``interleaved`` (the
   recipe's format mix) and ``speech-only`` (every format share 0 but ``speech``), the same shape and vocabulary;
4. tStoryCloze-style items from the held-out utterances (the first half of an utterance's words as context, the
   rest as the true ending, another utterance's ending as the wrong one; speech cut at word boundaries on the
   frame timeline) are scored in T→T, S→S, T→S and S→T (``spokenlm.eval.cross_modal``), accuracy with 95 %
   Wilson intervals;
5. speech→text continuation as ASR (``spokenlm.eval.speech_to_text``): greedy text after ``[SPEECH] units [TEXT]``
   on the held-out utterances, WER against their transcripts beside the no-audio baseline (``[TEXT]`` alone).

Writes results.json into ``--out`` and prints the matrix.

    python bench/interleaving.py --quickstart runs/quickstart [--out runs/bench-interleaving] [--steps 600]
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from codec_lm import machine
from swuggy_lm import spokenlm

REPO = Path(__file__).resolve().parents[1]
MODELS = {"interleaved": [], "speech-only": [f"data.text.formats.mix.{name}={int(name == 'speech')}"
                                            for name in ("interleave", "speech", "text", "speech_text", "text_speech")]}


def prepare(quickstart: Path, out: Path, split: str) -> tuple[Path, Path]:
    """The word-aligned corpus copy and the held-out tokens (steps 1 and 2)."""
    corpus = out / "corpus"
    if not (corpus / "aligned").exists():
        corpus.mkdir(parents=True, exist_ok=True)
        for name in ("recordings.jsonl.gz", "supervisions.jsonl.gz", "cuts.jsonl.gz"):
            shutil.copy(quickstart / "corpus" / name, corpus / name)
        spokenlm("data", "align", str(corpus))
        (corpus / "aligned").touch()
    tokens = out / f"tokens-{split}"
    if not tokens.exists():
        spokenlm("tokenize", str(quickstart / "corpus" / f"cuts_{split}.jsonl.gz"), "--tokenizer", str(quickstart / "tokenizer"),
                 "--out", str(tokens), "--workers", "1")
    return corpus, tokens


def held_out(corpus: Path, tokens: Path, model_dir: Path):
    """The model, its text tokenizer, the held-out utterances' story items, their units and transcripts, and the skips."""
    from spokenlm.data.packing import corpus_documents
    from spokenlm.data.shards import open_token_corpus
    from spokenlm.eval.cross_modal import split_items
    from spokenlm.models.unit_lm import UnitLM
    from spokenlm.tokenizers.text import TextTokenizer
    from spokenlm.train.tasks.speech_text import SkipCounts, corpus_words, formatted_documents

    model, text = UnitLM.from_pretrained(model_dir), TextTokenizer.load(model_dir)
    readers = open_token_corpus(tokens)
    skipped = SkipCounts()
    words = corpus_words(corpus, skipped)
    docs, spans = formatted_documents(readers, corpus_documents(readers), words, text, model.vocab, skipped)
    ids = [readers[r].entries[i]["id"] for r, i in docs]
    units = [readers[r][i].ids[0] for r, i in docs]
    return model, text, split_items(units, spans, ids, model.vocab), units, [" ".join(words[i][0]) for i in ids], skipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quickstart", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "bench-interleaving")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    from spokenlm.eval.cross_modal import modality_matrix
    from spokenlm.eval.speech_to_text import speech_to_text_wer
    from spokenlm.models.scoring import log_likelihood

    corpus, tokens = prepare(args.quickstart, args.out, args.split)
    results = {"machine": machine(), "steps": args.steps, "models": {}}
    for name, extra in MODELS.items():
        run = args.out / name
        started = time.time()
        if not (run / "model").exists():
            spokenlm("train", "-c", str(REPO / "recipes" / "spiritlm-tiny.yaml"), f"data.train={args.quickstart / 'tokens' / 'train'}",
                     f"data.text.corpus={corpus}", f"optim.max_steps={args.steps}", f"out_dir={run}", *extra)
        model, text, items, units, transcripts, skipped = held_out(corpus, tokens, run / "model")
        matrix = modality_matrix(lambda seqs, b: log_likelihood(model, seqs, b), items, model.vocab)
        summary = json.loads((run / "summary.json").read_text())
        results["models"][name] = {"matrix": matrix, "items": len(items), "held_out_skipped": skipped.to_dict(),
                                   "speech_to_text": speech_to_text_wer(model, units, transcripts, text),
                                   "val_loss": summary.get("val_loss"), "train_skipped": summary.get("skipped_cuts"),
                                   "formats": summary.get("formats"), "seconds": round(time.time() - started, 1)}
    (args.out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(results["machine"])
    print(f"{'model':12s} " + " ".join(f"{d:>22s}" for d in ("T→T", "S→S", "T→S", "S→T")))
    for name, result in results["models"].items():
        cells = [result["matrix"][d]["summed"] for d in ("T→T", "S→S", "T→S", "S→T")]
        print(f"{name:12s} " + " ".join(f"{c['value'] * 100:5.1f} [{c['low'] * 100:4.1f}, {c['high'] * 100:4.1f}]".rjust(22) for c in cells))
    for name, result in results["models"].items():
        asr = result["speech_to_text"]
        print(f"{name}: speech→text WER {asr['asr']['wer']:.3f}, no-audio baseline {asr['no_audio']['wer']:.3f} ({asr['no_audio_text']!r})")


if __name__ == "__main__":
    main()
