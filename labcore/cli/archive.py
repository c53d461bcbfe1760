"""``labcore save`` and ``labcore load``: move images in and out of the store as tar archives."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from labcore.image.archive import LoadedImage

__all__ = ["ORDER", "register"]

ORDER = 22


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``save`` and ``load`` commands."""
    save = subparsers.add_parser(
        "save",
        help="write images to a tar archive (docker save format, or --format oci)",
        description="Write images to a tar archive. The docker format is what `docker save` writes since "
        "Docker 25 (an OCI layout plus manifest.json); --format oci writes a plain OCI image layout.",
    )
    save.add_argument("images", nargs="+", metavar="IMAGE", help="name, name@digest or id of an image")
    save.add_argument("-o", "--output", type=Path, help="the archive file to write (default: standard output)")
    save.add_argument("--format", dest="archive_format", choices=("docker", "oci"), default="docker",
                      help="docker (default) or oci")
    save.set_defaults(handler=_save)

    load = subparsers.add_parser(
        "load",
        help="read images from a tar archive (docker save, labcore save, OCI layout)",
        description="Load the images of an archive into the store, verifying every blob. Reads `docker save` "
        "archives (both the Docker 25+ and the older format), `labcore save` and OCI layout archives.",
    )
    load.add_argument("-i", "--input", default="-", help="the archive file to read (default: standard input)")
    load.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    load.set_defaults(handler=_load)


def _scratch_dir() -> Path:
    from labcore.config import settings

    scratch = settings().root / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    return scratch


def _save(args: argparse.Namespace) -> int:
    from labcore.errors import UsageError
    from labcore.image.archive import save_images

    if args.output is not None:
        save_images(args.images, args.output, archive_format=args.archive_format)
        return 0
    if sys.stdout.isatty():
        raise UsageError("refusing to write an image archive to a terminal",
                         hint="give -o FILE, or redirect the output: labcore save busybox > busybox.tar")
    with tempfile.TemporaryDirectory(dir=_scratch_dir(), prefix="save-") as scratch:
        archive = Path(scratch) / "archive.tar"
        save_images(args.images, archive, archive_format=args.archive_format)
        with archive.open("rb") as source:
            shutil.copyfileobj(source, sys.stdout.buffer, 1 << 20)
        sys.stdout.buffer.flush()
    return 0


def _load(args: argparse.Namespace) -> int:
    from labcore.errors import NotFoundError, UsageError
    from labcore.image.archive import load_archive

    if args.input != "-":
        archive = Path(args.input)
        if not archive.is_file():
            raise NotFoundError(f"archive {archive} does not exist", hint="give the path of a tar archive")
        return _print_loaded(load_archive(archive), args.quiet)
    if sys.stdin.isatty():
        raise UsageError("no archive given and standard input is a terminal",
                         hint="give -i FILE, or pipe an archive in: labcore load < busybox.tar")
    # a tar read by member name needs seeking, which a pipe cannot do: spool it to a file first
    with tempfile.TemporaryDirectory(dir=_scratch_dir(), prefix="load-") as scratch:
        archive = Path(scratch) / "archive.tar"
        with archive.open("wb") as target:
            shutil.copyfileobj(sys.stdin.buffer, target, 1 << 20)
        return _print_loaded(load_archive(archive), args.quiet)


def _print_loaded(images: list[LoadedImage], quiet: bool) -> int:
    for image in images:
        if quiet:
            continue
        for name in image.names:
            print(f"Loaded image: {name.familiar}")
        if not image.names:
            print(f"Loaded image ID: {image.id}")
    return 0
