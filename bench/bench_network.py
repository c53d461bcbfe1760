"""The added cost of networking: a netns on a bridge versus none, and container start, next to podman.

Run as root: ``.venv/bin/python bench/bench_network.py [ROUNDS]`` (default 30). It measures, in a
private LABCORE_ROOT:

1. namespace level: create + remove a named netns alone ("none"), and with ``attach`` to the
   default bridge + ``detach`` in between ("bridge"); the attach and detach times on their own;
2. runtime start: labcore's runtime creating, starting and reaping a busybox container running
   ``true`` in a new empty netns ("none"), and in a netns prepared and attached to the bridge
   ("bridge", netns creation, attach, run, detach and netns removal included);
3. engine start: ``labcore.container.run("busybox", ["true"], remove=True, network=...)``, the
   whole ``labcore run --rm`` path (supervisor, overlay, sandbox, teardown) with none and bridge;
4. ``podman run --rm`` of the same busybox root (imported as an image) with ``--network none``
   and with podman's default bridge network, when podman is installed.

Prints a Markdown table of medians and the ratios, as in ``bench/RESULTS-network.md``.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from labcore.linux.mount import UmountFlag, mount, umount
from labcore.runtime import network
from labcore.runtime.network import links
from labcore.runtime.network.netns import NETNS_DIR
from labcore.runtime.process import create
from labcore.runtime.spec import ContainerSpec, ProcessSpec

# crun refuses hybrid cgroup hosts, so podman uses runc here
PODMAN_GLOBAL = ["--cgroup-manager", "cgroupfs", "--events-backend", "file", "--runtime", "runc"]
PODMAN_RUN = ["--rm", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"]
PODMAN_IMAGE = "localhost/labcore-bench-busybox:latest"


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(rounds: int, action: Callable[[int], None]) -> list[float]:
    samples = []
    for number in range(rounds):
        start = time.perf_counter()
        action(number)
        samples.append(time.perf_counter() - start)
    return samples


def busybox_root(base: Path) -> Path:
    root = base / "lower"
    (root / "bin").mkdir(parents=True)
    (root / "etc").mkdir()
    shutil.copy2("/bin/busybox", root / "bin" / "busybox")
    for applet in ("sh", "true"):
        (root / "bin" / applet).symlink_to("busybox")
    return root


def netns_rounds(rounds: int) -> dict[str, list[float]]:
    attach_times: list[float] = []
    detach_times: list[float] = []

    def none(number: int) -> None:
        name = f"lcbench{os.getpid()}n{number}"
        network.create_netns(name)
        network.remove_netns(name)

    def bridge(number: int) -> None:
        name = f"lcbench{os.getpid()}b{number}"
        path = network.create_netns(name)
        container = uuid.uuid4().hex
        start = time.perf_counter()
        network.attach("bridge", container, path)
        middle = time.perf_counter()
        network.cleanup(container)
        attach_times.append(middle - start)
        detach_times.append(time.perf_counter() - middle)
        network.remove_netns(name)

    network.ensure_default_network()  # the bridge exists before timing, as on a running host
    return {
        "netns none": timed(rounds, none),
        "netns bridge": timed(rounds, bridge),
        "attach": attach_times,
        "detach": detach_times,
    }


def run_container(rootfs: Path, netns_path: str | None) -> None:
    spec = ContainerSpec(f"bench-{uuid.uuid4().hex[:8]}", rootfs, ProcessSpec(["true"]), netns_path=netns_path)
    init = create(spec, (0, 1, 2))
    try:
        init.start()
        init.wait()
    finally:
        init.destroy()


def container_rounds(rootfs: Path, rounds: int) -> dict[str, list[float]]:
    def none(_: int) -> None:
        run_container(rootfs, None)

    def bridge(number: int) -> None:
        name = f"lcbench{os.getpid()}c{number}"
        path = network.create_netns(name)
        container = uuid.uuid4().hex
        try:
            network.attach("bridge", container, path)
            run_container(rootfs, path)
        finally:
            network.cleanup(container)
            network.remove_netns(name)

    return {"labcore none": timed(rounds, none), "labcore bridge": timed(rounds, bridge)}


def engine_rounds(rounds: int) -> dict[str, list[float]]:
    """``labcore.container.run(busybox, ["true"], remove=True)`` with network none and bridge."""
    from labcore import container as containers
    from labcore.image.base.images import busybox_image
    from labcore.image.snapshots import SnapshotStore

    SnapshotStore().prepare(busybox_image())

    def run(mode: str) -> Callable[[int], None]:
        def action(_: int) -> None:
            result = containers.run("busybox", ["true"], remove=True, network=mode)
            assert getattr(result, "exit_code", 1) == 0, result

        return action

    run("bridge")(0)  # warm up: the default bridge exists before timing
    return {"engine none": timed(rounds, run("none")), "engine bridge": timed(rounds, run("bridge"))}


def nft_tables() -> set[str]:
    listing = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True).stdout
    return {line.strip() for line in listing.splitlines() if line.startswith("table ")}


def podman_rounds(lower: Path, rounds: int) -> dict[str, list[float]]:
    podman = shutil.which("podman")
    if podman is None:
        return {}
    # podman's netavark leaves its iptables-nft tables and ip_forward=1 behind: put the host back
    # (and, when a run fails, its bridge, veth and netns): put the host back as it was
    tables_before = nft_tables()
    links_before = set(os.listdir("/sys/class/net"))
    netns_before = set(os.listdir(NETNS_DIR))
    forward = Path("/proc/sys/net/ipv4/ip_forward")
    forward_before = forward.read_text()
    try:
        return _podman_rounds(podman, lower, rounds)
    finally:
        for table in sorted(nft_tables() - tables_before):
            subprocess.run(["nft", f"delete {table}"], check=False)
        for name in sorted(set(os.listdir(NETNS_DIR)) - netns_before):
            network.remove_netns(name)
        for name in sorted(set(os.listdir("/sys/class/net")) - links_before):
            links.delete_link(name)
        forward.write_text(forward_before)


def _podman_rounds(podman: str, lower: Path, rounds: int) -> dict[str, list[float]]:
    tar = subprocess.run(["tar", "-C", str(lower), "-c", "."], capture_output=True, check=True).stdout
    subprocess.run([podman, *PODMAN_GLOBAL, "import", "-", PODMAN_IMAGE], input=tar, capture_output=True, check=True)

    def run(extra: list[str]) -> Callable[[int], None]:
        def action(_: int) -> None:
            # podman 4.3 now and then loses a --rm container's exit code ("no such exit code"):
            # such a run is retried, and counted
            for _attempt in range(3):
                if subprocess.run(command).returncode == 0:
                    return
                failures.append(1)
            raise RuntimeError(f"podman failed three times: {command}")

        command = [podman, *PODMAN_GLOBAL, "run", *PODMAN_RUN, *extra, PODMAN_IMAGE, "true"]

        return action

    failures: list[int] = []
    run([])(0)  # warm up: podman creates its default network on first use
    results = {
        "podman none": timed(rounds, run(["--network", "none"])),
        "podman bridge": timed(rounds, run([])),
    }
    subprocess.run([podman, *PODMAN_GLOBAL, "rmi", PODMAN_IMAGE], capture_output=True, check=False)
    results["podman retries"] = [float(len(failures))]
    return results


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    with tempfile.TemporaryDirectory() as temp:
        base = Path(temp)
        os.environ["LABCORE_ROOT"] = str(base / "labcore")
        lower = busybox_root(base)
        upper, work, merged = base / "upper", base / "work", base / "merged"
        for directory in (upper, work, merged):
            directory.mkdir()
        mount("overlay", merged, "overlay", 0, f"lowerdir={lower},upperdir={upper},workdir={work}")
        try:
            results = netns_rounds(rounds)
            results.update(container_rounds(merged, rounds))
            results.update(engine_rounds(rounds))
        finally:
            umount(merged, UmountFlag.DETACH)
            network.prune_networks(include_default=True)
        results.update(podman_rounds(lower, rounds))
    retries = int(results.pop("podman retries", [0.0])[0])
    m = {name: median_ms(samples) for name, samples in results.items()}
    print(f"Command: `.venv/bin/python bench/bench_network.py {rounds}`  ")
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"kernel {platform.release()}; {rounds} rounds, medians in ms.\n"
    )
    print("| what | none (ms) | bridge (ms) | added by networking (ms) | bridge / none |")
    print("|---|---|---|---|---|")
    for label, prefix in (
        ("netns create+remove", "netns"),
        ("labcore runtime start", "labcore"),
        ("labcore run --rm (engine)", "engine"),
        ("podman run --rm", "podman"),
    ):
        if f"{prefix} none" in m:
            none, bridge = m[f"{prefix} none"], m[f"{prefix} bridge"]
            print(f"| {label} | {none:.1f} | {bridge:.1f} | {bridge - none:.1f} | {bridge / none:.2f} |")
    print(f"\nattach alone: {m['attach']:.1f} ms, detach (cleanup) alone: {m['detach']:.1f} ms")
    if "podman none" in m:
        print(
            f"\nlabcore run / podman run with a bridge network: {m['engine bridge'] / m['podman bridge']:.2f}; "
            f"without: {m['engine none'] / m['podman none']:.2f} "
            f"(podman runs retried after podman's own 'no such exit code' failure: {retries})"
        )


if __name__ == "__main__":
    main()
