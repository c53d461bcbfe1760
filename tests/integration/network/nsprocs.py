"""Run small Python socket programs inside network namespaces, as child processes.

Each child joins the namespace with ``setns`` before it does anything; a client child can also
bind-mount a generated hosts file over ``/etc/hosts`` in a private mount namespace, so that
``getaddrinfo`` resolves names exactly as a container that bind-mounts it would.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PRELUDE = """
import os, socket, sys
from labcore.linux.namespaces import Namespace, setns, unshare
from labcore.linux.mount import MountFlag, mount
fd = os.open(NETNS, os.O_RDONLY)
setns(fd, Namespace.NET)
os.close(fd)
if HOSTS:
    unshare(Namespace.MNT)
    mount(None, "/", None, MountFlag.REC | MountFlag.PRIVATE)
    mount(HOSTS, "/etc/hosts", None, MountFlag.BIND)
"""

SERVER = """
proto = socket.SOCK_DGRAM if PROTO == "udp" else socket.SOCK_STREAM
server = socket.socket(socket.AF_INET, proto)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", PORT))
if proto == socket.SOCK_STREAM:
    server.listen(64)
print("ready", flush=True)
while True:
    if proto == socket.SOCK_DGRAM:
        data, peer = server.recvfrom(1024)
        server.sendto(REPLY + b":" + data, peer)
        continue
    conn, peer = server.accept()
    with conn:
        data = conn.recv(1024)
        conn.sendall(REPLY + b":" + data + b":" + peer[0].encode())
"""

CLIENT = """
try:
    address = socket.gethostbyname(TARGET)
    with socket.create_connection((address, PORT), timeout=5) as conn:
        conn.sendall(b"hello")
        print(conn.recv(1024).decode(), flush=True)
except OSError as error:
    print(f"error {error.errno} {error}", flush=True)
    sys.exit(3)
"""


def _program(body: str, **values: object) -> str:
    header = "".join(f"{key} = {value!r}\n" for key, value in values.items())
    return header + PRELUDE + body


@contextmanager
def server_in(netns: str, port: int, reply: bytes, proto: str = "tcp") -> Iterator[subprocess.Popen[str]]:
    """A server answering ``reply:<data>:<peer ip>`` on ``port`` inside ``netns``, killed on exit."""
    code = _program(SERVER, NETNS=netns, HOSTS="", PORT=port, REPLY=reply, PROTO=proto)
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        yield process
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def client_in(netns: str, target: str, port: int, hosts: Path | None = None) -> tuple[int, str]:
    """Connect from inside ``netns`` to ``target:port`` (a name resolved via ``hosts``); (status, output)."""
    code = _program(CLIENT, NETNS=netns, HOSTS=str(hosts or ""), TARGET=target, PORT=port)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return result.returncode, (result.stdout + result.stderr).strip()
