"""Container commands, with Docker's names and flags.

``run create start exec stop kill rm ps logs wait diff stats commit bundle`` and ``container inspect``
(``labcore inspect`` shows images; ``labcore container inspect`` shows containers).
Errors of labcore itself exit with 125 as in Docker; a command that cannot be run gives 126, one
that is not found 127, otherwise the container's own exit code is returned.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from labcore.errors import LabcoreError

__all__ = ["register"]

ORDER = 30
_DOCKER_ERROR = 125


@contextlib.contextmanager
def _docker_exit_codes() -> Iterator[None]:
    """Give labcore errors Docker's exit status 125 unless they carry their own."""
    try:
        yield
    except LabcoreError as error:
        if not hasattr(error, "exit_code"):
            error.exit_code = _DOCKER_ERROR  # type: ignore[attr-defined]
        raise


def _add_container_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--help", action="help", help="show this help message and exit")
    parser.add_argument("--name", help="assign a name to the container")
    parser.add_argument("--rm", action="store_true", help="remove the container when it exits")
    parser.add_argument("-e", "--env", action="append", default=[], metavar="KEY[=VALUE]", help="set a variable")
    parser.add_argument("-w", "--workdir", help="working directory inside the container")
    parser.add_argument("-u", "--user", help="UID[:GID] or NAME[:GROUP] to run as")
    parser.add_argument("-h", "--hostname", help="the container's host name")
    parser.add_argument("--entrypoint", help="override the image's ENTRYPOINT ('' clears it)")
    parser.add_argument("-m", "--memory", help="memory limit, e.g. 64m (units b, k, m, g)")
    parser.add_argument("--pids-limit", help="maximum number of processes (-1: unlimited)")
    parser.add_argument("--cpus", help="number of CPUs, e.g. 0.5")
    parser.add_argument("--network", default="none", help="none (default), host, bridge or a network name")
    parser.add_argument(
        "-p",
        "--publish",
        action="append",
        default=[],
        metavar="[IP:]HPORT:CPORT",
        help="publish a container port on the host",
    )
    parser.add_argument(
        "-P", "--publish-all", action="store_true", help="publish every port the image EXPOSEs on a free host port"
    )
    parser.add_argument("-v", "--volume", action="append", default=[], metavar="SRC:DST[:ro]", help="bind or volume")
    parser.add_argument("--mount", action="append", default=[], metavar="type=..,target=..", help="attach a mount")
    parser.add_argument("--tmpfs", action="append", default=[], metavar="PATH[:size=..,mode=..]", help="a tmpfs")
    parser.add_argument("-t", "--tty", action="store_true", help="allocate a pseudo-terminal")
    parser.add_argument("-i", "--interactive", action="store_true", help="keep stdin open")
    parser.add_argument("--privileged", action="store_true", help="all capabilities, no masked paths")
    parser.add_argument("-l", "--label", action="append", default=[], metavar="KEY=VALUE", help="set a label")
    parser.add_argument("image", metavar="IMAGE")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND [ARG...]")


def _create_options(args: argparse.Namespace) -> dict[str, Any]:
    labels = {}
    for item in args.label:
        key, _, value = item.partition("=")
        labels[key] = value
    return {
        "name": args.name,
        "remove": args.rm,
        "env": args.env,
        "workdir": args.workdir,
        "user": args.user,
        "hostname": args.hostname,
        "entrypoint": args.entrypoint,
        "memory": args.memory,
        "pids_limit": args.pids_limit,
        "cpus": args.cpus,
        "network": args.network,
        "publish": args.publish,
        "publish_all": args.publish_all,
        "volumes": args.volume,
        "mounts": args.mount,
        "tmpfs": args.tmpfs,
        "tty": args.tty,
        "interactive": args.interactive,
        "privileged": args.privileged,
        "labels": labels,
    }


@contextlib.contextmanager
def _raw_terminal(enabled: bool) -> Iterator[None]:
    """Put our terminal in raw mode while a -t container is attached, so keys go to it unchanged."""
    if not enabled or not os.isatty(0):
        yield
        return
    import termios
    import tty

    saved = termios.tcgetattr(0)
    tty.setraw(0, termios.TCSANOW)  # not the default TCSAFLUSH: keys typed ahead must reach the container
    try:
        yield
    finally:
        termios.tcsetattr(0, termios.TCSADRAIN, saved)


