import os
import subprocess

import pytest

from labcore.container.errors import IllegalStateError
from labcore.container.state import (
    ContainerPaths,
    RuntimeState,
    Status,
    derive_status,
    load_state,
    needs_reaping,
    require,
    update_state,
)
from labcore.errors import ConflictError
from labcore.fs.atomic import write_json_atomic
from labcore.linux.proc import process_start_time


def test_predicates_follow_runc_and_docker():
    assert Status.CREATED.can_start and Status.STOPPED.can_start and not Status.RUNNING.can_start
    assert Status.RUNNING.can_kill and not Status.STOPPED.can_kill and not Status.CREATED.can_kill
    assert Status.STOPPED.can_delete and Status.CREATED.can_delete and not Status.RUNNING.can_delete
    assert Status.STOPPED.docker_name == "exited"


def test_illegal_moves_raise_conflict_naming_container():
    with pytest.raises(IllegalStateError) as caught:
        require(Status.RUNNING, "delete", "web")
    assert isinstance(caught.value, ConflictError)
    assert "web" in caught.value.message and "running" in caught.value.message
    assert "rm -f" in caught.value.hint
    with pytest.raises(IllegalStateError, match="already running"):
        require(Status.RUNNING, "start", "web")
    require(Status.STOPPED, "start", "web")


def test_status_is_derived_from_live_pid_and_start_time():
    child = subprocess.Popen(["sleep", "30"])
    try:
        start = process_start_time(child.pid)
        assert start is not None
        running = RuntimeState(phase="running", pid=child.pid, pid_start_time=start)
        assert derive_status(running) is Status.RUNNING
        # same pid, other start time: a recycled pid is not our container
        recycled = RuntimeState(phase="running", pid=child.pid, pid_start_time=start + 1)
        assert derive_status(recycled) is Status.STOPPED
    finally:
        child.kill()
        child.wait()
    assert derive_status(RuntimeState(phase="running", pid=child.pid, pid_start_time=start)) is Status.STOPPED
    assert derive_status(None) is Status.CREATED
    assert derive_status(RuntimeState(phase="exited", exit_code=0)) is Status.STOPPED


def test_dead_supervisor_needs_reaping():
    assert needs_reaping(RuntimeState(phase="running", supervisor_pid=2**22 + 7))
    me = os.getpid()
    assert not needs_reaping(RuntimeState(phase="running", supervisor_pid=me, supervisor_start_time=None))
    assert not needs_reaping(RuntimeState(phase="exited", torn_down=True))


def test_state_round_trip_atomic(labcore_root):
    paths = ContainerPaths.of("a" * 64)
    assert load_state(paths) is None
    update_state(paths, phase="running", pid=42)
    state = update_state(paths, exit_code=3)
    assert (state.phase, state.pid, state.exit_code) == ("running", 42, 3)
    assert load_state(paths) == state
    assert not [name for name in os.listdir(paths.run_dir) if name.endswith(".tmp")]
    assert str(paths.state_file).startswith(str(labcore_root.with_name("labcore.run")))


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "x.json"
    write_json_atomic(target, {"a": 1})
    write_json_atomic(target, {"b": 2})
    assert target.read_text().strip().startswith("{") and '"b": 2' in target.read_text()
    assert '"a"' not in target.read_text()
