"""The checking API of the notebooks' test cells.

A test cell reads real state (the mount table, cgroup files, the store on disk...) and calls
:func:`expect`; a failed check raises :class:`CheckFailed`, which Jupyter shows as the hint and what
was found instead of a bare ``AssertionError`` traceback::

    from labcore.course.check import expect
    expect(mode == runtime_cgroups.cgroup_mode(), "read report['cgroups'].facts['mode']", found=mode)
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["MISSING", "CheckFailed", "answer", "expect", "expect_equal"]


class _Missing:
    def __repr__(self) -> str:
        return "<nothing>"


MISSING: Any = _Missing()


class CheckFailed(AssertionError):  # noqa: N818 (the name students see)
    """A check in a test cell failed: ``hint`` says what to try, ``found`` what was there instead."""

    def __init__(self, hint: str, found: Any = MISSING) -> None:
        self.hint = hint
        self.found = found
        message = hint if found is MISSING else f"{hint} (found: {found!r})"
        super().__init__(message)

    def _render_traceback_(self) -> list[str]:
        """IPython shows these lines instead of a traceback (the student's code is not at fault here)."""
        lines = ["\x1b[1;31mcheck failed\x1b[0m", f"hint: {self.hint}"]
        if self.found is not MISSING:
            lines.append(f"found: {self.found!r}")
        return lines


def expect(condition: object, hint: str, *, found: Any = MISSING) -> None:
    """Pass when ``condition`` is true; otherwise raise :class:`CheckFailed` with ``hint`` and ``found``."""
    if not condition:
        raise CheckFailed(hint, found)


def expect_equal(actual: Any, expected: Any, hint: str) -> None:
    """Pass when ``actual == expected``; otherwise say what was found and what the lab expected."""
    if actual != expected:
        raise CheckFailed(f"{hint}; expected {expected!r}", actual)


def answer(name: str, hint: str | None = None) -> Any:
    """The value the student's code bound to ``name`` in the notebook; :class:`CheckFailed` if unbound.

    A test cell calls it instead of using the name directly, so that a missing answer fails with a
    hint rather than a ``NameError``.
    """
    caller_globals = sys._getframe(1).f_globals
    if name not in caller_globals:
        raise CheckFailed(hint or f"run your answer cell: it must set the variable {name!r}")
    return caller_globals[name]
