"""The C init's plan encoding, where it is looked for, and its build."""

import os
import shutil
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from labcore.runtime import cinit
from labcore.runtime.hardening import PrivilegePlan
from labcore.runtime.init import InitPlan
from labcore.runtime.rootfs import MountStep

PLAN = InitPlan(
    clone_flags=0,
    cgroup_procs=("/sys/fs/cgroup/pids/labcore/x/cgroup.procs",),
    join=((7, 0x40000000),),
    userns=False,
    rootfs="/run/x/rootfs",
    mount_steps=(
        MountStep("mount", "/run/x/rootfs/proc", "proc", "proc", 14),
        MountStep("remount", "/run/x/rootfs", flags=4),
    ),
    hostname="box",
    stdio=(0, 1, 2),
    terminal=False,
    cwd="/",
    args=("sh", "-c", "echo hi"),
    environ={"PATH": "/bin", "EMPTY": ""},
    search_path="/bin",
    privileges=PrivilegePlan(
        uid=0, gid=0, groups=(10,), drop_bounding=(2, 9), keep=(0,), mask=5, no_new_privileges=True
    ),
    loopback=True,
)


def _fields(encoded: bytes) -> list[str]:
    assert encoded.endswith(b"\0")
    return encoded[:-1].decode().split("\0")


def test_a_plan_is_written_as_tagged_nul_terminated_fields() -> None:
    encoded = cinit.encode_plan(PLAN, late=0x20000)
    assert encoded is not None
    fields = _fields(encoded)
    assert fields[0] == "labcore-plan-1" and fields[-1] == "end"
    assert fields[1:7] == ["cgroup", PLAN.cgroup_procs[0], "join", str(0x40000000), "late", str(0x20000)]
    # optional fields: "+" and the value, or "-" for none
    proc = fields.index("/run/x/rootfs/proc")
    assert fields[proc - 2 : proc + 5] == ["step", "mount", "/run/x/rootfs/proc", "+proc", "+proc", "14", "-"]
    remount = fields.index("remount")
    assert fields[remount : remount + 6] == ["remount", "/run/x/rootfs", "-", "-", "4", "-"]
    assert "loopback" in fields and "nnp" in fields and "terminal" not in fields
    assert "start" not in fields
    started = cinit.encode_plan(replace(PLAN, start_at_once=True), late=0)
    assert started is not None and "start" in _fields(started)
    assert [fields[i + 1] for i, tag in enumerate(fields) if tag == "arg"] == ["sh", "-c", "echo hi"]
    assert [fields[i + 1] for i, tag in enumerate(fields) if tag == "env"] == ["PATH=/bin", "EMPTY="]
    assert [fields[i + 1] for i, tag in enumerate(fields) if tag == "drop"] == ["2", "9"]


@pytest.mark.parametrize(
    "change",
    [
        {"userns": True},
        {"rootfs": None},
        {"args": ("x",) * 5000},
        {"cgroup_procs": ("p",) * 65},
        {"join": ((3, 1),) * 13},
    ],
    ids=["user-namespace", "exec", "too-many-arguments", "too-many-cgroups", "too-many-namespaces"],
)
def test_plans_only_the_python_init_can_run_are_not_encoded(change: dict[str, object]) -> None:
    assert cinit.encode_plan(replace(PLAN, **change), late=0) is None  # type: ignore[arg-type]


def test_the_c_init_is_the_one_built_unless_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    program = tmp_path / "init"
    program.write_text("#!/bin/sh\n")
    monkeypatch.setenv("LABCORE_C_INIT", str(program))
    assert cinit.binary_path() is None  # not executable
    program.chmod(0o755)
    assert cinit.binary_path() == str(program)
    monkeypatch.setenv("LABCORE_C_INIT", "0")
    assert cinit.binary_path() is None


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")
def test_build_compiles_the_source_to_an_executable(tmp_path: Path) -> None:
    target = tmp_path / "libexec" / "labcore-init"
    assert cinit.build(target)
    assert target.stat().st_mode & stat.S_IXUSR
    assert not [name for name in os.listdir(target.parent) if name.endswith(".tmp")]
