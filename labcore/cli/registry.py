"""``labcore pull|push|search|login|logout``: talk to registries."""

from __future__ import annotations

import argparse
import getpass
import sys

__all__ = ["ORDER", "register"]

ORDER = 30


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the registry commands."""
    pull = subparsers.add_parser("pull", help="fetch an image from a registry into the store")
    pull.add_argument("image", help="NAME[:TAG][@DIGEST], e.g. busybox or 127.0.0.1:5000/app:1")
    pull.add_argument("--platform", help="OS/ARCH[/VARIANT] to choose from a multi-platform image")
    pull.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    pull.add_argument("--jobs", type=int, default=4, help="blobs fetched at once (default 4)")
    pull.set_defaults(handler=_pull)

    push = subparsers.add_parser("push", help="upload an image from the store to a registry")
    push.add_argument("image", help="the local image")
    push.add_argument("target", nargs="?", help="REGISTRY/REPOSITORY[:TAG] (default: the image's name)")
    mode = push.add_mutually_exclusive_group()
    mode.add_argument("--chunked", type=int, metavar="BYTES", help="upload in PATCH chunks of BYTES")
    mode.add_argument("--monolithic", action="store_true", help="send each blob in one PUT")
    push.add_argument("--mount-from", action="append", metavar="REPOSITORY",
                      help="repository of the same registry to mount blobs from")
    push.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    push.add_argument("--jobs", type=int, default=4, help="blobs sent at once (default 4)")
    push.set_defaults(handler=_push)

    search = subparsers.add_parser(
        "search", help="list a registry's repositories and tags (uses the _catalog extension)"
    )
    search.add_argument("term", nargs="?", default="", help="show repositories whose name contains TERM")
    search.add_argument("--registry", help="HOST[:PORT] (default: the lab registry)")
    search.add_argument("--no-tags", action="store_true", help="do not list tags")
    search.set_defaults(handler=_search)

    login = subparsers.add_parser("login", help="save credentials for a registry (checked first)")
    login.add_argument("registry", nargs="?", help="HOST[:PORT] (default: the lab registry)")
    login.add_argument("-u", "--username", help="user name (asked for when absent)")
    login.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    login.set_defaults(handler=_login)

    logout = subparsers.add_parser("logout", help="forget the credentials for a registry")
    logout.add_argument("registry", nargs="?", help="HOST[:PORT] (default: the lab registry)")
    logout.set_defaults(handler=_logout)


def _pull(args: argparse.Namespace) -> int:
    from labcore.registry.platforms import parse_platform
    from labcore.registry.progress import make_progress
    from labcore.registry.pull import pull_image

    platform = parse_platform(args.platform) if args.platform else None
    result = pull_image(
        args.image, platform=platform, progress=make_progress(args.quiet, "pulling"), jobs=args.jobs
    )
    print(f"{result.reference}: pulled from {result.source}"
          + (f" for {result.platform}" if result.platform else ""))
    print(f"Digest: {result.digest}")
    return 0


def _push(args: argparse.Namespace) -> int:
    from labcore.errors import UsageError
    from labcore.registry.progress import make_progress
    from labcore.registry.push import push_image
    from labcore.registry.upload import DEFAULT_CHUNK_SIZE, UploadMode

    if args.chunked is not None and args.chunked <= 0:
        raise UsageError(f"--chunked {args.chunked}: the chunk size must be positive",
                         hint="give a size in bytes, e.g. --chunked 8388608")
    mode: UploadMode = "chunked" if args.chunked else "monolithic" if args.monolithic else "stream"
    result = push_image(
        args.image,
        args.target,
        progress=make_progress(args.quiet, "pushing"),
        jobs=args.jobs,
        mode=mode,
        chunk_size=args.chunked or DEFAULT_CHUNK_SIZE,
        mount_from=args.mount_from,
    )
    print(f"{result.reference}: digest: {result.digest} "
          f"({result.uploaded} uploaded, {result.existed} already there, {result.mounted} mounted)")
    return 0


def _search(args: argparse.Namespace) -> int:
    from labcore.config import settings
    from labcore.registry.search import search_registry

    registry = args.registry or settings().registry
    hits = search_registry(args.term, registry, with_tags=not args.no_tags)
    print(f"# {registry}: repositories from /v2/_catalog (a Docker registry extension)")
    width = max((len(hit.repository) for hit in hits), default=10)
    for hit in hits:
        print(f"{hit.repository:<{width}}  {' '.join(hit.tags)}".rstrip())
    return 0


def _login(args: argparse.Namespace) -> int:
    from labcore.config import settings
    from labcore.errors import UsageError
    from labcore.registry.credentials import Credentials, save_credentials
    from labcore.registry.login import check_credentials

    registry = args.registry or settings().registry
    username = args.username or input("Username: ").strip()
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    if not username or not password:
        raise UsageError("login needs a user name and a password", hint="pass -u USER and type the password")
    credentials = Credentials(username, password)
    check_credentials(registry, credentials)
    path = save_credentials(registry, credentials)
    print(f"Login succeeded: {username}@{registry} (saved in {path})")
    return 0


def _logout(args: argparse.Namespace) -> int:
    from labcore.config import settings
    from labcore.registry.credentials import forget_credentials

    registry = args.registry or settings().registry
    if forget_credentials(registry):
        print(f"Removed the credentials for {registry}")
    else:
        print(f"No credentials were saved for {registry}")
    return 0
