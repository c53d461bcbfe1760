"""The fork server: it clones container processes as children of the caller, and stays out of the way."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from labcore.linux.namespaces import Namespace, setns
from labcore.linux.netdev import IFF_UP, interface_flags
from labcore.runtime import forkserver
from labcore.runtime.spec import DEFAULT_NAMESPACES
from tests.integration.runtime.conftest import Result

pytestmark = pytest.mark.root


@pytest.fixture
def created(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool] | None]:
    """What each fork server request returned: (pid, cloned directly) or None (the caller forked)."""
    results: list[tuple[int, bool] | None] = []
    real = forkserver.create_process

    def spy(*args: Any) -> tuple[int, bool] | None:
        result = real(*args)
        results.append(result)
        return result

    monkeypatch.setattr(forkserver, "create_process", spy)
    return results


@pytest.mark.parametrize("creation", ["forkserver"], indirect=True)
def test_a_new_container_init_is_cloned_directly_into_its_cgroup_namespace(
    run_container: Callable[..., Result], created: list[tuple[int, bool] | None]
) -> None:
    result = run_container(["sh", "-c", "echo $$; cat /proc/self/cgroup"])
    assert result.code == 0, result.err
    pid, *cgroups = result.out.split("\n")[:-1]
    assert pid == "1"
    # joined before the namespace was made: the container's own group is the namespace's root
    assert cgroups and all(line.endswith(":/") for line in cgroups), cgroups
    assert len(created) == 1 and created[0] is not None and created[0][1] is True


@pytest.mark.parametrize("creation", ["forkserver"], indirect=True)
def test_a_user_namespace_container_is_cloned_through_an_intermediate(
    run_container: Callable[..., Result], created: list[tuple[int, bool] | None]
) -> None:
    result = run_container(["id", "-u"], namespaces=DEFAULT_NAMESPACES | {Namespace.USER})
    assert (result.code, result.out) == (0, "0\n"), result.err
    assert len(created) == 1 and created[0] is not None and created[0][1] is False


def test_the_server_is_in_its_own_session_and_named() -> None:
    pid = forkserver.start(wait=30)
    assert pid is not None
    assert os.getsid(pid) == pid  # Ctrl-C in the caller's terminal does not reach it
    assert Path(f"/proc/{pid}/comm").read_text() == "labcore-forksrv\n"
    assert forkserver.server_pid() == pid


def test_stop_ends_and_reaps_the_server() -> None:
    pid = forkserver.start(wait=30)
    assert pid is not None and Path(f"/proc/{pid}").exists()
    forkserver.stop()
    assert not Path(f"/proc/{pid}").exists()  # gone, not a zombie: stop() reaped it
    assert forkserver.server_pid() is None


@pytest.mark.parametrize("creation", ["forkserver"], indirect=True)
def test_a_killed_server_is_replaced_by_forking(
    run_container: Callable[..., Result], created: list[tuple[int, bool] | None]
) -> None:
    pid = forkserver.server_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert run_container(["true"]).code == 0
    assert created[-1] is None  # the caller forked by itself
    assert forkserver.server_pid() is None
    assert not Path(f"/proc/{pid}").exists()  # reaped when it was found dead
    forkserver.start(wait=30)  # for the fixture's check that the server made a process
    assert run_container(["true"]).code == 0


def test_a_forked_child_does_not_use_its_parents_server() -> None:
    assert forkserver.start(wait=30) is not None
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - reports through the pipe
        os.write(write_end, repr(forkserver.server_pid()).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        seen = reader.read()
    assert os.waitpid(child, 0)[1] == 0
    assert seen == "None"
    assert forkserver.server_pid() is not None


def test_the_server_ends_with_its_parent(tmp_path: Path) -> None:
    # a helper that is subreaper, so that it can reap the server once its parent is gone
    script = textwrap.dedent(
        f"""
        import os, sys, time
        sys.path.insert(0, {str(Path(__file__).parents[3])!r})
        from labcore.linux.subreaper import set_child_subreaper
        set_child_subreaper()
        read_end, write_end = os.pipe()
        if os.fork() == 0:
            from labcore.runtime import forkserver
            os.write(write_end, str(forkserver.start(wait=30)).encode())
            os._exit(0)  # without stop(): the server must notice by itself
        os.close(write_end)
        pid = int(os.read(read_end, 64))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            done, status = os.waitpid(-1, os.WNOHANG)
            if done == pid:
                print("ended", flush=True)
                break
            time.sleep(0.01)
        """
    )
    helper = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert helper.stdout.strip().endswith("ended"), helper.stderr


def test_start_returns_once_the_command_runs_not_when_it_ends(run_container: Callable[..., Result]) -> None:
    # the init's end of the sync socket must be close-on-exec however it was made (the fork
    # server receives it over SCM_RIGHTS): its end of file is the runtime's sign that exec worked
    def still_running(init: Any) -> bool:
        running = os.waitpid(init.pid, os.WNOHANG) == (0, 0)
        init.kill()
        return running

    result = run_container(["sleep", "600"], during=still_running)
    assert result.extra["during"] is True
    assert result.code == 128 + signal.SIGKILL


def _namespace_ids(out: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in out.split())


_SHOW_NAMESPACES = "for n in net ipc uts; do echo $n=$(readlink /proc/self/ns/$n); done"


@pytest.mark.parametrize("creation", ["forkserver"], indirect=True)
def test_the_init_cloned_ahead_has_namespaces_of_its_own_and_goes_to_the_next_container(
    run_container: Callable[..., Result], created: list[tuple[int, bool] | None]
) -> None:
    names = ("net", "ipc", "uts", "pid")
    host = {name: os.readlink(f"/proc/self/ns/{name}") for name in names}
    assert run_container(["true"]).code == 0  # from now on an init waits, cloned ahead

    def compare_with_the_next(init: Any) -> tuple[int, dict[str, tuple[str, str]]]:
        ahead = forkserver.ahead_pid(wait=10)
        assert ahead is not None
        pairs = {
            name: (os.readlink(f"/proc/{init.pid}/ns/{name}"), os.readlink(f"/proc/{ahead}/ns/{name}"))
            for name in names
        }
        init.kill()
        return ahead, pairs

    running = run_container(["sleep", "60"], during=compare_with_the_next)
    ahead, pairs = running.extra["during"]
    for name, (this, following) in pairs.items():  # both alive: inode numbers cannot be reused yet
        assert len({this, following, host[name]}) == 3, (name, this, following)
    assert run_container(["true"]).code == 0
    assert created[-1] == (ahead, True)


@pytest.mark.parametrize("creation", ["forkserver"], indirect=True)
def test_a_container_that_shares_the_hosts_namespaces_gets_the_hosts(
    run_container: Callable[..., Result], created: list[tuple[int, bool] | None]
) -> None:
    assert run_container(["true"]).code == 0  # the server has made spares for the next one since
    shared = run_container(["sh", "-c", _SHOW_NAMESPACES], namespaces=frozenset({Namespace.MNT, Namespace.PID}))
    assert _namespace_ids(shared.out) == {name: os.readlink(f"/proc/self/ns/{name}") for name in ("net", "ipc", "uts")}
    assert created[-1] is not None and created[-1][1]


@pytest.mark.parametrize("creation", ["forkserver"], indirect=True)
def test_a_new_uts_namespace_starts_with_the_hosts_hostname(run_container: Callable[..., Result]) -> None:
    assert run_container(["hostname"], hostname="first-box").out == "first-box\n"
    assert run_container(["hostname"]).out == f"{os.uname().nodename}\n"  # not the last container's


def _loopback_flags_in(netns: str) -> int:
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - reports through the pipe
        try:
            setns(os.open(netns, os.O_RDONLY), int(Namespace.NET))
            os.write(write_end, str(interface_flags("lo")).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        flags = reader.read()
    os.waitpid(child, 0)
    return int(flags)


def _children_named(name: str) -> list[int]:
    found = []
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            with contextlib.suppress(FileNotFoundError):
                if Path(f"/proc/{pid}/comm").read_text().strip() == name:
                    found.append(int(pid))
    return found


def _init_cloned_ahead_after_a_container(run_container: Callable[..., Result]) -> int:
    """Run a container; the pid of the init the fork server then clones ahead (our child)."""
    assert run_container(["true"]).code == 0
    deadline = time.monotonic() + 10
    while not (ahead := _children_named("labcore-preinit")) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(ahead) == 1, "no init was cloned ahead for the next container"
    return ahead[0]


@pytest.mark.parametrize("creation", ["forkserver"], indirect=True)
def test_the_next_init_waits_cloned_ahead_in_new_namespaces(
    run_container: Callable[..., Result], created: list[tuple[int, bool] | None]
) -> None:
    pid = _init_cloned_ahead_after_a_container(run_container)
    for name in ("net", "pid", "ipc", "uts"):
        assert os.readlink(f"/proc/{pid}/ns/{name}") != os.readlink(f"/proc/self/ns/{name}"), name
    # its mount namespace is made when its plan comes, after the caller mounted the root
    assert os.readlink(f"/proc/{pid}/ns/mnt") == os.readlink("/proc/self/ns/mnt")
    assert _loopback_flags_in(f"/proc/{pid}/ns/net") & IFF_UP
    assert run_container(["true"]).code == 0
    assert created[-1] == (pid, True)  # the next container got it


@pytest.mark.parametrize("creation", ["forkserver"], indirect=True)
def test_stop_reaps_the_init_cloned_ahead(run_container: Callable[..., Result]) -> None:
    ahead = _init_cloned_ahead_after_a_container(run_container)
    forkserver.stop()
    assert not Path(f"/proc/{ahead}").exists()  # killed and reaped, not a zombie
    forkserver.start(wait=30)  # for the fixture's check that the server made a process


@pytest.mark.parametrize("creation", ["forkserver"], indirect=True)
def test_an_init_cloned_ahead_for_other_namespaces_is_discarded_and_reaped(
    run_container: Callable[..., Result], created: list[tuple[int, bool] | None]
) -> None:
    ahead = _init_cloned_ahead_after_a_container(run_container)
    shared = run_container(["readlink", "/proc/self/ns/net"], namespaces=frozenset({Namespace.MNT, Namespace.PID}))
    assert shared.out.strip() == os.readlink("/proc/self/ns/net")
    assert created[-1] is not None and created[-1][0] != ahead
    assert not Path(f"/proc/{ahead}").exists()


def test_an_init_cloned_ahead_exits_when_its_socket_closes() -> None:
    # what happens when the caller dies: the init waiting for a plan must not outlive it. A
    # forked child stands in for the fork server: what it clones ahead is our child.
    read_end, write_end = os.pipe()
    helper = os.fork()
    if helper == 0:  # pragma: no cover - reports through the pipe
        try:
            from labcore.runtime.preinit import preclone

            pid, _plan_end = preclone(int(Namespace.PID | Namespace.NET), [])
            os.write(write_end, f"{pid}\n".encode())
        finally:
            os._exit(0)  # closes plan_end, the only end left
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        pid = int(reader.readline())
    assert os.waitpid(helper, 0)[1] == 0
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0  # it ended by itself, at end of file


@pytest.mark.parametrize("creation", ["forkserver"], indirect=True)
def test_an_init_ahead_whose_program_fails_to_start_gets_no_plan(
    run_container: Callable[..., Result], created: list[tuple[int, bool] | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LABCORE_C_INIT", "/bin/false")  # executable, but no init: it exits at once
    served_in_c = forkserver.served_ahead("c")
    assert run_container(["true"]).code == 0
    ahead = forkserver.ahead_pid(wait=10)
    assert ahead is not None
    result = run_container(["echo", "still works"])
    assert (result.code, result.out) == (0, "still works\n")
    assert created[-1] is not None and created[-1][0] != ahead  # the server cloned it instead
    assert not Path(f"/proc/{ahead}").exists()  # and the dead one was reaped
    assert forkserver.served_ahead("c") == served_in_c