def _attach_and_wait(container: Any, *, tty: bool, interactive: bool) -> int:
    """Start ``container`` in the foreground relaying our stdio, and return its exit code."""
    from labcore.container.lifecycle import start_attached

    sys.stdout.flush()
    sys.stderr.flush()
    with _raw_terminal(tty and interactive):
        result = start_attached(container, attach=(0 if interactive else None, 1, 2))
    return result.exit_code


def _run(args: argparse.Namespace) -> int:
    from labcore.container.lifecycle import create, start

    with _docker_exit_codes():
        container = create(args.image, args.command or None, **_create_options(args))
        if args.detach:
            start(container)
            print(container.id)
            return 0
        return _attach_and_wait(container, tty=args.tty, interactive=args.interactive)


def _create(args: argparse.Namespace) -> int:
    from labcore.container.lifecycle import create

    with _docker_exit_codes():
        print(create(args.image, args.command or None, **_create_options(args)).id)
    return 0


def _start(args: argparse.Namespace) -> int:
    from labcore.container.lifecycle import start
    from labcore.container.lookup import resolve

    if args.attach:
        if len(args.containers) != 1:
            raise_usage("start -a takes exactly one container")
        record = resolve(args.containers[0])
        return _attach_and_wait(record.id, tty=record.tty, interactive=args.interactive)
    for name in args.containers:
        start(name)
        print(name)
    return 0


def raise_usage(message: str) -> None:
    """Raise a UsageError (for flag combinations argparse cannot express)."""
    from labcore.errors import UsageError

    raise UsageError(message, hint="see `labcore COMMAND --help`")


def _exec(args: argparse.Namespace) -> int:
    from labcore.container.execute import exec_command

    sys.stdout.flush()
    with _docker_exit_codes(), _raw_terminal(args.tty and args.interactive):
        result = exec_command(
            args.container,
            args.command,
            env=args.env,
            workdir=args.workdir,
            user=args.user,
            tty=args.tty,
            interactive=args.interactive,
            privileged=args.privileged,
            stdio=(0, 1, 2),
        )
    return result.exit_code


def _stop(args: argparse.Namespace) -> int:
    from labcore.container.lifecycle import stop

    for name in args.containers:
        stop(name, timeout=args.time)
        print(name)
    return 0


def _kill(args: argparse.Namespace) -> int:
    from labcore.container.lifecycle import kill

    for name in args.containers:
        kill(name, args.signal)
        print(name)
    return 0


def _rm(args: argparse.Namespace) -> int:
    from labcore.container.lifecycle import remove

    for name in args.containers:
        remove(name, force=args.force)
        print(name)
    return 0


def _parse_time(text: str | None) -> _dt.datetime | None:
    if not text or text.startswith("0001-"):
        return None
    return _dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=_dt.UTC)


def _ago(moment: _dt.datetime | None) -> str:
    if moment is None:
        return ""
    seconds = int((_dt.datetime.now(_dt.UTC) - moment).total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count > 1 else ''}"
    return "Less than a second" if seconds < 1 else f"{seconds} second{'s' if seconds > 1 else ''}"


def _status_text(info: dict[str, Any]) -> str:
    state = info["State"]
    if state["Status"] == "running":
        return f"Up {_ago(_parse_time(state['StartedAt']))}"
    if state["Status"] == "created":
        return "Created"
    finished = _parse_time(state["FinishedAt"])
    return f"Exited ({state['ExitCode']}) {_ago(finished)} ago" if finished else f"Exited ({state['ExitCode']})"


