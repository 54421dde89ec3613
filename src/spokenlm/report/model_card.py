"""Model cards: a ``README.md`` beside a saved LM, tokenizer or vocoder folder, with its recipe, data and benchmarks.

:func:`write_model_card` reads what the folder already holds — ``config.json`` (what it is), the
resolved recipe the run wrote (``recipe.yaml`` or ``config.yaml`` in the folder or its run folder)
and the ``results.json`` of ``spokenlm eval pairs`` runs given to it — and writes a card a reader
of the Hub understands: what the model is, how to load it, the recipe, the data it was trained on,
and a table of benchmark accuracies (summed and per-token log-likelihood, with the benchmark's own
headline numbers for imported published benchmarks).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from spokenlm.atomic import atomic_write_text
from spokenlm.errors import SpokenLMError

RECIPE_NAMES = ("recipe.yaml", "config.yaml")
LOADERS = {
    "unit-lm": "from spokenlm.models import UnitLM\nmodel = UnitLM.from_pretrained({path!r})",
    "unit-vocoder": "from spokenlm.vocoders import load_vocoder\nvocoder = load_vocoder({path!r})\nwav = vocoder(tokens)",
    "hf-llama": "from transformers import AutoModelForCausalLM\nmodel = AutoModelForCausalLM.from_pretrained({path!r})",
}
TOKENIZER_LOADER = "from spokenlm.tokenizers.base import load_tokenizer\ntokenizer = load_tokenizer({path!r})\ntokens = tokenizer.encode(wavs, 16000)"


def find_recipe(folder: Path) -> Path | None:
    """The resolved recipe of the run that made ``folder``: in the folder, else in its parent (the run folder)."""
    for directory in (folder, folder.parent):
        for name in RECIPE_NAMES:
            if (directory / name).is_file():
                return directory / name
    return None


def _data_lines(recipe: dict[str, Any], prefix: str = "") -> list[str]:
    """``key: value`` lines of every recipe entry that names training data (``data``, ``manifest``, ``train`` …)."""
    lines = []
    for key, value in recipe.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            lines += _data_lines(value, f"{path}.")
        elif any(word in path for word in ("data", "manifest", "train", "corpus")) and value not in (None, "", [], {}):
            lines.append(f"- `{path}`: `{value}`")
    return lines


def _percent(estimate: dict[str, Any] | float | None) -> str:
    if isinstance(estimate, dict):
        return f"{100 * estimate['value']:.1f} [{100 * estimate['low']:.1f}, {100 * estimate['high']:.1f}]"
    return "" if estimate is None else f"{100 * estimate:.1f}"


def benchmark_rows(results_path: Path) -> list[str]:
    """Markdown table rows of one ``eval pairs`` ``results.json`` (overall, then the reference headlines)."""
    try:
        results = json.loads(results_path.read_text())
        name = Path(results["benchmark"]).name
        rows = [f"| {name} | all | {results['pairs']} | {_percent(results['summed'])} | {_percent(results['normalized'])} |"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as err:
        raise SpokenLMError(f"{results_path}: not an `eval pairs` results.json ({type(err).__name__}: {err})") from err
    reference = results.get("reference", {})
    summed, normalized = reference.get("summed", {}), reference.get("normalized", {})
    for key, values in summed.items():
        if isinstance(values, dict) and "all" in values:  # sLM21: one entry per task and split
            rows.append(f"| {name} | {key} (reference) | {values['pairs']} | {_percent(values['all'])} | {_percent(normalized[key]['all'])} |")
    if "subsets" in summed:  # SALMon / StoryCloze: slamkit's per-task accuracies
        for subset, value in summed["subsets"].items():
            rows.append(f"| {name} | {subset} (reference) | | {_percent(value)} | {_percent(normalized['subsets'][subset])} |")
    return rows


def model_card(folder: Path, results: Sequence[Path] = (), made_from: Path | None = None, notes: Sequence[str] = ()) -> str:
    """The card's markdown for the saved ``folder`` (``config.json`` says what it is).

    ``made_from``: the folder whose run recipe describes this one (an exported copy's source; default ``folder``).
    ``notes``: extra paragraphs after the loading snippet.
    """
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise SpokenLMError(f"{config_path}: missing (not a saved spokenlm or HF folder)")
    config = json.loads(config_path.read_text())
    kind = config.get("type") or ("hf-llama" if config.get("model_type") == "llama" else "unknown")
    loader = LOADERS.get(kind, TOKENIZER_LOADER).format(path=str(folder))
    parts = [f"# {folder.name}", "", f"A **{kind}** folder written by spokenlm, loadable without its training code.", "",
             "## Load it", "", "```python", loader, "```", ""]
    parts += [line for note in notes for line in (note, "")]
    recipe_path = find_recipe(made_from or folder)
    if recipe_path is not None:
        recipe = yaml.safe_load(recipe_path.read_text()) or {}
        data = _data_lines(recipe) if isinstance(recipe, dict) else []
        parts += ["## Data", "", *(data or ["(the recipe names no training data)"]), "",
                  f"## Recipe (`{recipe_path.name}`, resolved)", "", "```yaml", recipe_path.read_text().rstrip(), "```", ""]
    if results:
        parts += ["## Benchmarks", "", "Pair accuracy in %, 95 % interval where given; summed and per-token log-likelihood.", "",
                  "| benchmark | subset | pairs | summed | per token |", "|---|---|---|---|---|"]
        parts += [row for path in results for row in benchmark_rows(path if path.is_file() else path / "results.json")]
        parts.append("")
    return "\n".join(parts)


def write_model_card(
    folder: str | Path, results: Sequence[str | Path] = (), made_from: str | Path | None = None, notes: Sequence[str] = ()
) -> Path:
    """Write ``folder/README.md`` (see :func:`model_card`) and return its path."""
    folder = Path(folder)
    path = folder / "README.md"
    atomic_write_text(path, model_card(folder, [Path(r) for r in results], Path(made_from) if made_from else None, notes))
    return path
