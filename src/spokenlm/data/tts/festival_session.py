"""A long-lived ``festival --pipe`` process per voice, so each utterance costs no festival start-up (~0.3 s).

Commands go in on stdin; replies come back on stderr (unbuffered, unlike
festival's stdout), ended by a numbered marker line. A session belongs to the
process that started it: a forked worker starts its own.
"""

from __future__ import annotations

import atexit
import os
import select
import subprocess
import time

from spokenlm.data.tts.voice import TTSError

END = "spokenlm-end"


class FestivalSession:
    """One festival process with ``voice_<name>`` loaded.

    Args:
        binary: path of the festival executable.
        voice_name: festival voice, e.g. ``kal_diphone``.
        voice_id: ``festival:<name>`` for error messages.
    """

    def __init__(self, binary: str, voice_name: str, voice_id: str) -> None:
        self.voice_id = voice_id
        self.pid = os.getpid()
        self.count = 0
        self.pending = b""  # stderr bytes read but not yet split into lines (read with os.read: select sees the fd)
        self.proc = subprocess.Popen(
            [binary, "--pipe"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, bufsize=1
        )
        self.run(f"(voice_{voice_name})", "(voice set-up)", timeout_s=60.0)

    def alive(self) -> bool:
        return self.pid == os.getpid() and self.proc.poll() is None

    def run(self, script: str, shown_text: str, timeout_s: float) -> list[str]:
        """Evaluate ``script``; return the lines it wrote to stderr. A dead or stuck festival is a :class:`TTSError`."""
        self.count += 1
        marker = f"{END} {self.count}"
        try:
            self.proc.stdin.write(f'{script}\n(format stderr "{marker}\\n")\n')
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as err:
            self.close()
            raise TTSError(self.voice_id, shown_text, f"festival process ended ({err})") from err
        deadline = time.monotonic() + timeout_s
        fd = self.proc.stderr.fileno()
        lines: list[str] = []
        while True:
            while b"\n" in self.pending:
                raw, self.pending = self.pending.split(b"\n", 1)
                line = raw.decode("utf-8", "replace")
                if line.strip() == marker:
                    return lines
                lines.append(line)
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                self.close()
                raise TTSError(self.voice_id, shown_text, f"festival timed out after {timeout_s:.0f} s")
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                self.close()
                raise TTSError(self.voice_id, shown_text, f"festival process ended: {lines[-1].strip() if lines else 'no output'}")
            self.pending += chunk

    def close(self) -> None:
        if self.pid != os.getpid():
            return  # inherited through fork: the parent owns it
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


_SESSIONS: dict[str, FestivalSession] = {}


def session(binary: str, voice_name: str, voice_id: str) -> FestivalSession:
    """This process's festival session for ``voice_name``, started on first use (or after it died)."""
    current = _SESSIONS.get(voice_name)
    if current is None or not current.alive():
        current = _SESSIONS[voice_name] = FestivalSession(binary, voice_name, voice_id)
    return current


@atexit.register
def _close_all() -> None:
    for current in _SESSIONS.values():
        current.close()
