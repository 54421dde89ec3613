"""Checkpoints in and out: ``spokenlm import-kmeans``, ``spokenlm import-vocoder`` and ``spokenlm model-card``."""

from __future__ import annotations

from pathlib import Path

import typer

from spokenlm.cli.apps import app
from spokenlm.cli.common import console, user_errors


@app.command("import-kmeans")
def import_kmeans_command(
    kmeans_file: Path = typer.Argument(..., help="k-means file: textlesslib/fairseq km.bin or any joblib/pickle of a scikit-learn KMeans, or .npy centroids [K, D]."),
    out: Path = typer.Argument(..., help="Output tokenizer folder (or k-means folder without --hf-model)."),
    hf_model: Path = typer.Option(None, "--hf-model", help="HF HuBERT/mHuBERT/wav2vec2 folder whose features the k-means clusters."),
    layer: int = typer.Option(6, help="Hidden-state layer of --hf-model the k-means was fitted on (e.g. 6 for GSLM HuBERT, 11 for mHuBERT-25Hz)."),
    dedup: bool = typer.Option(True, "--dedup/--no-dedup", help="Collapse repeated units (GSLM, TWIST and Slam score deduplicated units)."),
    name: str = typer.Option("", help="Tokenizer name stored in its tokens (default: the k-means file's stem)."),
    trust_pickle: bool = typer.Option(False, "--trust-pickle", help="Unpickle the file fully with joblib (it can run code). Without it, only the estimator state and numpy arrays are rebuilt."),
) -> None:
    """Convert a published k-means file once into our safetensors k-means (never unpickled again).

    With --hf-model, OUT is a complete unit tokenizer (HF encoder layer + k-means) for `spokenlm tokenize` and
    `spokenlm eval pairs tokenizer=OUT`; without it, OUT holds kmeans.safetensors + kmeans.json.
    Example: spokenlm import-kmeans mhubert_base_25hz_L11_km500.bin tok/mhubert25 --hf-model mhubert-base-25hz --layer 11
    """
    from spokenlm.tokenizers.kmeans_import import import_kmeans

    with user_errors():
        quantizer = import_kmeans(kmeans_file, trust_pickle)
        if hf_model is None:
            quantizer.save(out)
            console.print(f"saved k-means (k={quantizer.k}, D={quantizer.dim}) to {out}", highlight=False)
            return
        from spokenlm.encoders.base import build_encoder
        from spokenlm.tokenizers.units import UnitTokenizer

        extractor = build_encoder({"type": "hf-ssl", "model_dir": str(hf_model), "layer": layer})
        tokenizer = UnitTokenizer(extractor, quantizer, name=name or kmeans_file.stem, dedup=dedup)
        tokenizer.save_pretrained(out)
    console.print(f"saved tokenizer {tokenizer.name!r} ({quantizer.k} units at {tokenizer.frame_rate:g} Hz) to {out}", highlight=False)


@app.command("import-vocoder")
def import_vocoder_command(
    config_json: Path = typer.Argument(..., help="The vocoder's config.json (speech-resynthesis / textlesslib format)."),
    checkpoint: Path = typer.Argument(..., help="Its generator checkpoint (g_00500000, ...): {'generator': state_dict}."),
    out: Path = typer.Argument(..., help="Output vocoder folder (config.json + model.safetensors; open it with load_vocoder / --vocoder)."),
    tokenizer: str = typer.Option("", help="Name of the tokenizer whose units it voices (recorded in its config)."),
) -> None:
    """Convert a fairseq / speech-resynthesis unit HiFi-GAN into our unit-hifigan vocoder folder.

    Read with torch.load(weights_only=True) (no code is unpickled); weight norm is folded; a tensor whose shape
    does not match config.json is named in the error. Unit-only vocoders are supported (not speaker- or F0-conditioned).
    Example: spokenlm import-vocoder hifigan/config.json hifigan/g_00500000 voc/hubert100
    """
    from spokenlm.vocoders.fairseq_hifigan import load_fairseq_hifigan

    with user_errors():
        vocoder = load_fairseq_hifigan(config_json, checkpoint, tokenizer)
        vocoder.save_pretrained(out)
    console.print(f"saved unit HiFi-GAN ({vocoder.config.conditioning.vocab_size} units at {vocoder.config.frame_rate:g} Hz → {vocoder.sample_rate} Hz) to {out}", highlight=False)


@app.command("model-card")
def model_card_command(
    folder: Path = typer.Argument(..., help="A saved unit LM, tokenizer or vocoder folder (config.json inside)."),
    results: list[Path] = typer.Option([], "--results", help="`spokenlm eval pairs` output folders (or results.json) for the benchmark table; repeatable."),
) -> None:
    """Write FOLDER/README.md, a model card to share the folder: how to load it, its recipe and data, its benchmarks.

    The recipe is the resolved recipe.yaml / config.yaml the run wrote (in FOLDER or its run folder).
    Example: spokenlm model-card tok/hubert500 --results eval/slm21 --results eval/salmon
    """
    from spokenlm.report.model_card import write_model_card

    with user_errors():
        path = write_model_card(folder, results)
    console.print(f"wrote {path}", highlight=False)
