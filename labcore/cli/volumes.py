"""``labcore volume create|ls|inspect|rm|prune``: named volumes, as Docker has them."""

from __future__ import annotations

import argparse
import json

__all__ = ["register"]

ORDER = 35


def _create(args: argparse.Namespace) -> int:
    from labcore.runtime.volumes import create_volume

    labels = dict(item.partition("=")[::2] for item in args.label)
    print(create_volume(args.name, labels=labels).name)
    return 0


def _ls(args: argparse.Namespace) -> int:
    from labcore.runtime.volumes import list_volumes

    found = list_volumes()
    if args.quiet:
        for volume in found:
            print(volume.name)
        return 0
    print("DRIVER    VOLUME NAME")
    for volume in found:
        print(f"local     {volume.name}")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from labcore.runtime.volumes import get_volume

    print(json.dumps([get_volume(name).inspect() for name in args.names], indent=4))
    return 0


def _rm(args: argparse.Namespace) -> int:
    from labcore.runtime.volumes import remove_volume

    for name in args.names:
        remove_volume(name, force=args.force)
        print(name)
    return 0


def _prune(args: argparse.Namespace) -> int:
    from labcore.container import reaper
    from labcore.runtime.volumes import prune_volumes

    reaper.reap()
    removed = prune_volumes(all_volumes=args.all)
    if removed:
        print("Deleted Volumes:")
        for name in removed:
            print(name)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``volume`` and its subcommands."""
    group = subparsers.add_parser("volume", help="manage named volumes")
    actions = group.add_subparsers(dest="volume_command", metavar="COMMAND", required=True)
    parser = actions.add_parser("create", help="create a volume (a random name if none is given)")
    parser.add_argument("name", nargs="?", metavar="NAME")
    parser.add_argument("-l", "--label", action="append", default=[], metavar="KEY=VALUE", help="set a label")
    parser.set_defaults(handler=_create)
    parser = actions.add_parser("ls", help="list volumes")
    parser.add_argument("-q", "--quiet", action="store_true", help="only names")
    parser.set_defaults(handler=_ls)
    parser = actions.add_parser("inspect", help="show volumes as JSON")
    parser.add_argument("names", nargs="+", metavar="VOLUME")
    parser.set_defaults(handler=_inspect)
    parser = actions.add_parser("rm", help="remove volumes (refused while a container uses one)")
    parser.add_argument("-f", "--force", action="store_true", help="remove even if in use")
    parser.add_argument("names", nargs="+", metavar="VOLUME")
    parser.set_defaults(handler=_rm)
    parser = actions.add_parser("prune", help="remove unused anonymous volumes (-a: all unused)")
    parser.add_argument("-a", "--all", action="store_true", help="also unused named volumes")
    parser.add_argument("-f", "--force", action="store_true", help="do not ask (labcore never asks)")
    parser.set_defaults(handler=_prune)
