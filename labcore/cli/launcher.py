"""The ``labcore`` command: hand the command line to a running command server, or run it here.

Starting Python and importing labcore costs far more than most commands do. When a command
server (``labcore server start``) is listening, this launcher only connects to it, passes its
argument vector, working directory, environment and its own standard input, output and error
(``SCM_RIGHTS``), forwards the signals it gets (Ctrl-C) to the worker the server forked for it,
and exits with the worker's exit status. This is how Mercurial's ``chg`` works, and why the
Docker CLI is fast: the work is done by a process that is already warm. Without a server (or
with ``LABCORE_NO_SERVER=1``, or when the server's code is older than the files on disk) the
command runs in this process as usual.

Only modules built into the interpreter are imported before the server answers, so that this
path costs little more than the interpreter's own start-up.
"""

from __future__ import annotations

import _socket
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["PROTOCOL", "decode_request", "encode_request", "main", "server_socket_path"]

#: the first field of every request; a server that speaks another version answers "stale"
PROTOCOL = b"labcore-cli-1"
#: names of the signals the launcher passes on to the worker that runs its command
FORWARDED_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGWINCH")
_DEFAULT_ROOT = "/var/lib/labcore"
_DEFAULT_RUN = "/run/labcore"


def server_socket_path(environ: dict[str, str] | os._Environ[str] = os.environ) -> str:
    """Where the command server listens: ``cli.sock`` in labcore's run directory.

    The same rule as :func:`labcore.config.settings`, repeated here so that finding the server
    needs no import (a unit test checks that the two agree).
    """
    run = environ.get("LABCORE_RUN")
    if not run:
        root = (environ.get("LABCORE_ROOT") or _DEFAULT_ROOT).rstrip("/") or "/"
        run = _DEFAULT_RUN if root == _DEFAULT_ROOT else root + ".run"
    return os.path.join(run, "cli.sock")


def encode_request(argv: Sequence[str], cwd: str, environ: dict[str, str], umask: int = 0o022) -> bytes:
    """One request: NUL-separated fields (protocol, cwd, umask, argument count, arguments, environment)."""
    fields = [PROTOCOL, os.fsencode(cwd), b"%o" % umask, str(len(argv)).encode(), *map(os.fsencode, argv)]
    fields += [os.fsencode(key) + b"=" + os.fsencode(value) for key, value in environ.items()]
    if any(b"\0" in field for field in fields):
        raise ValueError("arguments and environment cannot contain NUL bytes")
    body = b"\0".join(fields)
    return len(body).to_bytes(4, "big") + body


def decode_request(body: bytes) -> tuple[list[str], str, dict[str, str], int]:
    """The argument vector, working directory, environment and umask of a request body (after the length).

    ValueError for anything that is not a request of this protocol version.
    """
    fields = body.split(b"\0")
    if len(fields) < 4 or fields[0] != PROTOCOL:
        raise ValueError("not a labcore-cli-1 request")
    cwd = os.fsdecode(fields[1])
    umask = int(fields[2], 8)
    count = int(fields[3])
    if count < 0 or 4 + count > len(fields) or not 0 <= umask <= 0o777:
        raise ValueError("bad argument count or umask")
    argv = [os.fsdecode(field) for field in fields[4 : 4 + count]]
    environ = {}
    for field in fields[4 + count :]:
        key, sep, value = field.partition(b"=")
        if not sep or not key:
            raise ValueError("bad environment entry")
        environ[os.fsdecode(key)] = os.fsdecode(value)
    return argv, cwd, environ, umask


def _read_line(sock: _socket.socket, pending: bytearray) -> bytes | None:
    while b"\n" not in pending:
        chunk = sock.recv(4096)
        if not chunk:
            return None
        pending += chunk
    line, _, rest = bytes(pending).partition(b"\n")
    pending[:] = rest
    return line


def _through_server(argv: Sequence[str]) -> int | None:
    """Run ``argv`` in the command server; its exit status, or None if no (current) server answered."""
    if os.environ.get("LABCORE_NO_SERVER") or (argv and argv[0] == "server"):
        return None  # `labcore server stop` run by the server would stop its own parent
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        try:
            sock.connect(server_socket_path())
            umask = os.umask(0o022)
            os.umask(umask)
            request = encode_request(argv, os.getcwd(), dict(os.environ), umask)
            fds = b"".join(fd.to_bytes(4, sys.byteorder, signed=True) for fd in (0, 1, 2))  # a C int[3]
            sent = sock.sendmsg([request], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
            sock.sendall(request[sent:])  # the rest of a very large environment, if any
        except (OSError, ValueError):
            return None  # no server, or nothing it could take: run here
        pending = bytearray()
        first = _read_line(sock, pending)
        if first is None or not first.startswith(b"pid "):
            return None  # "stale": the server is reloading newer code; nothing was run
        worker = int(first[4:])
        import signal  # only now: while it loads, the worker is already running the command

        def forward(number: int, _frame: object) -> None:
            try:  # noqa: SIM105 - contextlib is not loaded on this path
                os.kill(worker, number)  # unreaped until the server reports its exit: never reused
            except OSError:
                pass

        for name in FORWARDED_SIGNALS:
            signal.signal(getattr(signal, name), forward)
        last = _read_line(sock, pending)
        if last is None or not last.startswith(b"exit "):
            sys.stderr.write(
                "labcore: the command server went away while it ran the command\n"
                "hint: see cli-server.log beside its socket; LABCORE_NO_SERVER=1 runs commands without it\n"
            )
            return 125
        return int(last[5:])
    finally:
        sock.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``labcore`` command."""
    args = list(sys.argv[1:] if argv is None else argv)
    status = _through_server(args)
    if status is not None:
        return status
    if sys.flags.no_site:  # started by the script of labcore.cli.launcher_script: load site now
        import site

        site.main()
    from labcore.cli.main import main as run_here

    return run_here(args)


if __name__ == "__main__":
    sys.exit(main())
