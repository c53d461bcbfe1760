"""Prefault a process's memory (``madvise(MADV_POPULATE_READ/WRITE)``, Linux 5.14+).

A forked process shares its parent's pages copy-on-write, and a fork does not even copy the page
table entries of file mappings such as libpython's code: the child then takes a page fault at the
first write to every page, and at the first touch of every code page. Where page faults are
expensive (under virtualization, several microseconds each), a process forked *ahead* of time can
take all those faults before it has work to do: :func:`prefault_mappings`.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

from labcore.linux._libc import libc

__all__ = ["Mapping", "mappings", "prefault_mappings"]

MADV_POPULATE_READ = 22
MADV_POPULATE_WRITE = 23
_SPECIAL = ("[vvar]", "[vvar_vclock]", "[vdso]", "[vsyscall]")


@dataclass(frozen=True)
class Mapping:
    """One line of ``/proc/PID/maps``."""

    start: int
    end: int
    permissions: str
    path: str

    @property
    def size(self) -> int:
        """Its length in bytes."""
        return self.end - self.start


def mappings(pid: int | str = "self") -> list[Mapping]:
    """The memory mappings of process ``pid``."""
    found = []
    with open(f"/proc/{pid}/maps", "rb") as file:
        for line in file:
            fields = line.split(maxsplit=5)
            start, _, end = fields[0].partition(b"-")
            path = fields[5].strip().decode("utf-8", "surrogateescape") if len(fields) > 5 else ""
            found.append(Mapping(int(start, 16), int(end, 16), fields[1].decode(), path))
    return found


def prefault_mappings() -> int:
    """Fault in every page of this process now.

    Private writable memory is write-faulted (which ends its copy-on-write sharing with the
    parent), the other readable mappings are read-faulted. Returns the bytes populated. Mappings
    the kernel refuses (special ones, or a kernel older than 5.14) are skipped: this only moves
    work earlier, it never changes what the process does.
    """
    madvise = libc().madvise
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    madvise.restype = ctypes.c_int
    populated = 0
    for mapping in mappings():
        if mapping.path in _SPECIAL or "r" not in mapping.permissions:
            continue
        writable_private = mapping.permissions[1] == "w" and mapping.permissions[3] == "p"
        advice = MADV_POPULATE_WRITE if writable_private else MADV_POPULATE_READ
        if madvise(mapping.start, mapping.size, advice) == 0:
            populated += mapping.size
    return populated
