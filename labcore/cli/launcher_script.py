"""Write the ``labcore`` command as a script that starts Python without the ``site`` module.

pip's console script for ``labcore`` runs a full interpreter start: ``site`` and the ``.pth``
files of every installed package cost about 4 ms before labcore's launcher (see
:mod:`labcore.cli.launcher`) can hand the command to the command server. The script written
here starts ``python -S``, puts the directory that holds this labcore on ``sys.path`` and runs
the same launcher, which loads ``site`` itself only when it has to run the command in-process.
``./lab provision`` writes it over pip's script: ``python -m labcore.cli.launcher_script PATH``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["launcher_script", "main", "write_launcher_script"]


def launcher_script(python: str = sys.executable) -> str:
    """The text of the ``labcore`` command for interpreter ``python`` and this labcore."""
    package_parent = str(Path(__file__).resolve().parents[2])
    return (
        f"#!{python} -S\n"
        "# The labcore command, written by `python -m labcore.cli.launcher_script` (./lab provision):\n"
        "# Python starts without site; the launcher loads it only to run a command in-process.\n"
        "import sys\n"
        f"sys.path.insert(0, {package_parent!r})\n"
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
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(text, encoding="utf-8")
    temp.chmod(0o755)
    temp.replace(path)
    return True


def main(argv: list[str] | None = None) -> int:
    """``python -m labcore.cli.launcher_script PATH``: write the script to PATH."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m labcore.cli.launcher_script PATH", file=sys.stderr)
        return 2
    write_launcher_script(Path(args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
