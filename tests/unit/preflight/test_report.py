import json
import shutil
from pathlib import Path

import pytest

from labcore.image.base.elf import is_static_executable
from labcore.preflight import checks
from labcore.preflight.report import Check, Report, Status


def test_kernel_version_parses_debian_release() -> None:
    assert checks.kernel_version("6.1.0-18-amd64") == (6, 1)
    assert checks.kernel_version("5.10.0") == (5, 10)
    assert checks.kernel_version("4.19") == (4, 19)


def test_old_kernel_fails_with_hint() -> None:
    check = checks.check_kernel("4.19.0-25-amd64")
    assert check.status is Status.FAIL
    assert "vagrant up" in check.hint


def test_missing_busybox_fails_with_install_hint(tmp_path: Path) -> None:
    check = checks.check_busybox(tmp_path / "busybox")
    assert check.status is Status.FAIL
    assert "apt-get install busybox-static" in check.hint


def test_dynamic_binary_is_not_taken_for_busybox() -> None:
    python = Path(shutil.which("python3") or "/usr/bin/python3").resolve()
    assert not is_static_executable(python)
    assert checks.check_busybox(python).status is Status.FAIL


def test_non_elf_is_not_static(tmp_path: Path) -> None:
    script = tmp_path / "busybox"
    script.write_text("#!/bin/sh\n")
    assert not is_static_executable(script)


def test_report_fails_only_on_required_checks() -> None:
    optional = Check("registry", Status.FAIL, "down", hint="start it", required=False)
    required = Check("busybox", Status.FAIL, "missing", hint="install it")
    fine = Check("kernel", Status.OK, "6.1")
    assert Report((fine, optional)).ok
    assert not Report((fine, optional, required)).ok
    assert Report((fine, required)).failed() == [required]


def test_table_shows_hints_of_failures_only() -> None:
    report = Report((Check("kernel", Status.OK, "6.1", hint="unused"),
                     Check("busybox", Status.FAIL, "missing", hint="apt-get install busybox-static")))
    table = report.table()
    assert "FAIL  busybox" in table
    assert "hint: apt-get install busybox-static" in table
    assert "unused" not in table
    assert table.endswith("some required checks failed")


def test_json_form_round_trips() -> None:
    report = Report((Check("disk", Status.WARN, "3 GiB free", hint="prune", facts={"free_bytes": 3}),))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is True
    assert data["checks"][0] == {"name": "disk", "status": "warn", "detail": "3 GiB free", "hint": "prune",
                                 "required": True, "facts": {"free_bytes": 3}}


def test_lookup_by_name() -> None:
    report = Report((Check("kernel", Status.OK, "6.1"),))
    assert report["kernel"].detail == "6.1"
    with pytest.raises(KeyError):
        report["nope"]
