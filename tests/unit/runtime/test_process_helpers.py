"""Pieces of the runtime that need no root: privileges plan, PATH lookup, sync messages, exit codes."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from labcore.errors import UsageError
from labcore.linux import capabilities, prctl
from labcore.linux.namespaces import Namespace
from labcore.runtime.hardening import CapabilityError, plan_privileges
from labcore.runtime.init import find_executable
from labcore.runtime.process import (
    _environ,
    _search_path,
    create,
    exit_code_from_status,
    is_alive,
    process_start_time,
)
from labcore.runtime.spec import DEFAULT_CAPS, ContainerSpec, ProcessSpec, User
from labcore.runtime.sync import SyncMessage, receive, send, socket_pair


def test_capability_names_and_numbers() -> None:
    assert capabilities.cap_number("CHOWN") == 0
    assert capabilities.cap_number("cap_sys_admin") == 21
    assert capabilities.mask_of({"CHOWN", "KILL"}) == (1 << 0) | (1 << 5)
    with pytest.raises(KeyError):
        capabilities.cap_number("FLY")


def test_default_privileges_keep_dockers_set_and_drop_the_rest() -> None:
    plan = plan_privileges(ProcessSpec(["x"], user=User(1000, 1001, (5, 6))))
    bounding = {n for n in range(capabilities.last_cap() + 1) if prctl.capbset_read(n)}
    expected = {capabilities.cap_number(name) for name in DEFAULT_CAPS} & bounding
    assert set(plan.keep) == expected
    assert set(plan.drop_bounding) == bounding - expected  # what the caller lacks is gone already
    assert plan.mask == sum(1 << number for number in expected)
    assert (plan.uid, plan.gid, plan.groups, plan.no_new_privileges) == (1000, 1001, (5, 6), True)


def test_bounding_set_from_proc_status_matches_prctl() -> None:
    mask = capabilities.bounding_set()
    probed = {n for n in range(capabilities.last_cap() + 1) if prctl.capbset_read(n)}
    assert {n for n in range(capabilities.last_cap() + 1) if mask >> n & 1} == probed


def test_privileged_keeps_every_capability_the_caller_has() -> None:
    plan = plan_privileges(ProcessSpec(["x"], capabilities=None))
    assert set(plan.keep) == {n for n in range(capabilities.last_cap() + 1) if prctl.capbset_read(n)}
    assert not plan.drop_bounding or all(not prctl.capbset_read(n) for n in plan.drop_bounding)


def test_unknown_capability_is_named() -> None:
    with pytest.raises(CapabilityError, match="'FLY'"):
        plan_privileges(ProcessSpec(["x"], capabilities=frozenset({"CHOWN", "FLY"})))


def test_capget_reads_this_process() -> None:
    status = Path("/proc/self/status").read_text()
    effective = int(next(line for line in status.splitlines() if line.startswith("CapEff")).split()[1], 16)
    assert capabilities.capget().effective == effective


def test_path_lookup_finds_the_first_executable(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "tool").write_text("not executable")
    (second / "tool").write_text("#!/bin/sh\n")
    (second / "tool").chmod(0o755)
    assert find_executable("tool", f"{first}:{second}") == str(second / "tool")
    assert find_executable("missing", f"{first}:{second}") is None
    assert find_executable("./rel/tool", "") == "./rel/tool"


def test_search_path_and_environment_from_env_list() -> None:
    assert _search_path(["A=1", "PATH=/x:/y"]) == "/x:/y"
    assert _search_path(["A=1"]).startswith("/usr/local/sbin:")
    assert _environ(["A=1", "B=x=y", "A=2"]) == {"A": "2", "B": "x=y"}
    with pytest.raises(UsageError, match="'JUSTANAME'"):
        _environ(["JUSTANAME"])


def test_sync_messages_round_trip_and_end_of_file() -> None:
    runtime, child = socket_pair()
    with runtime, child:
        send(child, SyncMessage.SETUP_FAILED, "2\0/x\0mount /x\0No such file")
        send(child, SyncMessage.CREATED)
        assert receive(runtime) == (SyncMessage.SETUP_FAILED, "2\0/x\0mount /x\0No such file")
        assert receive(runtime) == (SyncMessage.CREATED, "")
        child.close()
        assert receive(runtime) is None


def test_exit_codes_follow_the_shell_convention() -> None:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os._exit(3)
    assert exit_code_from_status(os.waitpid(pid, 0)[1]) == 3
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.kill(os.getpid(), signal.SIGKILL)
    assert exit_code_from_status(os.waitpid(pid, 0)[1]) == 137


def test_start_time_identifies_a_live_process() -> None:
    start = process_start_time(os.getpid())
    assert start is not None and start > 0
    assert is_alive(os.getpid(), start)
    assert not is_alive(os.getpid(), start + 1)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os._exit(0)
    os.waitpid(pid, 0)
    assert process_start_time(pid) is None
    assert not is_alive(pid, start)


def test_bad_specs_are_refused_before_anything_is_created(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no command"):
        create(ContainerSpec("c", tmp_path, ProcessSpec([])), (0, 1, 2))
    with pytest.raises(UsageError, match="mount namespace"):
        create(ContainerSpec("c", tmp_path, ProcessSpec(["x"]), namespaces=frozenset({Namespace.PID})), (0, 1, 2))
    with pytest.raises(UsageError, match="not a directory"):
        create(ContainerSpec("c", tmp_path / "nope", ProcessSpec(["x"])), (0, 1, 2))
    with pytest.raises(UsageError, match="longer than 64"):
        create(ContainerSpec("c", tmp_path, ProcessSpec(["x"]), hostname="h" * 65), (0, 1, 2))
