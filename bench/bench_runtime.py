"""How long labcore.runtime takes to create, start and reap a container running ``true``, next to runc.

Run as root: ``.venv/bin/python bench/bench_runtime.py [ROUNDS]``. Builds a busybox root in a
temporary directory, mounts an overlay over it, and reports per lifecycle the wall time and the
parent's CPU time (labcore's Python-side work in the caller), the CPU time of the reaped
intermediate and init (user + system: Python in the child and the kernel creating namespaces and
mounts), then the wall time of ``runc run`` on the same root with the default ``runc spec``.
"""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from labcore.linux.mount import UmountFlag, mount, umount
from labcore.runtime.process import create
from labcore.runtime.spec import ContainerSpec, ProcessSpec


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def busybox_root(base: Path) -> Path:
    root = base / "lower"
    (root / "bin").mkdir(parents=True)
    shutil.copy2("/bin/busybox", root / "bin" / "busybox")
    for applet in subprocess.run(
        ["/bin/busybox", "--list"], capture_output=True, text=True, check=True
    ).stdout.split():
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    return root


def runc_bundle(base: Path, rootfs: Path) -> Path:
    bundle = base / "bundle"
    bundle.mkdir()
    subprocess.run(["runc", "spec"], cwd=bundle, check=True)
    config = json.loads((bundle / "config.json").read_text())
    config["root"] = {"path": str(rootfs), "readonly": False}
    config["process"]["terminal"] = False
    config["process"]["args"] = ["true"]
    (bundle / "config.json").write_text(json.dumps(config))
    return bundle


def time_runc(bundle: Path, rounds: int) -> list[float]:
    walls = []
    for _ in range(rounds):
        wall = time.perf_counter()
        subprocess.run(["runc", "run", "--bundle", str(bundle), f"bench-{uuid.uuid4().hex[:8]}"], check=True)
        walls.append(time.perf_counter() - wall)
    return walls


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    with tempfile.TemporaryDirectory() as temp:
        base = Path(temp)
        lower = busybox_root(base)
        upper, work, merged = base / "upper", base / "work", base / "merged"
        for directory in (upper, work, merged):
            directory.mkdir()
        mount("overlay", merged, "overlay", 0, f"lowerdir={lower},upperdir={upper},workdir={work}")
        try:
            walls, cpus, child_cpus = [], [], []
            for _ in range(rounds):
                spec = ContainerSpec(f"bench-{uuid.uuid4().hex[:8]}", merged, ProcessSpec(["true"]))
                wall, cpu, child = time.perf_counter(), time.process_time(), _children_cpu()
                init = create(spec, (0, 1, 2))
                init.start()
                init.wait()
                init.cgroup.remove_dirs()
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
                child_cpus.append(_children_cpu() - child)
            runc = time_runc(runc_bundle(base, merged), rounds) if shutil.which("runc") else []
        finally:
            umount(merged, UmountFlag.DETACH)
    results = [("labcore wall", walls), ("labcore parent cpu", cpus), ("labcore child cpu", child_cpus)]
    if runc:
        results.append(("runc run wall", runc))
        print(f"labcore/runc wall ratio (median): {statistics.median(walls) / statistics.median(runc):.2f}")
    for name, values in results:
        print(
            f"{name:>10}: median {statistics.median(values) * 1000:.2f} ms, best {min(values) * 1000:.2f} ms"
        )


if __name__ == "__main__":
    main()
