"""A pytest plugin, loaded with ``-p labcore.course.nbplugin`` next to nbval, for grading runs.

* In each worker, before a notebook's kernel starts, it points ``LABCORE_ROOT`` at a private folder
  beside the notebook (``LABCORE_NB_ROOT_NAME``), so every submission has its own lab state.
* It tags each cell's report with the cell's id and a one-paragraph summary of a failure.
* In the controlling process it appends one JSON line per finished cell to ``LABCORE_NB_RESULTS``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["RESULTS_ENV", "ROOT_NAME_ENV", "summarize_failure"]

RESULTS_ENV = "LABCORE_NB_RESULTS"
ROOT_NAME_ENV = "LABCORE_NB_ROOT_NAME"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_MAX_SUMMARY = 600


def summarize_failure(error: BaseException) -> str:
    """What went wrong in a cell, in a few lines: the check's hint, or the exception's last line."""
    message = str(error.args[0]) if error.args else type(error).__name__
    traceback = getattr(error, "inner_traceback", None)
    if not traceback:
        return message[:_MAX_SUMMARY]
    lines = [line.rstrip() for line in _ANSI.sub("", str(traceback)).splitlines() if line.strip()]
    # a CheckFailed shows "check failed" then hint and found; other errors end with "Type: message"
    detail = lines[lines.index("check failed") + 1 :] if "check failed" in lines else lines[-1:]
    if message.startswith("Timeout"):
        detail.insert(0, message)
    return "\n".join(detail)[:_MAX_SUMMARY]


def pytest_configure(config: pytest.Config) -> None:
    """Record results only in the controlling process (not in xdist workers)."""
    results = os.environ.get(RESULTS_ENV)
    if results and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Recorder(Path(results)), "labcore-nb-recorder")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Give the notebook's kernel (started when its first cell is set up) a private LABCORE_ROOT."""
    root_name = os.environ.get(ROOT_NAME_ENV)
    if root_name:
        os.environ["LABCORE_ROOT"] = str(Path(str(item.path)).parent / root_name)
        os.environ.pop("LABCORE_RUN", None)
    cell = getattr(item, "cell", None)
    if cell is not None and not any(key == "cell_id" for key, _ in item.user_properties):
        item.user_properties.append(("cell_id", str(cell.get("id", ""))))
        item.user_properties.append(("notebook", str(item.path)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """Add a summary of the failure to a failed cell's report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.excinfo is not None:
        report.user_properties.append(("summary", summarize_failure(call.excinfo.value)))


class _Recorder:
    def __init__(self, path: Path) -> None:
        self.path = path

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call" and report.passed:
            return
        properties = {str(key): value for key, value in report.user_properties}
        line = {
            "nodeid": report.nodeid,
            "path": properties.get("notebook", ""),
            "when": report.when,
            "outcome": report.outcome,
            "xfail": bool(getattr(report, "wasxfail", False)),
            "cell_id": properties.get("cell_id", ""),
            "summary": properties.get("summary", ""),
        }
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(line) + "\n")