def _print_table(rows: list[list[str]]) -> None:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _ps(args: argparse.Namespace) -> int:
    from labcore.container.inspection import inspect
    from labcore.container.lifecycle import list_containers

    containers = list_containers(all=args.all)
    if args.quiet:
        for container in containers:
            print(container.id if args.no_trunc else container.short_id)
        return 0
    rows = [["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES"]]
    for container in containers:
        with contextlib.suppress(LabcoreError, FileNotFoundError):
            info = inspect(container.id)
            command = " ".join([info["Path"], *info["Args"]])
            if not args.no_trunc and len(command) > 20:
                command = command[:19] + "…"
            rows.append(
                [
                    container.id if args.no_trunc else container.short_id,
                    info["Config"]["Image"],
                    f'"{command}"',
                    f"{_ago(_parse_time(info['Created']))} ago",
                    _status_text(info),
                    container.name,
                ]
            )
    _print_table(rows)
    return 0


def _logs(args: argparse.Namespace) -> int:
    from labcore.container import logs

    for entry in logs(args.container, follow=args.follow):
        stream = sys.stderr if entry.stream == "stderr" else sys.stdout
        stream.write(f"{entry.time} {entry.text}" if args.timestamps else entry.text)
        stream.flush()
    return 0


def _wait(args: argparse.Namespace) -> int:
    from labcore.container.lifecycle import wait

    for name in args.containers:
        print(wait(name))
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from labcore.container.inspection import inspect

    print(json.dumps([inspect(name) for name in args.containers], indent=4))
    return 0


def _diff(args: argparse.Namespace) -> int:
    from labcore.container.changes import diff

    for kind, path in diff(args.container):
        print(f"{kind} {path}")
    return 0


def _human(size: int | None) -> str:
    if size is None:
        return "unlimited"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.1f}{unit}" if unit != "B" else f"{int(value)}B"
        value /= 1024
    return f"{value:.1f}GiB"


