"""``labcore base busybox|hello|debian``: make a base image on this host, no registry needed."""

from __future__ import annotations

import argparse

__all__ = ["ORDER", "register"]

ORDER = 25

_DEFAULT_TAGS = {"busybox": "busybox:latest", "hello": "hello-world:latest", "debian": "debian:bookworm"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``base`` command."""
    parser = subparsers.add_parser(
        "base",
        help="make a base image (busybox, hello, debian) from this host",
        description="Make a one-layer base image in the store: busybox from the host's busybox-static, "
        "hello from labcore's hello.c (no libc), debian with debootstrap (slow the first time, then cached).",
    )
    parser.add_argument("kind", choices=sorted(_DEFAULT_TAGS), help="which base image")
    parser.add_argument("--tag", "-t", help="name for the image "
                        "(default: busybox:latest, hello-world:latest, debian:bookworm)")
    parser.add_argument("--suite", default="bookworm", help="debian only: the release (default bookworm)")
    parser.set_defaults(handler=_base)


def _base(args: argparse.Namespace) -> int:
    from labcore.image import base

    tag = args.tag or _DEFAULT_TAGS[args.kind]
    if args.kind == "busybox":
        image = base.busybox_image(tag=tag)
    elif args.kind == "hello":
        image = base.hello_image(tag=tag)
    else:
        if args.tag is None and args.suite != "bookworm":
            tag = f"debian:{args.suite}"
        image = base.debian_image(tag=tag, suite=args.suite)
    print(f"{image.display_name}  {image.id}")
    return 0
