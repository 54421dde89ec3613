"""The typer applications every command module adds its commands to.

Command modules (``spokenlm.cli.data``, ``…tokenizer``, ``…lm`` …) import these
objects and decorate their functions; ``spokenlm.cli.main`` imports the modules.
Heavy libraries are imported inside the commands so ``--help`` stays fast.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="spokenlm",
    help=(
        "spokenlm: build, train, evaluate and serve spoken language models.\n\n"
        "Pipeline: audio → tokens (tokenize) → unit LM (train) → tokens → audio (vocoder).\n"
        "Every training command takes an optional YAML recipe (--config) and key=value overrides."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Corpora as lhotse manifests: synthesize, import, check.", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluate tokenizers, resynthesis, pair benchmarks and generation.", no_args_is_help=True)
benchmarks_app = typer.Typer(help="Build spoken benchmarks (sWUGGY, sBLIMP, tStoryCloze, SALMon) or import published releases (sLM21, SALMon, sSC/tSC).", no_args_is_help=True)

app.add_typer(data_app, name="data")
app.add_typer(eval_app, name="eval")
app.add_typer(benchmarks_app, name="benchmarks")
