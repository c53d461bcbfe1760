"""Install the ``labcore`` command so that it starts fast: a small C client, or a site-less script.

pip's console script for ``labcore`` runs a full interpreter start (``site`` and the ``.pth``
files of every installed package) before labcore's launcher (:mod:`labcore.cli.launcher`) can
hand the command to the command server; Python's own start-up is most of a served command's
time. :func:`install_launcher` compiles ``client.c`` beside this module, the command server's
client in C (like Mercurial's ``chg``), when a C compiler is installed; it runs the Python
launcher whenever the server cannot take the command. Without a compiler it writes a script that
starts ``python -S`` and runs the same launcher, which loads ``site`` itself only when it has to
run the command in-process. ``./lab provision`` installs it over pip's script:
``python -m labcore.cli.launcher_script PATH``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from labcore.config import package_parent
from labcore.fs.atomic import write_atomic

__all__ = ["build_client", "install_launcher", "launcher_script", "main", "write_launcher_script"]

CLIENT_SOURCE = Path(__file__).with_name("client.c")
_COMPILE_FLAGS = ["-O2", "-std=c11", "-Wall", "-Wextra", "-Werror"]


def launcher_script(python: str = sys.executable) -> str:
    """The text of the ``labcore`` command as a script, for interpreter ``python`` and this labcore."""
    return (
        f"#!{python} -S\n"
        "# The labcore command, written by `python -m labcore.cli.launcher_script` (./lab provision):\n"
        "# Python starts without site; the launcher loads it only to run a command in-process.\n"
        "import sys\n"
        f"sys.path.insert(0, {package_parent()!r})\n"
        "from labcore.cli.launcher import main\n"
        "sys.exit(main())\n"
    )


def write_launcher_script(path: Path, python: str = sys.executable) -> bool:
    """Write the script to ``path`` (executable); False if it was there already, unchanged."""
    text = launcher_script(python)
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    write_atomic(path, text.encode("utf-8"), mode=0o755, durable=False)
    return True


def _c_string(text: str) -> str:
    """``text`` as a C string literal (octal escapes for anything but printable ASCII)."""
    escaped = "".join(
        chr(byte) if 0x20 <= byte < 0x7F and byte not in b'"\\' else f"\\{byte:03o}" for byte in text.encode()
    )
    return f'"{escaped}"'


def build_client(path: Path, python: str = sys.executable, compiler: str | None = None) -> bool:
    """Compile the C client to ``path`` for interpreter ``python``; False when no C compiler is found.

    A compiler that rejects the source raises ``subprocess.CalledProcessError`` with its output.
    """
    cc = compiler or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return False
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    command = [
        cc,
        *_COMPILE_FLAGS,
        f"-DLABCORE_PYTHON={_c_string(python)}",
        f"-DLABCORE_PACKAGE_PARENT_REPR={_c_string(repr(package_parent()))}",
        "-o",
        str(temp),
        str(CLIENT_SOURCE),
    ]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    temp.replace(path)
    return True


def install_launcher(path: Path, python: str = sys.executable) -> str:
    """Install the fastest ``labcore`` command this host can have at ``path``: ``"client"`` or ``"script"``."""
    try:
        if build_client(path, python):
            return "client"
    except subprocess.CalledProcessError as error:
        print(f"labcore: could not compile {CLIENT_SOURCE.name}; using the Python launcher\n{error.stderr}",
              file=sys.stderr)  # fmt: skip
    write_launcher_script(path, python)
    return "script"


def main(argv: list[str] | None = None) -> int:
    """``python -m labcore.cli.launcher_script PATH``: install the command at PATH."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m labcore.cli.launcher_script PATH", file=sys.stderr)
        return 2
    install_launcher(Path(args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
