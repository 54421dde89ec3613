"""The package layers: every package of ``spokenlm`` imports only packages of lower layers, and no packages import each other
in a cycle. Imports inside functions (lazy imports) and ``importlib.import_module("spokenlm…")`` calls count like the rest.

The layers, bottom to top (the README's "How the code is laid out" draws the same picture):
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from helpers.paths import REPO

SRC = REPO / "src" / "spokenlm"

LAYERS: list[tuple[str, ...]] = [
    ("errors",),  # the typed errors everything raises
    ("atomic", "registry", "config", "perf", "env"),  # atomic writes, registries, typed configs, CPU settings, engines
    ("layouts",),  # stream specs and layouts: delay, flatten, interleave, two-channel stacking
    ("tokens", "checkpoint"),  # Tokens (ids + stream specs) | HF-style folders: config.json + model.safetensors
    ("audio",),  # waveforms: I/O, validation, features, mel conventions, F0, d-vectors, VAD, the training-audio loader
    ("nn", "data"),  # building blocks (streaming layers, convs, losses, discriminators) | manifests, corpora, shards, packing
    ("align", "encoders", "benchmarks"),  # forced alignment | feature encoders as nn.Modules | benchmark builders
    ("vocoders", "models"),  # tokens → waveform | sequence models
    ("tokenizers", "generate"),  # waveform → tokens | sampling and continuation
    ("train",),  # the one loop and its tasks, tokenizer recipes
    ("eval",),  # metrics and evaluation protocols
    ("report",),  # HTML reports
    ("quickstart",),  # the end-to-end pipeline
    ("serve",),  # the voice server and its web page (below cli, which starts it)
    ("cli",),  # the spokenlm command
    ("__main__",),  # python -m spokenlm
]
LAYER = {package: level for level, packages in enumerate(LAYERS) for package in packages}
__doc__ += "\n".join(f"    {level}. {', '.join(packages)}" for level, packages in enumerate(LAYERS))


def package_of(module: str) -> str:
    """``spokenlm.tokenizers.codec.rvq`` → ``tokenizers``; ``spokenlm.config`` → ``config``."""
    return module.split(".")[1]


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, spokenlm module) of every import in the ``source`` of ``module``: top-level, inside functions, relative, and
    literal ``import_module`` calls."""
    here = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                found.append((node.lineno, ".".join([*base, *([node.module] if node.module else [])])))
            elif node.module:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__"):
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
    return [(line, name) for line, name in found if name == "spokenlm" or name.startswith("spokenlm.")]


def package_imports() -> dict[tuple[str, str], list[str]]:
    """(importing package, imported package) → the places (``file:line``), for every import across packages."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(SRC.rglob("*.py")):
        source = package_of(module_name(path)) if module_name(path) != "spokenlm" else "spokenlm"
        for line, name in imported_modules(path.read_text(), module_name(path), path.name == "__init__.py"):
            if name == "spokenlm":
                continue
            target = package_of(name)
            if target != source:
                edges[(source, target)].append(f"{path.relative_to(REPO)}:{line}")
    return edges


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components of more than one package (Tarjan)."""
    graph: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        graph[a].append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def test_every_package_has_a_layer() -> None:
    packages = {path.stem if path.is_file() else path.name for path in SRC.iterdir()
                if (path.suffix == ".py" and path.stem != "__init__") or (path.is_dir() and (path / "__init__.py").exists())}
    assert packages - set(LAYER) == set(), "give each new package a layer in tests/test_layering.py (and the README)"
    assert set(LAYER) - packages == set(), "a layer names a package that does not exist"


def test_packages_import_only_lower_layers() -> None:
    upward = [f"{a} (layer {LAYER[a]}) imports {b} (layer {LAYER[b]}) at {', '.join(places)}"
              for (a, b), places in sorted(package_imports().items()) if a in LAYER and LAYER[b] >= LAYER[a]]
    assert not upward, "\n".join(upward)


def test_no_package_cycles() -> None:
    assert cycles(set(package_imports())) == []


def test_the_checker_sees_lazy_relative_and_dynamic_imports() -> None:
    """Hand-made cases: an import inside a function, relative imports, import_module with a literal, and a cycle."""
    source = ("def f():\n    from spokenlm.cli import app\n    from ..base import load_tokenizer\n    from . import seanet\n"
              "    import importlib\n    importlib.import_module('spokenlm.report.html')\n")
    names = [name for _, name in imported_modules(source, "spokenlm.tokenizers.codec.rvq")]
    assert names == ["spokenlm.cli", "spokenlm.tokenizers.base", "spokenlm.tokenizers.codec", "spokenlm.report.html"]
    assert [name for _, name in imported_modules("from .rvq import kmeans", "spokenlm.tokenizers.codec", is_package=True)] == ["spokenlm.tokenizers.codec.rvq"]
    assert cycles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == [["a", "b", "c"]]
