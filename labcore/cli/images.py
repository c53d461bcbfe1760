"""Image commands: ``images``, ``inspect``, ``history``, ``tag``, ``rmi``, ``import`` and ``system``.

``system prune`` and ``system df`` also cover what other packages keep (containers, volumes...):
a package ``labcore.<name>`` that wants to take part provides a module ``gc_contrib`` with a
function ``gc_contribution() -> labcore.image.gc.GcContribution``; it is found by listing the
packages, so the image layer never imports a higher layer.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from typing import TYPE_CHECKING, Any

from labcore.errors import NotFoundError

if TYPE_CHECKING:
    from labcore.image.gc import GcContribution
    from labcore.image.store import Store

__all__ = ["register"]

ORDER = 20


def _store() -> Store:
    from labcore.image.store import Store

    return Store()


def _contributions() -> list[GcContribution]:
    import labcore

    found = []
    for package in pkgutil.iter_modules(labcore.__path__):
        if not package.ispkg:
            continue
        try:
            module = importlib.import_module(f"labcore.{package.name}.gc_contrib")
        except ModuleNotFoundError as error:
            if error.name != f"labcore.{package.name}.gc_contrib":
                raise
            continue
        found.append(module.gc_contribution())
    return found


def _print_table(rows: list[list[str]]) -> None:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _images(args: argparse.Namespace) -> int:
    from labcore.image.display import human_age, human_size, parse_created

    header = ["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"]
    rows = [header if args.digests else [column for column in header if column != "DIGEST"]]
    for image in _store().images():
        name = image.name
        repository = name.familiar_name if name is not None else "<none>"
        tag = name.tag if name is not None and name.tag is not None else "<none>"
        image_id = str(image.id) if args.no_trunc else image.id.short
        created = human_age(parse_created(image.config.created))
        digest = [str(image.digest)] if args.digests else []
        rows.append([repository, tag, *digest, image_id, created, human_size(image.size)])
    if args.quiet:
        for row in rows[1:]:
            print(row[rows[0].index("IMAGE ID")])
    else:
        _print_table(rows)
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from labcore.image.display import inspect_document

    store = _store()
    documents = []
    all_images = store.images()
    for text in args.images:
        try:
            image = store.resolve(text)
        except NotFoundError as missing:
            documents.append(_inspect_container(text, missing))
            continue
        same = [other for other in all_images if other.id == image.id and other.name is not None]
        names = [other.name.familiar for other in same if other.name and other.name.tag]
        digests = sorted({f"{other.name.familiar_name}@{other.digest}" for other in same if other.name})
        documents.append(inspect_document(image, names, digests))
    json.dump(documents, sys.stdout, indent=4)
    print()
    return 0


def _inspect_container(text: str, missing: NotFoundError) -> dict[str, Any]:
    """``docker inspect`` falls back to containers when no image has the name; so does labcore."""
    from labcore.container.errors import ContainerNotFoundError
    from labcore.container.inspection import inspect

    try:
        return inspect(text)
    except ContainerNotFoundError:
        raise NotFoundError(f"{missing.message}, and no container has that name",
                            hint="list them with `labcore images` and `labcore ps -a`") from missing


def _history(args: argparse.Namespace) -> int:
    from labcore.image.display import human_age, human_size, parse_created

    image = _store().resolve(args.image)
    layers = iter(image.layers)
    lines = []
    for entry in image.config.history:
        layer = None if entry.empty_layer else next(layers, None)
        size = human_size(layer.size) if layer is not None else "0B"
        created_by = (
            entry.created_by if args.no_trunc or len(entry.created_by) <= 45 else entry.created_by[:44] + "…"
        )
        lines.append(["<missing>", human_age(parse_created(entry.created)), created_by, size, entry.comment])
    lines.reverse()
    if lines:
        lines[0][0] = str(image.id) if args.no_trunc else image.id.short
    _print_table([["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], *lines])
    return 0


def _tag(args: argparse.Namespace) -> int:
    _store().tag(args.source, args.target)
    return 0


def _rmi(args: argparse.Namespace) -> int:
    store = _store()
    for text in args.images:
        from labcore.image.reference import parse_reference

        for removed in store.remove_image(text, force=args.force):
            print(f"Untagged: {parse_reference(removed).familiar if '/' in removed else removed}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from labcore.image.importer import import_rootfs

    image = import_rootfs(args.source, args.name, changes=args.change or [], message=args.message or "")
    print(image.id)
    return 0


def _system_prune(args: argparse.Namespace) -> int:
    from labcore.image.display import human_size
    from labcore.image.gc import system_prune

    total = 0
    for result in system_prune(_contributions()):
        for removed in result.removed:
            print(f"Deleted {result.kind}: {removed}")
        total += result.freed
    print(f"Total reclaimed space: {human_size(total)}")
    return 0


def _system_df(args: argparse.Namespace) -> int:
    from labcore.image.display import human_size
    from labcore.image.gc import disk_usage

    rows = [["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]]
    for row in disk_usage(_contributions()):
        percent = f" ({100 * row.reclaimable // row.size}%)" if row.size else ""
        rows.append(
            [
                row.kind,
                str(row.total),
                str(row.active),
                human_size(row.size),
                human_size(row.reclaimable) + percent,
            ]
        )
    _print_table(rows)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the image commands and ``system prune`` / ``system df``."""
    parser = subparsers.add_parser("images", help="list images")
    parser.add_argument("-q", "--quiet", action="store_true", help="only show image ids")
    parser.add_argument("--no-trunc", action="store_true", help="show full image ids")
    parser.add_argument("--digests", action="store_true", help="show manifest digests")
    parser.set_defaults(handler=_images)

    parser = subparsers.add_parser("inspect", help="show an image (or else a container) as JSON")
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.set_defaults(handler=_inspect)

    parser = subparsers.add_parser("history", help="show how an image was made, one line per step")
    parser.add_argument("image", metavar="IMAGE")
    parser.add_argument("--no-trunc", action="store_true", help="do not shorten the output")
    parser.set_defaults(handler=_history)

    parser = subparsers.add_parser("tag", help="give an image another name")
    parser.add_argument("source", metavar="SOURCE_IMAGE")
    parser.add_argument("target", metavar="TARGET_IMAGE[:TAG]")
    parser.set_defaults(handler=_tag)

    parser = subparsers.add_parser("rmi", help="remove image names (blobs stay until `system prune`)")
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("-f", "--force", action="store_true", help="remove every name of an image id")
    parser.set_defaults(handler=_rmi)

    parser = subparsers.add_parser("import", help="make a one-layer image from a rootfs directory or tarball")
    parser.add_argument("source", metavar="FILE|DIR", help="a directory, a tar file (maybe compressed) or -")
    parser.add_argument("name", nargs="?", metavar="NAME[:TAG]")
    parser.add_argument(
        "-c",
        "--change",
        action="append",
        metavar="INSTRUCTION",
        help="apply a Dockerfile instruction (CMD, ENV, WORKDIR...) to the config",
    )
    parser.add_argument("-m", "--message", help="set the history comment")
    parser.set_defaults(handler=_import)

    system = subparsers.add_parser("system", help="disk usage and clean-up of everything labcore keeps")
    actions = system.add_subparsers(dest="system_command", metavar="COMMAND", required=True)
    parser = actions.add_parser("prune", help="remove unused data: blobs and snapshots no image uses")
    parser.add_argument("-f", "--force", action="store_true", help="do not ask (labcore never asks)")
    parser.set_defaults(handler=_system_prune)
    parser = actions.add_parser("df", help="show disk usage")
    parser.set_defaults(handler=_system_df)
