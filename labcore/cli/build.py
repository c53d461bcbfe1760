"""``labcore build``: build an image from a Dockerfile."""

from __future__ import annotations

import argparse

ORDER = 30


def _build_arg(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not key:
        raise argparse.ArgumentTypeError(f"bad --build-arg {text!r}: use KEY=VALUE")
    if not sep:
        import os

        value = os.environ.get(key, "")
    return key, value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``build`` command."""
    parser = subparsers.add_parser("build", help="build an image from a Dockerfile")
    parser.add_argument("context", help="the build context directory")
    parser.add_argument("-t", "--tag", action="append", default=[], help="name the image NAME[:TAG]")
    parser.add_argument("-f", "--file", help="the Dockerfile (default: CONTEXT/Dockerfile)")
    parser.add_argument("--build-arg", action="append", default=[], type=_build_arg, metavar="KEY=VALUE",
                        help="set a build-time variable declared with ARG")
    parser.add_argument("--target", help="build up to this stage")
    parser.add_argument("--no-cache", action="store_true", help="do not use the build cache")
    parser.add_argument("--progress", choices=["auto", "plain", "quiet"], default="auto",
                        help="what to print (quiet: only the image id)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Build, printing each step; exit 1 with the failing line when a step fails."""
    from labcore.build import build

    build(args.context, dockerfile=args.file, tags=args.tag, build_args=dict(args.build_arg),
          target=args.target, no_cache=args.no_cache, progress=args.progress)
    return 0
