"""Run a command as a child subreaper, then kill whatever it left running.

``python -m labcore.course.reaper COMMAND...``: grading runs nbval through this, so that processes
student code started, even double-forked daemons in a new session, are re-parented here instead of
to pid 1, and die when the command ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Sequence

from labcore.linux.subreaper import set_child_subreaper

__all__ = ["children_of", "main", "reap_all"]


def children_of(pid: int) -> list[int]:
    """The pids whose parent is ``pid``, read from ``/proc/*/stat``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as file:
                stat = file.read()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
            found.append(int(entry))
    return found


def reap_all() -> None:
    """SIGKILL every child (orphans keep arriving while their parents die) and wait for them all."""
    while True:
        children = children_of(os.getpid())
        if not children:
            return
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        for child in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(child, 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``argv`` as a subreaper's child; return its exit status after killing the leftovers."""
    command = list(sys.argv[1:] if argv is None else argv)
    set_child_subreaper()
    try:
        status = subprocess.call(command)
    finally:
        reap_all()
    return status


if __name__ == "__main__":
    sys.exit(main())
