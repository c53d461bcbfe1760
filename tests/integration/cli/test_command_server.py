"""The command server: ``labcore`` commands handed to a warm process, with the client's stdio, cwd,
environment and umask, Ctrl-C forwarded, and the command run in-process when no server listens."""

import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import labcore.container as containers
from labcore.cli import launcher_script
from labcore.cli.launcher import server_socket_path
from labcore.cli.server import running_server
from tests.tools import run_on_terminal

pytestmark = [pytest.mark.root, pytest.mark.integration]

LAUNCHER = [sys.executable, "-m", "labcore.cli.launcher"]


@pytest.fixture(scope="module")
def compiled_client(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """The C client (labcore/cli/client.c), when this host has a C compiler."""
    path = tmp_path_factory.mktemp("client") / "labcore"
    return path if launcher_script.build_client(path, sys.executable) else None


@pytest.fixture(autouse=True, params=["python", "c-client"])
def launcher(request: pytest.FixtureRequest, compiled_client: Path | None, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test once with the Python launcher and once with the C client."""
    if request.param == "c-client":
        if compiled_client is None:
            pytest.skip("needs a C compiler (gcc) for the C client")
        monkeypatch.setattr(sys.modules[__name__], "LAUNCHER", [str(compiled_client)])
    return str(request.param)


def _labcore(*args: str, **options: object) -> subprocess.CompletedProcess[str]:
    options.setdefault("env", dict(os.environ))
    return subprocess.run([*LAUNCHER, *args], capture_output=True, text=True, timeout=120, **options)  # type: ignore[call-overload,no-any-return]


@pytest.fixture
def command_server() -> Iterator[int]:
    started = _labcore("server", "start")
    assert started.returncode == 0, started.stderr
    pid = running_server()
    assert pid is not None
    try:
        yield pid
    finally:
        stopped = _labcore("server", "stop")
        assert stopped.returncode == 0, stopped.stderr
        assert running_server() is None and not Path(server_socket_path()).exists()
        log = Path(server_socket_path()).with_name("cli-server.log").read_text()
        assert "Traceback" not in log, log


def test_status_says_whether_it_runs(command_server: int) -> None:
    status = _labcore("server", "status")
    assert status.returncode == 0 and f"pid {command_server}" in status.stdout
    again = _labcore("server", "start")
    assert again.returncode == 0 and "already running" in again.stdout


def test_status_exits_3_without_a_server() -> None:
    status = _labcore("server", "status")
    assert status.returncode == 3 and "not running" in status.stdout


def test_a_command_runs_in_a_worker_of_the_server(command_server: int, busybox: str) -> None:
    run = subprocess.Popen([*LAUNCHER, "run", "--name", "served", busybox, "sh", "-c", "echo ready; sleep 30"],
                           stdout=subprocess.PIPE, text=True, env=os.environ)  # fmt: skip
    try:
        assert run.stdout is not None and run.stdout.readline() == "ready\n"
        state = containers.Container(containers.inspect("served")["Id"], "served").state
        assert state is not None and state.foreground
        # the attached run is supervised by a worker that the server forked
        with open(f"/proc/{state.supervisor_pid}/stat", encoding="utf-8") as file:
            parent = int(file.read().rsplit(")", 1)[1].split()[1])
        assert parent == command_server
    finally:
        containers.stop("served", timeout=0)
        run.communicate(timeout=60)
    assert run.returncode == 137
    containers.remove("served")


def test_output_error_and_exit_status_come_back(command_server: int, busybox: str) -> None:
    result = _labcore("run", "--rm", busybox, "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")
    bad = _labcore("no-such-command")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_stdin_environment_cwd_and_umask_are_the_clients(command_server: int, busybox: str, tmp_path: Path) -> None:
    piped = _labcore("run", "-i", "--rm", busybox, "cat", input="hello\n")
    assert (piped.returncode, piped.stdout) == (0, "hello\n")
    environment = dict(os.environ, GREETING="from the client")
    echoed = _labcore("run", "--rm", "-e", "GREETING", busybox, "sh", "-c", 'echo "$GREETING"', env=environment)
    assert echoed.stdout == "from the client\n"
    saved = subprocess.run([*LAUNCHER, "save", "-o", "image.tar", busybox], cwd=tmp_path, env=os.environ,
                           preexec_fn=lambda: os.umask(0o077), capture_output=True, text=True, timeout=120)  # fmt: skip
    assert saved.returncode == 0, saved.stderr
    assert stat.S_IMODE((tmp_path / "image.tar").stat().st_mode) == 0o600


def test_ctrl_c_is_forwarded_to_the_worker(command_server: int, busybox: str) -> None:
    script = 'trap "echo got INT; exit 3" INT; echo ready; while true; do sleep 0.1; done'
    client = subprocess.Popen([*LAUNCHER, "run", "--rm", busybox, "sh", "-c", script], stdout=subprocess.PIPE,
                              text=True, env=os.environ)  # fmt: skip
    assert client.stdout is not None and client.stdout.readline() == "ready\n"
    client.send_signal(signal.SIGINT)
    out, _ = client.communicate(timeout=60)
    assert (client.returncode, out) == (3, "got INT\n")
    assert containers.list(all=True) == []


def test_without_a_server_the_command_runs_in_process(busybox: str) -> None:
    assert running_server() is None
    result = _labcore("run", "--rm", busybox, "echo", "alone")
    assert (result.returncode, result.stdout) == (0, "alone\n")


def test_a_stale_socket_is_replaced(busybox: str) -> None:
    path = Path(server_socket_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    import socket

    leftover = socket.socket(socket.AF_UNIX)
    leftover.bind(str(path))  # bound, never listening: what a killed server leaves
    leftover.close()
    assert _labcore("ps").returncode == 0  # the launcher falls back
    started = _labcore("server", "start")
    try:
        assert started.returncode == 0, started.stderr
        deadline = time.monotonic() + 10
        while running_server() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert running_server() is not None
    finally:
        _labcore("server", "stop")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _wait_for_children(pid: int, count: int) -> list[int]:
    deadline = time.monotonic() + 20
    while len(children := _children(pid)) != count:
        assert time.monotonic() < deadline, f"server {pid} has children {children}, expected {count}"
        time.sleep(0.02)
    return children


def test_a_spare_worker_waits_and_a_killed_one_is_replaced(command_server: int, busybox: str) -> None:
    (spare,) = _wait_for_children(command_server, 1)  # forked in advance, prefaulting, waiting
    assert _labcore("run", "--rm", busybox, "true").returncode == 0
    (next_spare,) = _wait_for_children(command_server, 1)
    assert next_spare != spare  # the spare ran the command; a new one waits
    os.kill(next_spare, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while _children(command_server) in ([], [next_spare]):
        assert time.monotonic() < deadline, "no new spare after the last one was killed"
        time.sleep(0.02)
    result = _labcore("run", "--rm", busybox, "echo", "still served")
    assert (result.returncode, result.stdout) == (0, "still served\n")


def test_a_terminal_is_passed_through(command_server: int, busybox: str) -> None:
    script = "test -t 0 && test -t 1 && echo is-a-tty; read line; echo got:$line; exit 6"
    code, output = run_on_terminal([*LAUNCHER, "run", "--rm", "-it", busybox, "sh", "-c", script], keys=b"typed\n")
    assert code == 6, output
    assert b"is-a-tty" in output and b"got:typed" in output


def test_a_large_environment_arrives_whole(command_server: int, busybox: str) -> None:
    # 300 kB in all, more than a Unix socket's buffer: the request arrives in pieces
    environment = dict(os.environ, **{f"BIG{number}": str(number) * 100_000 for number in range(3)})
    result = _labcore("run", "--rm", "-e", "BIG2", busybox, "sh", "-c", 'echo "${#BIG2} ${BIG2:0:3}"', env=environment)
    assert (result.returncode, result.stdout) == (0, "100000 222\n")
