"""Progress of blob transfers: a text line in a terminal, widgets in Jupyter, nothing when quiet.

Transfers call :meth:`Progress.start`, :meth:`Progress.advance` and :meth:`Progress.finish` from
several threads; every implementation is thread-safe. :func:`make_progress` picks one: ipywidgets
bars when running in an IPython kernel with ipywidgets installed, a redrawn line on a terminal,
one line per finished blob otherwise.
"""

from __future__ import annotations

import importlib
import sys
import threading
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

__all__ = ["NullProgress", "Progress", "TextProgress", "WidgetProgress", "make_progress"]


class Progress(Protocol):
    """Receives transfer events; ``key`` identifies one blob (its digest)."""

    def start(self, key: str, label: str, total: int) -> None:
        """A transfer of ``total`` bytes begins."""

    def advance(self, key: str, amount: int) -> None:
        """``amount`` more bytes moved."""

    def finish(self, key: str, status: str) -> None:
        """The transfer ended: ``done``, ``exists``, ``mounted``, ``reused`` or ``failed``."""

    def close(self) -> None:
        """No more events will come."""


class NullProgress:
    """Shows nothing."""

    def start(self, key: str, label: str, total: int) -> None:
        """Ignore."""

    def advance(self, key: str, amount: int) -> None:
        """Ignore."""

    def finish(self, key: str, status: str) -> None:
        """Ignore."""

    def close(self) -> None:
        """Ignore."""


def _size(count: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


@dataclass
class _Item:
    label: str
    total: int
    done: int = 0


class TextProgress:
    """A summary line redrawn in place on a terminal; one line per blob when not a terminal."""

    def __init__(self, stream: TextIO = sys.stderr, verb: str = "transferring") -> None:
        self._stream = stream
        self._verb = verb
        self._tty = stream.isatty()
        self._items: dict[str, _Item] = {}
        self._finished = 0
        self._lock = threading.Lock()

    def start(self, key: str, label: str, total: int) -> None:
        """Register a blob."""
        with self._lock:
            self._items[key] = _Item(label, total)
            self._draw()

    def advance(self, key: str, amount: int) -> None:
        """Count bytes."""
        with self._lock:
            self._items[key].done += amount
            self._draw()

    def finish(self, key: str, status: str) -> None:
        """Mark a blob done and say so."""
        with self._lock:
            item = self._items[key]
            self._finished += 1
            if self._tty:
                self._stream.write("\r\x1b[K")
            self._stream.write(f"{item.label}: {status} ({_size(item.total)})\n")
            self._draw()

    def _draw(self) -> None:
        if not self._tty:
            return
        done = sum(item.done for item in self._items.values())
        total = sum(item.total for item in self._items.values())
        self._stream.write(
            f"\r\x1b[K{self._verb} {self._finished}/{len(self._items)} blobs, {_size(done)} of {_size(total)}"
        )
        self._stream.flush()

    def close(self) -> None:
        """End the line."""
        with self._lock:
            if self._tty:
                self._stream.write("\r\x1b[K")
            self._stream.flush()


class WidgetProgress:
    """One ipywidgets progress bar per blob, shown in the notebook cell."""

    def __init__(self, verb: str = "transferring") -> None:
        # imported by name: neither package ships type information
        ipywidgets: Any = importlib.import_module("ipywidgets")
        display: Any = importlib.import_module("IPython.display").display

        self._widgets = ipywidgets
        self._box = ipywidgets.VBox([ipywidgets.HTML(f"<b>{verb}</b>")])
        self._bars: dict[str, Any] = {}
        self._lock = threading.Lock()
        display(self._box)

    def start(self, key: str, label: str, total: int) -> None:
        """Add a bar."""
        with self._lock:
            bar = self._widgets.IntProgress(value=0, min=0, max=max(total, 1), description=label[:20])
            self._bars[key] = bar
            self._box.children = (*self._box.children, bar)

    def advance(self, key: str, amount: int) -> None:
        """Move a bar."""
        with self._lock:
            self._bars[key].value += amount

    def finish(self, key: str, status: str) -> None:
        """Fill a bar and colour it by outcome."""
        with self._lock:
            bar = self._bars[key]
            bar.value = bar.max
            bar.bar_style = "danger" if status == "failed" else "success"
            bar.description = f"{bar.description[:12]} {status}"

    def close(self) -> None:
        """Nothing to tidy: the bars stay as a record."""


def _in_ipython_kernel() -> bool:
    shell_module = sys.modules.get("IPython")
    if shell_module is None:
        return False
    shell = shell_module.get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def make_progress(quiet: bool = False, verb: str = "transferring", stream: TextIO | None = None) -> Progress:
    """The progress display that suits where we run."""
    if quiet:
        return NullProgress()
    if _in_ipython_kernel():
        try:
            return WidgetProgress(verb)
        except ImportError:
            pass
    return TextProgress(stream or sys.stderr, verb)
