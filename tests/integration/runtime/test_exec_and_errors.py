"""exec into a running container, user namespaces, and how setup failures reach the caller."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from labcore.linux.namespaces import Namespace
from labcore.runtime.cgroups import Cgroup
from labcore.runtime.process import (
    ExecFailedError,
    InitProcess,
    create,
    exec_process,
    is_alive,
    wait_exit_code,
)
from labcore.runtime.rootfs import MountSpecError
from labcore.runtime.spec import DEFAULT_NAMESPACES, ContainerSpec, IdMapping, MountSpec, ProcessSpec, User

from .conftest import new_id

pytestmark = [pytest.mark.root, pytest.mark.integration]


@pytest.fixture
def sleeping(rootfs: Path) -> Iterator[InitProcess]:
    """A started container whose init sleeps."""
    spec = ContainerSpec(new_id(), rootfs, ProcessSpec(["sleep", "600"]), hostname="target")
    init = create(spec, (0, 1, 2))
    try:
        init.start()
        yield init
    finally:
        init.destroy()


def _exec(init: InitProcess, args: list[str], tmp_path: Path, **process: object) -> tuple[int, str, str]:
    out_path, err_path = tmp_path / "exec.out", tmp_path / "exec.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err, open(os.devnull, "rb") as devnull:
        stdio = (devnull.fileno(), out.fileno(), err.fileno())
        pid = exec_process(init.pid, ProcessSpec(args, **process), stdio, init.cgroup)  # type: ignore[arg-type]
    return wait_exit_code(pid), out_path.read_text(), err_path.read_text()


def test_exec_joins_every_namespace_and_the_cgroup(sleeping: InitProcess, tmp_path: Path) -> None:
    names = [kind.proc_name for kind in DEFAULT_NAMESPACES]
    script = "hostname; echo $$; cat /proc/self/cgroup; " + "; ".join(
        f"readlink /proc/self/ns/{name}" for name in names
    )
    code, out, err = _exec(sleeping, ["sh", "-c", script], tmp_path)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "target"
    assert 1 < int(lines[1]) < 100  # a pid of the container's namespace
    for name, link in zip(names, lines[-len(names) :], strict=True):
        assert link == os.readlink(f"/proc/{sleeping.pid}/ns/{name}"), name
    # with a cgroup namespace rooted at the container's group, the process sees itself at "/"
    assert all(line.endswith(":/") for line in lines[2 : -len(names)] if line)


def test_exec_applies_user_cwd_and_capabilities(sleeping: InitProcess, tmp_path: Path) -> None:
    code, out, _ = _exec(
        sleeping,
        ["sh", "-c", "id -u; pwd; grep CapEff /proc/self/status"],
        tmp_path,
        user=User(1000, 1000),
        cwd="/tmp",
    )
    uid, cwd, caps = out.splitlines()
    assert (code, uid, cwd) == (0, "1000", "/tmp")
    assert caps.split() == ["CapEff:", "0000000000000000"]  # a non-root user gets none, as in Docker
    root_code, root_out, _ = _exec(sleeping, ["grep", "CapEff", "/proc/self/status"], tmp_path)
    init_caps = [
        line
        for line in Path(f"/proc/{sleeping.pid}/status").read_text().splitlines()
        if line.startswith("CapEff")
    ]
    assert (root_code, root_out.strip()) == (0, init_caps[0])


def test_exec_of_a_missing_command_raises_127(sleeping: InitProcess, tmp_path: Path) -> None:
    with pytest.raises(ExecFailedError, match=r"executable file not found in \$PATH") as caught:
        _exec(sleeping, ["nope"], tmp_path)
    assert caught.value.exit_code == 127
    assert is_alive(sleeping.pid, sleeping.start_time)


def test_created_container_waits_for_start(rootfs: Path, tmp_path: Path) -> None:
    marker = "/tmp/started"
    init = create(ContainerSpec(new_id(), rootfs, ProcessSpec(["touch", marker])), (0, 1, 2))
    try:
        assert is_alive(init.pid, init.start_time)
        assert not (rootfs / marker.lstrip("/")).exists()
        init.start()
        assert init.wait() == 0
        assert (rootfs / marker.lstrip("/")).exists()
        assert not is_alive(init.pid, init.start_time)
    finally:
        init.destroy()


def test_user_namespace_maps_root_to_an_unprivileged_host_uid(rootfs: Path, tmp_path: Path) -> None:
    out_path = tmp_path / "out"
    spec = ContainerSpec(
        new_id(),
        rootfs,
        ProcessSpec(["sh", "-c", "id -u; cat /proc/self/uid_map; cat /proc/self/gid_map"]),
        namespaces=DEFAULT_NAMESPACES | {Namespace.USER},
        uid_mappings=(IdMapping(0, 0, 1), IdMapping(1, 100_000, 65536)),
        gid_mappings=(IdMapping(0, 0, 1), IdMapping(1, 100_000, 65536)),
    )
    with open(out_path, "wb") as out:
        init = create(spec, (0, out.fileno(), 2))
    try:
        host_user_ns = os.readlink("/proc/self/ns/user")
        assert os.readlink(f"/proc/{init.pid}/ns/user") != host_user_ns
        init.start()
        assert init.wait() == 0
    finally:
        init.destroy()
    lines = [line.split() for line in out_path.read_text().splitlines()]
    assert lines[0] == ["0"]
    assert lines[1:3] == [["0", "0", "1"], ["1", "100000", "65536"]]


def test_missing_bind_source_is_a_usage_error_before_fork(rootfs: Path, tmp_path: Path) -> None:
    spec = ContainerSpec(
        new_id(),
        rootfs,
        ProcessSpec(["true"]),
        mounts=(MountSpec("/data", "bind", str(tmp_path / "missing")),),
    )
    with pytest.raises(MountSpecError, match="missing"):
        create(spec, (0, 1, 2))


def _children() -> set[int]:
    """Our child processes, zombies included (other tests' session servers may be among them)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as file:
                    stat = file.read()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == os.getpid():
                found.add(int(entry))
    return found


def test_failed_mount_in_the_child_is_an_oserror_naming_the_path(rootfs: Path) -> None:
    spec = ContainerSpec(
        new_id(),
        rootfs,
        ProcessSpec(["true"]),
        mounts=(MountSpec("/scratch", "tmpfs", "tmpfs", ("size=lots",)),),
    )
    children_before = _children()
    with pytest.raises(OSError, match="container init") as caught:
        create(spec, (0, 1, 2))
    assert caught.value.errno == errno.EINVAL
    assert caught.value.filename == str(rootfs / "scratch")
    assert _children() == children_before  # the intermediate and the init were both reaped
    with pytest.raises(Exception, match="does not exist"):
        Cgroup.open(f"labcore/{spec.id}")  # cleaned up


def test_terminal_becomes_the_controlling_tty_and_console(rootfs: Path) -> None:
    master, slave = os.openpty()
    script = "tty; cat /proc/self/stat | cut -d' ' -f7; stat -c %t,%T /dev/console"
    spec = ContainerSpec(new_id(), rootfs, ProcessSpec(["sh", "-c", script], terminal=True))
    try:
        init = create(spec, (slave, slave, slave))
    finally:
        os.close(slave)
    output = b""
    try:
        init.start()
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the container closed its side of the pty
                break
            if not chunk:
                break
            output += chunk
    finally:
        code = init.destroy()
        os.close(master)
    tty, tty_nr, console = output.decode().split()
    assert code == 0
    assert tty == "/dev/console"  # the pty is bound there
    assert int(tty_nr) != 0  # a controlling terminal is set
    assert int(console.split(",")[0], 16) == 136  # a pseudo-terminal slave (Unix98 pty major)


def test_exec_into_a_user_namespace_container(rootfs: Path, tmp_path: Path) -> None:
    mapping = (IdMapping(0, 0, 1), IdMapping(1, 200_000, 1000))
    spec = ContainerSpec(
        new_id(),
        rootfs,
        ProcessSpec(["sleep", "600"]),
        namespaces=DEFAULT_NAMESPACES | {Namespace.USER},
        uid_mappings=mapping,
        gid_mappings=mapping,
    )
    init = create(spec, (0, 1, 2))
    try:
        init.start()
        code, out, err = _exec(
            init, ["sh", "-c", "cat /proc/self/uid_map; readlink /proc/self/ns/user"], tmp_path
        )
        assert code == 0, err
        lines = out.splitlines()
        assert [line.split() for line in lines[:2]] == [["0", "0", "1"], ["1", "200000", "1000"]]
        assert lines[2] == os.readlink(f"/proc/{init.pid}/ns/user")
    finally:
        init.destroy()
