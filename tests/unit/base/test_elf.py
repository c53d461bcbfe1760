from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from labcore.image.base.elf import is_static_executable

_PT_LOAD, _PT_INTERP = 1, 3


def _elf64(program_header_types: list[int]) -> bytes:
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    phoff = 64
    header = struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x401000, phoff, 0, 0, 64, 56, len(program_header_types),
                         64, 0, 0)
    program_headers = b"".join(struct.pack("<IIQQQQQQ", kind, 5, 0, 0, 0, 0, 0, 0)
                               for kind in program_header_types)
    return ident + header + program_headers


def test_elf_without_interpreter_is_static(tmp_path: Path) -> None:
    binary = tmp_path / "static"
    binary.write_bytes(_elf64([_PT_LOAD, _PT_LOAD]))
    assert is_static_executable(binary)


def test_elf_with_interpreter_is_dynamic(tmp_path: Path) -> None:
    binary = tmp_path / "dynamic"
    binary.write_bytes(_elf64([_PT_LOAD, _PT_INTERP, _PT_LOAD]))
    assert not is_static_executable(binary)


@pytest.mark.parametrize("content", [b"", b"#!/bin/sh\necho hi\n", b"\x7fELF\x09\x01" + bytes(100)])
def test_non_elf_files_are_not_static_executables(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "file"
    path.write_bytes(content)
    assert not is_static_executable(path)


def test_host_shell_is_dynamically_linked() -> None:
    shell = Path(shutil.which("bash") or "/bin/bash").resolve()
    assert not is_static_executable(shell)
