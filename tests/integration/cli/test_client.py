"""The command server's C client (labcore/cli/client.c) speaks the Python launcher's protocol."""

from __future__ import annotations

import array
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from labcore.cli import launcher_script
from labcore.cli.launcher import decode_request, server_socket_path

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler (gcc)")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("client") / "labcore"
    assert launcher_script.build_client(path, sys.executable) is True
    return path


class FakeServer:
    """Listens where the client should connect; answers one request with ``pid``/``exit`` lines."""

    def __init__(self, path: str, answer: bytes) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(1)
        self.answer = answer
        self.request: tuple[list[str], str, dict[str, str], int] | None = None
        self.fds_received = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection:
            data, ancillary, _, _ = connection.recvmsg(1 << 20, socket.CMSG_SPACE(3 * 4))
            for _, _, payload in ancillary:
                for fd in array.array("i", payload):  # the client's stdio: as a worker, let go when done
                    self.fds_received += 1
                    os.close(fd)
            while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "big"):
                data += connection.recv(1 << 20)
            self.request = decode_request(data[4:])
            connection.sendall(self.answer)
        self.listener.close()  # one request, as a server that reloads or dies

    def close(self) -> None:
        self.thread.join(timeout=10)


@pytest.fixture
def environ(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LABCORE_")}
    env["LABCORE_ROOT"] = str(tmp_path / "root")
    yield env


@pytest.mark.parametrize("where", ["root", "run"])
def test_the_client_sends_argv_cwd_umask_environment_and_stdio_and_exits_with_the_answer(
    client: Path, environ: dict[str, str], tmp_path: Path, where: str
) -> None:
    if where == "run":
        environ["LABCORE_RUN"] = str(tmp_path / "elsewhere")
    path = server_socket_path(environ)  # the Python rule; the client must find the same socket
    server = FakeServer(path, b"pid 4242\nexit 42\n")
    environ["WITH_EQUALS"] = "a=b"
    try:
        done = subprocess.run(
            [str(client), "run", "--rm", "busybox", "echo", "ü b"],
            cwd=tmp_path, env=environ, capture_output=True, timeout=30,
            preexec_fn=lambda: os.umask(0o027),
        )  # fmt: skip
    finally:
        server.close()
    assert done.returncode == 42, done.stderr
    assert server.request is not None
    argv, cwd, sent_environ, umask = server.request
    assert argv == ["run", "--rm", "busybox", "echo", "ü b"]
    assert (cwd, umask) == (str(tmp_path), 0o027)
    assert sent_environ == environ
    assert server.fds_received == 3


def test_a_server_that_goes_away_is_reported(client: Path, environ: dict[str, str]) -> None:
    server = FakeServer(server_socket_path(environ), b"pid 4242\n")
    try:
        done = subprocess.run([str(client), "ps"], env=environ, capture_output=True, text=True, timeout=30)
    finally:
        server.close()
    assert done.returncode == 125
    assert "went away" in done.stderr and "LABCORE_NO_SERVER=1" in done.stderr


@pytest.mark.parametrize("situation", ["no server", "stale", "LABCORE_NO_SERVER", "server command"])
def test_without_a_server_the_python_launcher_runs_the_command(
    client: Path, environ: dict[str, str], situation: str
) -> None:
    server = None
    args = ["--help"]
    if situation == "stale":
        server = FakeServer(server_socket_path(environ), b"stale\n")
    elif situation == "LABCORE_NO_SERVER":
        environ["LABCORE_NO_SERVER"] = "1"
    elif situation == "server command":
        args = ["server", "status"]
    try:
        done = subprocess.run([str(client), *args], env=environ, capture_output=True, text=True, timeout=60)
    finally:
        if server is not None:
            server.close()
    if situation == "server command":
        assert done.returncode == 3 and "not running" in done.stdout, done.stderr  # answered in Python
    else:
        assert done.returncode == 0, done.stderr
        assert "usage: labcore" in done.stdout


def test_install_falls_back_to_the_script_without_a_compiler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    (tmp_path / "bin").mkdir()
    target = tmp_path / "bin" / "labcore"
    assert launcher_script.install_launcher(target, sys.executable) == "script"
    assert target.read_text().startswith(f"#!{sys.executable} -S\n")


def test_install_falls_back_to_the_script_when_the_compiler_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: "/bin/false")
    (tmp_path / "bin").mkdir()
    target = tmp_path / "bin" / "labcore"
    assert launcher_script.install_launcher(target, sys.executable) == "script"
    assert "could not compile client.c" in capsys.readouterr().err
    assert not list((tmp_path / "bin").glob(".*.tmp"))


def test_install_compiles_the_client(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    target = tmp_path / "bin" / "labcore"
    assert launcher_script.install_launcher(target, sys.executable) == "client"
    assert target.read_bytes()[:4] == b"\x7fELF"
