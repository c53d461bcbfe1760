"""Who a process is: its start time in ``/proc/PID/stat``, which tells a pid from a reuse of it."""

from __future__ import annotations

__all__ = ["is_alive", "process_start_time"]


def _stat_fields(pid: int) -> list[bytes] | None:
    """The fields of ``/proc/PID/stat`` after the command name (state first); None if ``pid`` is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            stat = file.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # the command name (field 2) may contain spaces and parentheses: split after its last ")"
    return stat[stat.rindex(b")") + 2 :].split()


def process_start_time(pid: int) -> int | None:
    """Field 22 of ``/proc/PID/stat`` (start time in clock ticks since boot); None if ``pid`` is gone."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields is not None else None


def is_alive(pid: int, start_time: int | None) -> bool:
    """Whether ``pid`` still runs and is the same process (not a reuse of the number), not a zombie.

    With ``start_time`` None, any process with that pid counts.
    """
    fields = _stat_fields(pid)
    if fields is None or fields[0] in (b"Z", b"X"):
        return False
    return start_time is None or int(fields[19]) == start_time
