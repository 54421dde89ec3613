"""Typed errors shared across spokenlm.

Every error that concerns a file names the file and the reason in one line, so
batch jobs can report and skip it.
"""

from __future__ import annotations

from pathlib import Path


class SpokenLMError(Exception):
    """Base class of every error spokenlm raises on purpose."""


class AudioError(SpokenLMError):
    """A problem with one audio file or waveform.

    Attributes:
        path: the file (or a description of the in-memory source).
        reason: a short machine-readable reason, e.g. ``"unreadable"``, ``"empty"``.
        detail: a human-readable explanation.
    """

    def __init__(self, path: str | Path, reason: str, detail: str = "") -> None:
        self.path = str(path)
        self.reason = reason
        self.detail = detail
        message = f"{self.path}: {reason}"
        if detail:
            message += f" ({detail})"
        super().__init__(message)


class FileAccessError(SpokenLMError):
    """A file or folder that cannot be created, read or written (missing parent, permission, read-only, disk full)."""

    @classmethod
    def from_os_error(cls, err: OSError, action: str) -> FileAccessError:
        """``PATH: ACTION (reason)`` from an OS error, e.g. ``/proc/nope: cannot create the folder (no such file or directory)``."""
        path = f"{err.filename}" + (f" → {err.filename2}" if err.filename2 is not None else "")
        return cls(f"{path}: {action} ({(err.strerror or str(err) or type(err).__name__).lower()})")


class ManifestError(SpokenLMError):
    """A manifest that cannot be read, or an entry in it that is broken."""


class ConfigError(SpokenLMError):
    """A config file or a ``key=value`` override that does not fit the config."""


class MissingDependencyError(SpokenLMError):
    """An optional dependency is not installed; the message says how to install it."""

    def __init__(self, package: str, extra: str | None = None, purpose: str = "") -> None:
        how = f"pip install 'spokenlm[{extra}]'" if extra else f"pip install {package}"
        what = f" for {purpose}" if purpose else ""
        super().__init__(f"{package} is needed{what}; install it with: {how}")
