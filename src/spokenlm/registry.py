"""Registries of components by name, so a YAML file or a CLI flag can pick them.

    TOKENIZERS = Registry("tokenizer")
    @TOKENIZERS.register("mfcc-km")
    class MfccKmeans(...): ...
    TOKENIZERS.get("mfcc-km")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from spokenlm.errors import SpokenLMError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name → object table with a clear error listing the known names."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            if name in self._items and self._items[name] is not obj:
                raise SpokenLMError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            return obj

        return decorator

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise SpokenLMError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items
