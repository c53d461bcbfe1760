"""Run a small piece of system work in a throwaway child process.

Namespace and mount experiments must not change the calling process (unshare is one-way) nor
leak into the host, so each runs in a forked child that reports the errno it hit, if any.
"""

from __future__ import annotations

import os
from collections.abc import Callable

__all__ = ["ProbeResult", "run_in_child"]

ProbeResult = tuple[int, str]
"""(errno, message): errno 0 means the probe succeeded."""


def run_in_child(work: Callable[[], None], timeout_note: str = "") -> ProbeResult:
    """Run ``work`` in a forked child; return ``(0, "")`` or the ``OSError`` it raised."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report and leave without running any Python cleanup of the parent's
        os.close(read_fd)
        code = 0
        try:
            work()
        except OSError as error:
            os.write(write_fd, f"{error.errno or 0}\n{error}".encode(errors="replace"))
            code = 1
        except BaseException as error:  # the child must always exit
            os.write(write_fd, f"0\n{type(error).__name__}: {error}".encode(errors="replace"))
            code = 2
        os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        message = pipe.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        return 0, ""
    number, _, text = message.partition("\n")
    return int(number or 0) or -1, text or f"probe exited with status {status} {timeout_note}".strip()
