"""The hello-world program: compiled from ``labcore/data/hello.c`` into a static binary with no libc.

The binary is built when the image is first made and cached under ``$LABCORE_ROOT/cache/hello``,
keyed by the digest of the source, the compiler flags and the machine, so edits to the source
rebuild it and nothing compiled is ever committed to the repository.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

from labcore.config import settings
from labcore.errors import SystemSetupError
from labcore.image.base.elf import is_static_executable

__all__ = ["COMPILE_FLAGS", "HELLO_SOURCE", "build_hello", "hello_source"]

#: ``labcore/data/hello.c``, shipped as package data beside the code.
HELLO_SOURCE = Path(__file__).resolve().parents[2] / "data" / "hello.c"

COMPILE_FLAGS = (
    "-static", "-nostdlib", "-nostartfiles", "-Os", "-s",
    "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-Wl,--build-id=none",
)


def hello_source() -> bytes:
    """The C source of the hello program, as shipped in the package data."""
    return HELLO_SOURCE.read_bytes()


def _compiler() -> str:
    for name in (os.environ.get("CC", ""), "gcc", "cc"):
        if name and shutil.which(name):
            return name
    raise SystemSetupError("no C compiler found to build the hello program", hint="apt-get install gcc")


def build_hello(cache: Path | None = None) -> Path:
    """Compile the hello program (or reuse the cached build) and return the binary's path."""
    source = hello_source()
    compiler = _compiler()
    key = hashlib.sha256(b"\0".join([source, compiler.encode(), platform.machine().encode(),
                                     *(flag.encode() for flag in COMPILE_FLAGS)])).hexdigest()[:16]
    cache = cache if cache is not None else settings().root / "cache" / "hello"
    binary = cache / key / "hello"
    if binary.is_file():
        return binary
    binary.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=binary.parent, prefix=".build-") as workdir:
        source_file = Path(workdir) / "hello.c"
        source_file.write_bytes(source)
        output = Path(workdir) / "hello"
        result = subprocess.run([compiler, *COMPILE_FLAGS, "-o", str(output), str(source_file)],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise SystemSetupError(
                f"{compiler} could not build hello.c: {result.stderr.strip()}",
                hint="hello.c supports x86_64 and aarch64 and needs gcc; check the compiler's message",
            )
        if not is_static_executable(output):
            raise SystemSetupError(f"{compiler} built a hello binary that is not static",
                                   hint="use gcc from Debian's build-essential")
        with output.open("rb") as file:
            os.fsync(file.fileno())
        output.rename(binary)
    return binary
