"""Start and finish `true` from the busybox image: labcore next to crun, runc, podman (and docker).

Run as root: ``.venv/bin/python bench/bench_containers.py [--runs N]``. Uses a private
LABCORE_ROOT and podman storage under a temporary directory, every runtime's state on a tmpfs (as
``/run`` is under systemd), and writes bench/RESULTS-containers.md. Reports the median wall time of each command
and its ratio to ``crun run``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS-containers.md"


def _timed(action: Callable[[], object], runs: int) -> list[float]:
    action()  # warm up caches (page cache, snapshots, Python imports)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def _command(argv: list[str], **kwargs: object) -> Callable[[], object]:
    def action() -> object:
        return subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]

    return action


def _tmpfs_directory() -> str:
    """``/run`` if it is a tmpfs (systemd hosts), else ``/dev/shm``: where runtimes keep their state."""
    for candidate in ("/run", "/dev/shm"):
        with open("/proc/self/mountinfo", encoding="utf-8") as table:
            if any(line.split()[4] == candidate and " - tmpfs " in line for line in table):
                return candidate
    return tempfile.gettempdir()


def _cgroup_migration_ms() -> float:
    """Median time to move a fresh child into a new cgroup (memory controller, v1 or v2)."""
    v1 = Path("/sys/fs/cgroup/memory")
    base = v1 if (v1 / "cgroup.procs").exists() else Path("/sys/fs/cgroup")
    samples = []
    for attempt in range(10):
        group = base / f"labcore-bench-migration-{os.getpid()}-{attempt}"
        group.mkdir()
        child = subprocess.Popen(["sleep", "5"])
        try:
            time.sleep(0.05)  # let a previous migration's grace period pass, as between containers
            start = time.perf_counter()
            (group / "cgroup.procs").write_text(str(child.pid))
            samples.append((time.perf_counter() - start) * 1000)
        finally:
            child.kill()
            child.wait()
            for _ in range(100):
                try:
                    group.rmdir()
                    break
                except OSError:
                    time.sleep(0.01)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    options = parser.parse_args()
    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="labcore-bench-"))
    # runtime state on a tmpfs, as /run is on a host with systemd (the lab VM): every runtime's
    tmpfs = _tmpfs_directory()
    state = Path(tempfile.mkdtemp(prefix="labcore-bench-", dir=tmpfs))
    os.environ["LABCORE_ROOT"] = str(work / "labcore")
    os.environ["LABCORE_RUN"] = str(state / "labcore")
    (work / "labcore").mkdir()
    from labcore.cli.launcher_script import write_launcher_script
    from labcore.container import run
    from labcore.container.bundle import write_bundle
    from labcore.image.base.images import busybox_image
    from labcore.image.store import Store
    from labcore.runtime import forkserver

    busybox_image()
    bundle = write_bundle("busybox", work / "bundle", ["true"])
    rows: list[tuple[str, list[float] | None, str]] = []
    labcore = str(Path(sys.executable).parent / "labcore")  # the console script users type
    labcore_cli = [labcore, "run", "--rm", "busybox", "true"]
    cold = dict(os.environ, LABCORE_NO_SERVER="1")
    rows.append(("`labcore run --rm busybox true` (no server: start-up and imports in the command)",
                 _timed(_command(labcore_cli, env=cold), options.runs), ""))  # fmt: skip
    script = work / "labcore-script"
    write_launcher_script(script)  # the Python launcher, as installed where no C compiler works
    kind = "C client" if Path(labcore).read_bytes()[:4] == b"\x7fELF" else "Python launcher"
    subprocess.run([labcore, "server", "start"], check=True, stdout=subprocess.DEVNULL)
    try:
        rows.append((f"`labcore run --rm busybox true` (with `labcore server`; the command is the {kind})",
                     _timed(_command(labcore_cli), options.runs), ""))  # fmt: skip
        rows.append(("`labcore run --rm busybox true` (with `labcore server`; the site-less Python launcher script)",
                     _timed(_command([str(script), *labcore_cli[1:]]), options.runs), ""))  # fmt: skip
    finally:
        subprocess.run([labcore, "server", "stop"], check=True, stdout=subprocess.DEVNULL)
    forkserver.start(wait=30)  # what a process has from its second container on
    rows.append(
        ("`labcore.container.run(..., remove=True)` (in process)",
         _timed(lambda: run("busybox", ["true"], remove=True), options.runs), "")
    )  # fmt: skip
    forkserver.stop()
    os.environ["LABCORE_NO_FORKSERVER"] = "1"
    rows.append(
        ("`labcore.container.run(..., remove=True)` (in process, `LABCORE_NO_FORKSERVER=1`: the caller forks)",
         _timed(lambda: run("busybox", ["true"], remove=True), options.runs), "")
    )  # fmt: skip
    del os.environ["LABCORE_NO_FORKSERVER"]
    crun_root = state / "crun-state"
    crun_script = f"umount /sys/fs/cgroup/unified && exec crun --root {crun_root} run -b {bundle} bench-crun"
    crun = ["unshare", "-m", "sh", "-c", crun_script]
    rows.append(("`crun run` (in `unshare -m`, unified cgroup unmounted)", _timed(_command(crun), options.runs), ""))
    runc = ["runc", "--root", str(state / "runc-state"), "run", "-b", str(bundle), "bench-runc"]
    rows.append(("`runc run`", _timed(_command(runc), options.runs), ""))
    if shutil.which("podman"):
        store_path = Store().root
        podman = [
            "podman", "--root", str(work / "podman"), "--runroot", str(state / "podman-run"),
            "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--runtime", "runc",
        ]  # fmt: skip
        try:  # podman mounts its storage: reset it however the run ends
            subprocess.run([*podman, "pull", "-q", f"oci:{store_path}:docker.io/library/busybox:latest"],
                           check=True, stdout=subprocess.DEVNULL)  # fmt: skip
            images = subprocess.run([*podman, "images", "-q"], check=True, capture_output=True, text=True)
            podman_run = [*podman, "run", "--rm", "--network", "none", "--ulimit", "nofile=20000:20000",
                          "--ulimit", "nproc=32768:32768", images.stdout.split()[0], "true"]  # fmt: skip
            samples = _timed(_command(podman_run), options.runs)
            rows.append(("`podman run --rm` (runc, cgroupfs, file events)", samples, ""))
        finally:
            subprocess.run([*podman, "system", "reset", "-f"], capture_output=True)
    else:
        rows.append(("`podman run --rm`", None, "podman not installed"))
    if shutil.which("docker") and Path("/usr/sbin/dockerd").exists():
        # a dockerd of our own, in a network namespace made for it (see bench_build.py), fed
        # labcore's busybox through `docker load` of a `labcore save` archive
        from bench_build import started_dockerd

        from labcore.image.archive import save_images

        archive = work / "busybox.tar"
        save_images(["busybox:latest"], archive)
        with started_dockerd(work / "docker", archive) as daemon:
            docker = daemon.client("run", "--rm", "--network", "none", "busybox:latest", "true")
            samples = _timed(_command(docker, env=daemon.env), options.runs)
        rows.append(("`docker run --rm` (dockerd started here in its own netns)", samples, ""))
    else:
        rows.append(("`docker run --rm`", None, "skipped: docker.io is not installed"))
    baseline = statistics.median(next(samples for name, samples, _ in rows if name.startswith("`crun") and samples))
    podman_samples = next((samples for name, samples, _ in rows if name.startswith("`podman") and samples), None)
    podman_median = statistics.median(podman_samples) if podman_samples else None
    migration = _cgroup_migration_ms()
    lines = [
        "# Containers: start and finish `true` (busybox)",
        "",
        f"Command (as root): `.venv/bin/python bench/bench_containers.py --runs {options.runs}` "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"Host: Linux {platform.release()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"{options.runs} runs each after one warm-up, median wall time; ratio to `crun run`. "
        "crun is hidden from the hybrid cgroup layout by an extra `unshare -m` + umount, counted in its time. "
        "Every runtime keeps its state (labcore's `LABCORE_RUN`, crun's and runc's `--root`, podman's "
        f"`--runroot`) under {tmpfs}, a tmpfs, as under `/run` on a host with systemd; "
        "images, layers and containers' own layers are on the disk. "
        f"Load average when the run started: {load_before:.1f} (other work on the host inflates the medians).",
        "",
        f"Moving a process into a new cgroup took {migration:.2f} ms (median of 10) on this kernel when the",
        "run started: every runtime here pays it once per container. Without `favordynmods` it waits for an",
        "RCU grace period (about 10 ms on this VM); with it (a cgroup2 mount option; since Linux 6.18 it",
        "cannot be switched off again until reboot) it takes well under a millisecond.",
        "",
        "| command | median ms | min ms | ratio to crun | ratio to podman |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, samples, note in rows:
        if samples is None:
            lines.append(f"| {name} | - | - | {note} | |")
            continue
        median = statistics.median(samples)
        to_podman = f"{median / podman_median:.2f}" if podman_median else "-"
        lines.append(
            f"| {name} | {median * 1000:.1f} | {min(samples) * 1000:.1f} | {median / baseline:.2f} | {to_podman} |"
        )
    lines += [
        "",
        "An attached run is supervised by the calling process itself (as `crun run` is): it mounts the",
        "overlay, creates the init through `labcore.runtime` (namespaces, cgroups, mounts), relays output",
        "into the json-file log, records the exit and tears everything down; from its second container on,",
        "a process has a fork server (a small interpreter that clones the inits for it, so the caller never",
        "forks), which clones the next container's init ahead of time; that init runs `labcore-init`, the",
        "container init in C. The command without a server adds the interpreter's start-up and labcore's",
        "imports; with `labcore server` the command is a client (in C, or a Python script without `site`)",
        "that hands its arguments and stdio to a fork of a process that has labcore loaded.",
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
