"""Just enough ELF parsing to tell whether an executable can run without a dynamic loader."""

from __future__ import annotations

import struct
from pathlib import Path

__all__ = ["is_static_executable"]

_PT_INTERP = 3


def is_static_executable(path: Path) -> bool:
    """True if ``path`` is an ELF executable with no ``PT_INTERP`` (no dynamic loader needed).

    A file that is not ELF at all is not a static executable either.
    """
    with path.open("rb") as file:
        ident = file.read(16)
        if len(ident) < 16 or ident[:4] != b"\x7fELF" or ident[4] not in (1, 2) or ident[5] not in (1, 2):
            return False
        wide = ident[4] == 2
        order = "<" if ident[5] == 1 else ">"
        header = file.read(48 if wide else 36)
        if wide:
            phoff, phentsize, phnum = (*struct.unpack_from(order + "Q", header, 16),
                                       *struct.unpack_from(order + "HH", header, 38))
        else:
            phoff, phentsize, phnum = (*struct.unpack_from(order + "I", header, 12),
                                       *struct.unpack_from(order + "HH", header, 26))
        for index in range(phnum):
            file.seek(phoff + index * phentsize)
            raw = file.read(4)
            if len(raw) < 4:
                return False
            kind: int = struct.unpack(order + "I", raw)[0]
            if kind == _PT_INTERP:
                return False
        return bool(phnum > 0)
