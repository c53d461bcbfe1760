"""Container output in Docker's ``json-file`` format: one ``{"log", "stream", "time"}`` object a line.

:class:`LogWriter` (used by the supervisor) splits each stream's bytes into lines, keeping a partial
line until its newline arrives; :func:`read_log` reads the entries back, optionally following the
file while the container runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from labcore.container.state import now_rfc3339

__all__ = ["LogEntry", "LogWriter", "read_log"]

_MAX_PARTIAL = 16 * 1024  # Docker also cuts very long lines into 16 KiB entries


@dataclass(frozen=True)
class LogEntry:
    """One line of output."""

    stream: str  # stdout or stderr
    text: str
    time: str


class LogWriter:
    """Append output to a json-file log, line by line, per stream."""

    def __init__(self, path: Path) -> None:
        self._file: BinaryIO = open(path, "ab")  # noqa: SIM115 - kept open for the container's life
        self._partial: dict[str, bytes] = {}

    def write(self, stream: str, data: bytes) -> None:
        """Record ``data`` read from ``stream``; complete lines are written at once."""
        buffer = self._partial.get(stream, b"") + data
        *lines, rest = buffer.split(b"\n")
        for line in lines:
            self._emit(stream, line + b"\n")
        while len(rest) >= _MAX_PARTIAL:
            self._emit(stream, rest[:_MAX_PARTIAL])
            rest = rest[_MAX_PARTIAL:]
        self._partial[stream] = rest
        self._file.flush()

    def _emit(self, stream: str, data: bytes) -> None:
        entry = {"log": data.decode("utf-8", errors="replace"), "stream": stream, "time": now_rfc3339()}
        self._file.write(json.dumps(entry).encode() + b"\n")

    def close(self) -> None:
        """Write out partial lines and close (no fsync: like Docker's json-file driver)."""
        for stream, rest in self._partial.items():
            if rest:
                self._emit(stream, rest)
        self._partial.clear()
        self._file.close()


def _entries(file: BinaryIO) -> Iterator[LogEntry | None]:
    """Entries from the current position; None when the end is reached (more may come later)."""
    pending = b""
    while True:
        chunk = file.readline()
        if not chunk:
            yield None
            continue
        pending += chunk
        if not pending.endswith(b"\n"):
            continue  # the writer is mid-line; wait for the rest
        try:
            entry = json.loads(pending)
        except json.JSONDecodeError:
            pending = b""
            continue
        pending = b""
        yield LogEntry(entry.get("stream", "stdout"), entry.get("log", ""), entry.get("time", ""))


def read_log(
    path: Path, *, follow: bool = False, still_running: Callable[[], bool] | None = None, poll: float = 0.05
) -> Iterator[LogEntry]:
    """The log's entries; with ``follow``, keep waiting for more while ``still_running()`` is true."""
    try:
        file = open(path, "rb")  # noqa: SIM115 - closed in finally below
    except FileNotFoundError:
        return
    try:
        for entry in _entries(file):
            if entry is not None:
                yield entry
                continue
            if not follow or still_running is None or not still_running():
                # one last read: output may have been written just before the container stopped
                if follow:
                    for late in _entries(file):
                        if late is None:
                            break
                        yield late
                return
            time.sleep(poll)
    finally:
        file.close()
