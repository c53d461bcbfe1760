"""Read the mount table of a process from ``/proc/PID/mountinfo``."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MountEntry", "mount_points_under", "mounts", "propagation_of"]


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo octal
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class MountEntry:
    """One line of ``mountinfo``."""

    mount_id: int
    parent_id: int
    root: str
    target: str
    options: str
    optional: tuple[str, ...]
    fstype: str
    source: str
    super_options: str

    @property
    def propagation(self) -> str:
        """``shared``, ``slave``, ``unbindable`` or ``private``."""
        kinds = [field.split(":")[0] for field in self.optional]
        for kind in ("shared", "master", "unbindable"):
            if kind in kinds:
                return "slave" if kind == "master" else kind
        return "private"


def mounts(pid: int | str = "self") -> list[MountEntry]:
    """Every mount visible to process ``pid``, in kernel order."""
    entries = []
    with open(f"/proc/{pid}/mountinfo", encoding="utf-8", errors="surrogateescape") as file:
        for line in file:
            left, _, right = line.rstrip("\n").partition(" - ")
            fields = left.split(" ")
            fstype, source, super_options = [*right.split(" "), "", "", ""][:3]
            entries.append(
                MountEntry(
                    mount_id=int(fields[0]),
                    parent_id=int(fields[1]),
                    root=_unescape(fields[3]),
                    target=_unescape(fields[4]),
                    options=fields[5],
                    optional=tuple(fields[6:]),
                    fstype=fstype,
                    source=_unescape(source),
                    super_options=super_options,
                )
            )
    return entries


def _escape(path: str) -> str:
    return "".join(f"\\{ord(char):03o}" if char in " \t\n\\" else char for char in path)


def mount_points_under(directory: str, pid: int | str = "self") -> list[str]:
    """Mount points at ``directory`` or below it, as process ``pid`` sees them.

    Cheap when there are none (the usual answer): the table is searched as text first.
    """
    directory = directory.rstrip("/") or "/"
    with open(f"/proc/{pid}/mountinfo", "rb") as file:
        table = file.read()
    if f" {_escape(directory)}".encode("utf-8", "surrogateescape") not in table:
        return []
    prefix = directory + "/"
    return [entry.target for entry in mounts(pid) if entry.target == directory or entry.target.startswith(prefix)]


def propagation_of(target: str = "/", pid: int | str = "self") -> str:
    """The propagation type of the topmost mount at ``target``."""
    found = [entry for entry in mounts(pid) if entry.target == target]
    if not found:
        raise FileNotFoundError(2, "no mount at this path", target)
    return found[-1].propagation