def _stats(args: argparse.Namespace) -> int:
    from labcore.container.inspection import stats
    from labcore.container.lifecycle import list_containers

    names = args.containers or [container.id for container in list_containers()]
    while True:
        first = {name: stats(name) for name in names}
        time.sleep(0.5)
        rows = [["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "PIDS"]]
        for name in names:
            with contextlib.suppress(LabcoreError):
                sample = stats(name)
                rows.append(
                    [
                        sample.id[:12],
                        sample.name,
                        f"{sample.cpu_percent(first[name]):.2f}%",
                        f"{_human(sample.memory_bytes)} / {_human(sample.memory_limit)}",
                        str(sample.pids),
                    ]
                )
        _print_table(rows)
        if args.no_stream:
            return 0
        sys.stdout.flush()


def _commit(args: argparse.Namespace) -> int:
    from labcore.container.commit import commit

    changes, message = args.change, args.message
    image = commit(args.container, args.reference, changes=changes, message=message, author=args.author)
    print(image.id)
    return 0


def _bundle(args: argparse.Namespace) -> int:
    from labcore.container.bundle import write_bundle

    bundle = write_bundle(args.image, args.directory, args.command or None, env=args.env, user=args.user)
    print(bundle)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the container commands."""
    parser = subparsers.add_parser("run", help="create and start a container", add_help=False)
    parser.add_argument("-d", "--detach", action="store_true", help="run in the background, print the id")
    _add_container_options(parser)
    parser.set_defaults(handler=_run)

    parser = subparsers.add_parser("create", help="create a container without starting it", add_help=False)
    _add_container_options(parser)
    parser.set_defaults(handler=_create)

    parser = subparsers.add_parser("start", help="start created or stopped containers")
    parser.add_argument("-a", "--attach", action="store_true", help="attach output and wait for the exit")
    parser.add_argument("-i", "--interactive", action="store_true", help="attach stdin")
    parser.add_argument("containers", nargs="+", metavar="CONTAINER")
    parser.set_defaults(handler=_start)

    parser = subparsers.add_parser("exec", help="run a command in a running container")
    parser.add_argument("-i", "--interactive", action="store_true", help="keep stdin open")
    parser.add_argument("-t", "--tty", action="store_true", help="allocate a pseudo-terminal")
    parser.add_argument("-e", "--env", action="append", default=[], metavar="KEY[=VALUE]", help="set a variable")
    parser.add_argument("-u", "--user", help="UID[:GID] or NAME[:GROUP] to run as")
    parser.add_argument("-w", "--workdir", help="working directory inside the container")
    parser.add_argument("--privileged", action="store_true", help="all capabilities")
    parser.add_argument("container", metavar="CONTAINER")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND [ARG...]")
    parser.set_defaults(handler=_exec)

    parser = subparsers.add_parser("stop", help="stop containers (StopSignal, then SIGKILL)")
    parser.add_argument("-t", "--time", type=float, default=10, help="seconds to wait before SIGKILL")
    parser.add_argument("containers", nargs="+", metavar="CONTAINER")
    parser.set_defaults(handler=_stop)

    parser = subparsers.add_parser("kill", help="send a signal to containers (default KILL)")
    parser.add_argument("-s", "--signal", default="KILL", help="signal name or number")
    parser.add_argument("containers", nargs="+", metavar="CONTAINER")
    parser.set_defaults(handler=_kill)

    parser = subparsers.add_parser("rm", help="remove containers")
    parser.add_argument("-f", "--force", action="store_true", help="kill a running container first")
    parser.add_argument("containers", nargs="+", metavar="CONTAINER")
    parser.set_defaults(handler=_rm)

    parser = subparsers.add_parser("ps", help="list containers")
    parser.add_argument("-a", "--all", action="store_true", help="show stopped containers too")
    parser.add_argument("-q", "--quiet", action="store_true", help="only ids")
    parser.add_argument("--no-trunc", action="store_true", help="do not shorten ids and commands")
    parser.set_defaults(handler=_ps)

    parser = subparsers.add_parser("logs", help="show a container's output")
    parser.add_argument("-f", "--follow", action="store_true", help="keep following while it runs")
    parser.add_argument("-t", "--timestamps", action="store_true", help="prefix each line with its time")
    parser.add_argument("container", metavar="CONTAINER")
    parser.set_defaults(handler=_logs)

    parser = subparsers.add_parser("wait", help="wait for containers to stop, print their exit codes")
    parser.add_argument("containers", nargs="+", metavar="CONTAINER")
    parser.set_defaults(handler=_wait)

    parser = subparsers.add_parser("diff", help="files a container added (A), changed (C) or deleted (D)")
    parser.add_argument("container", metavar="CONTAINER")
    parser.set_defaults(handler=_diff)

    parser = subparsers.add_parser("stats", help="memory, CPU and process use of running containers")
    parser.add_argument("--no-stream", action="store_true", help="print one sample and exit")
    parser.add_argument("containers", nargs="*", metavar="CONTAINER")
    parser.set_defaults(handler=_stats)

    parser = subparsers.add_parser("commit", help="make an image from a container's changes")
    parser.add_argument("-c", "--change", action="append", default=[], metavar="INSTRUCTION",
                        help="apply a Dockerfile instruction: CMD, ENV, WORKDIR, EXPOSE...")  # fmt: skip
    parser.add_argument("-m", "--message", default="", help="commit message (the history comment)")
    parser.add_argument("-a", "--author", default="", help="author of the new image")
    parser.add_argument("container", metavar="CONTAINER")
    parser.add_argument("reference", nargs="?", metavar="NAME[:TAG]")
    parser.set_defaults(handler=_commit)

    parser = subparsers.add_parser("bundle", help="write an OCI runtime bundle (config.json + rootfs/)")
    parser.add_argument("-e", "--env", action="append", default=[], metavar="KEY[=VALUE]", help="add to Env")
    parser.add_argument("-u", "--user", help="UID[:GID] or NAME[:GROUP] to run as")
    parser.add_argument("image", metavar="IMAGE")
    parser.add_argument("directory", metavar="DIR")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND [ARG...]")
    parser.set_defaults(handler=_bundle)

    group = subparsers.add_parser("container", help="container commands that share names with image ones")
    actions = group.add_subparsers(dest="container_command", metavar="COMMAND", required=True)
    parser = actions.add_parser("inspect", help="show containers as Docker-like JSON")
    parser.add_argument("containers", nargs="+", metavar="CONTAINER")
    parser.set_defaults(handler=_inspect)
