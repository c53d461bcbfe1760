"""Run notebooks under nbval (``--nbval-lax``) with pytest-xdist, and collect each cell's result.

One pytest process (under :mod:`labcore.course.reaper`) runs all the notebooks, ``--dist loadfile``
keeping each notebook (one kernel) on one worker; the :mod:`labcore.course.nbplugin` plugin gives
each notebook's kernel its own ``LABCORE_ROOT`` beside the notebook and reports every cell by its
cell id.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from labcore.course import nbplugin

__all__ = ["CellResult", "run_notebooks", "sanitize_file"]


@dataclass(frozen=True)
class CellResult:
    """How one code cell came out: passed, or failed with a short summary."""

    cell_id: str
    passed: bool
    summary: str = ""


def sanitize_file() -> Path:
    """The nbval sanitize file shipped with the chapter sources (paths, digests, addresses)."""
    from labcore.course.paths import default_source_dir

    return default_source_dir() / "nbval-sanitize.cfg"


def run_notebooks(
    notebooks: list[Path],
    *,
    workers: int = 1,
    cell_timeout: float = 60,
    root_name: str | None = None,
    scratch: Path | None = None,
) -> dict[Path, dict[str, CellResult]]:
    """Run ``notebooks`` under nbval; return, per notebook, each code cell's result by cell id.

    With ``root_name`` each notebook's kernel gets ``LABCORE_ROOT=<notebook dir>/<root_name>``.
    A cell that never reported (its kernel died, the notebook did not load) is absent. The run's
    own files go in a temporary folder under ``scratch`` (the system's temp dir), removed at the end.
    """
    if not notebooks:
        return {}
    with tempfile.TemporaryDirectory(prefix="labcore-nbval-", dir=scratch) as temporary:
        rundir = Path(temporary)
        # nbval's node ids are paths relative to the rootdir: a common parent keeps them distinct
        rootdir = Path(os.path.commonpath([str(path.resolve().parent) for path in notebooks]))
        (rundir / "pytest.ini").write_text("[pytest]\n")
        results_file = rundir / "results.jsonl"
        command = [
            sys.executable, "-m", "labcore.course.reaper",
            sys.executable, "-m", "pytest", "-p", "labcore.course.nbplugin", "-p", "no:cacheprovider",
            "-c", str(rundir / "pytest.ini"), "--rootdir", str(rootdir), "-q", "--no-header",
            "--nbval-lax", "--nbval-current-env", f"--nbval-cell-timeout={cell_timeout:g}",
            "-o", f"timeout={int(cell_timeout * 2 + 60)}",
            "-n", str(max(1, workers)), "--dist", "loadfile",
        ]
        sanitize = sanitize_file()
        if sanitize.is_file():
            command += ["--nbval-sanitize-with", str(sanitize)]
        command += [str(path.resolve()) for path in notebooks]
        env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
        env[nbplugin.RESULTS_ENV] = str(results_file)
        env["JUPYTER_RUNTIME_DIR"] = str(rundir / "runtime")  # kernel connection files go with the run
        env.pop(nbplugin.ROOT_NAME_ENV, None)
        if root_name:
            env[nbplugin.ROOT_NAME_ENV] = root_name
        _run_in_own_group(command, rundir, env)
        return _read_results(results_file, notebooks)


def _run_in_own_group(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    """Run ``command`` in a new process group; kill what is left in the group once it ends.

    The command is wrapped by :mod:`labcore.course.reaper`, which also catches what left the group.
    """
    process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        process.wait()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _read_results(results_file: Path, notebooks: list[Path]) -> dict[Path, dict[str, CellResult]]:
    by_path: dict[Path, dict[str, CellResult]] = {path.resolve(): {} for path in notebooks}
    if not results_file.exists():
        return {path: by_path[path.resolve()] for path in notebooks}
    for line in results_file.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        cells = by_path.get(Path(entry["path"]).resolve()) if entry["path"] else None
        if cells is None or not entry["cell_id"]:
            continue
        cell_id = entry["cell_id"]
        passed = entry["when"] == "call" and entry["outcome"] == "passed"
        previous = cells.get(cell_id)
        if previous is not None and not previous.passed:
            continue  # a failed setup or call is not undone by a later phase
        summary = "" if passed else entry["summary"]
        if not passed and not summary and entry["xfail"]:
            summary = "failed after an earlier cell ran out of time"
        cells[cell_id] = CellResult(cell_id, passed, summary)
    return {path: by_path[path.resolve()] for path in notebooks}
