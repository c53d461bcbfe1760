"""Helpers for tests that drive peer tools and the repository's own scripts."""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def require_tool(name: str) -> str:
    """Path of tool ``name``; skip when missing, but fail under ``./lab test``, which installs it."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed (./lab test installs it)"
    if os.environ.get("LABCORE_LAB_TEST") == "1":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening_addresses(port: int) -> set[str]:
    """The local IPv4/IPv6 addresses with a socket listening on ``port`` (from /proc/net/tcp*)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        with open(table) as file:
            next(file)
            for line in file:
                local, state = line.split()[1], line.split()[3]
                address, port_hex = local.split(":")
                if state == "0A" and int(port_hex, 16) == port:
                    raw = bytes.fromhex(address)
                    if width == 8:
                        found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                    else:
                        words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                        found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found


def run_on_terminal(argv: list[str], keys: bytes = b"") -> tuple[int, bytes]:
    """Run the labcore CLI with a new pty as its terminal; return (exit code, everything it printed)."""
    master, slave = os.openpty()
    try:
        process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=os.environ, start_new_session=True
        )
    finally:
        os.close(slave)
    output = b""
    try:
        if keys:
            os.write(master, keys)
        while True:
            ready, _, _ = select.select([master], [], [], 30)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the last holder of the terminal closed it
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(master)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
    return code, output
