"""Entry point of the ``labcore`` command.

Each command group lives in its own module under ``labcore.cli`` and exposes
``register(subparsers)``, which adds its parsers and sets ``handler`` on them; modules are found
by listing the package, and ``ORDER`` (default 100) sorts them in ``--help``. Command modules
import the library lazily inside their handlers so that ``labcore --help`` and quick commands
start fast.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from labcore.errors import LabcoreError

__all__ = ["build_parser", "command_modules", "main"]

Handler = Callable[[argparse.Namespace], int]


def command_modules() -> list[ModuleType]:
    """Every module of this package that registers commands, in help order."""
    package = importlib.import_module("labcore.cli")
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_") or info.name in ("main", "launcher"):
            continue
        module = importlib.import_module(f"labcore.cli.{info.name}")
        if hasattr(module, "register"):
            found.append(module)
    return sorted(found, key=lambda module: (getattr(module, "ORDER", 100), module.__name__))


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every command group registered."""
    parser = argparse.ArgumentParser(
        prog="labcore",
        description="A container lab: images, layers, containers, networks and registries, for real.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in command_modules():
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, *, parser: argparse.ArgumentParser | None = None) -> int:
    """Run the command line and return its exit status (``parser``: one built before, to save time)."""
    parser = parser or build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except LabcoreError as error:
        print(f"labcore: error: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"hint: {error.hint}", file=sys.stderr)
        return getattr(error, "exit_code", 1)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
