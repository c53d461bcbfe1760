"""Grade 20 submissions of 00-setup with `labcore grade --workers 2` and record the wall time.

Half the class hands in the solutions, half the untouched student copy; one pass through the CLI
(nbval, pytest-xdist, one kernel and one LABCORE_ROOT per submission). Writes
bench/RESULTS-grading.md. Run as root, inside the lab: `sudo .venv/bin/python bench/bench_grading.py`.
"""

from __future__ import annotations

import csv
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from labcore.cli.main import main  # noqa: E402
from tests.course_support import save, setup_chapter, solutions, student_copy  # noqa: E402

STUDENTS = 20
WORKERS = 2


def run() -> tuple[float, int, int]:
    chapter = setup_chapter()
    right = solutions(chapter)
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        base = Path(scratch)
        os.environ["LABCORE_ROOT"] = str(base / "root")
        for index in range(STUDENTS):
            notebook = student_copy(chapter, right if index % 2 == 0 else None)
            save(notebook, base / "submissions" / f"student{index:02d}" / "00-setup.ipynb")
        started = time.monotonic()
        status = main(["grade", str(base / "submissions"), "--out", str(base / "out"),
                       "--workers", str(WORKERS), "--timeout", "60"])
        elapsed = time.monotonic() - started
        with (base / "out" / "grades.csv").open() as file:
            rows = list(csv.DictReader(file))
        graded = len({row["student"] for row in rows})
        assert status == 0 and graded == STUDENTS
        return elapsed, graded, sum(int(row["points"]) for row in rows)


def main_bench() -> None:
    elapsed, graded, points = run()
    per = elapsed / graded
    text = f"""# Grading benchmark

`sudo .venv/bin/python bench/bench_grading.py`: `labcore grade` on {graded} submissions of
`00-setup` (half solved, half untouched), `--workers {WORKERS} --timeout 60`, one pass.

| submissions | workers | wall time | per submission | points given |
|---|---|---|---|---|
| {graded} | {WORKERS} | {elapsed:.1f} s | {per:.2f} s | {points} |

Host: {platform.node()}, Linux {platform.release()}, {os.cpu_count()} CPUs, Python {platform.python_version()}.
Each submission starts its own IPython kernel and runs every cell of the chapter (the pre-flight
check included), so the time is dominated by kernel start-up and `doctor()`.
"""
    (REPO / "bench" / "RESULTS-grading.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main_bench()
