"""Create and apply a layer of a rootfs with labcore, GNU tar and umoci, side by side.

    .venv/bin/python bench/bench_layers.py [TREE] [--runs N] [--workdir DIR] [--write]

TREE is the directory to turn into a layer. By default it is a Debian rootfs cached under
/var/cache/labcore/: a directory there holding etc/debian_version, or else a rootfs tarball
there (``*.tar``, e.g. the debootstrap cache), unpacked once into the work dir; when neither
exists, /usr stands in. Every run times, on the same uncompressed layer:

* create: labcore ``tree_to_layer`` vs ``tar --xattrs --numeric-owner -cf``;
* apply: labcore ``apply_layer`` vs ``tar --xattrs -xf`` vs ``umoci unpack`` (umoci stores the
  layer gzip-compressed, so labcore also applies that same gzip blob for a fair pair).

labcore computes the layer's sha256 (the diff_id) while it works and tar does not, so each tar
figure also has a "+digest" twin: the same tar with ``sha256sum`` in the pipeline.

Wall time and CPU time (user+sys of this process or of the child) are measured; the medians of N
runs and the ratios labcore/peer are printed, and written to bench/RESULTS-layers.md with
``--write``.
Needs root (owners, device nodes, umoci unpack).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from labcore.fs.apply import apply_layer
from labcore.fs.compression import open_decompressed
from labcore.fs.diff import tree_to_layer

RESULTS = Path(__file__).resolve().parent / "RESULTS-layers.md"
CACHE = Path("/var/cache/labcore")


def find_default_tree(workdir: Path) -> tuple[Path, str]:
    """A cached Debian rootfs (directory or tarball) or /usr, and a description of it."""
    if CACHE.is_dir():
        for candidate in sorted(CACHE.glob("*")) + sorted(CACHE.glob("*/*")):
            if (candidate / "etc/debian_version").is_file():
                return candidate, f"Debian rootfs {candidate}"
        for tarball in sorted(CACHE.glob("**/*.tar")):
            target = workdir / "rootfs"
            target.mkdir()
            subprocess.run(["tar", "--numeric-owner", "-xpf", str(tarball), "-C", str(target)], check=True)
            if (target / "etc/debian_version").is_file():
                return target, f"Debian rootfs unpacked from {tarball}"
            shutil.rmtree(target)
    return Path("/usr"), "/usr (stand-in: no Debian rootfs cached under /var/cache/labcore)"


def tree_size(tree: Path) -> tuple[int, int]:
    """(bytes of regular files, number of entries) below ``tree``."""
    total, count = 0, 0
    for dirpath, dirnames, filenames in os.walk(tree):
        count += len(dirnames) + len(filenames)
        for name in filenames:
            st = os.lstat(os.path.join(dirpath, name))
            if not os.path.islink(os.path.join(dirpath, name)):
                total += st.st_size
    return total, count


def cell(text: str) -> str:
    """``text`` safe inside a markdown table cell."""
    return text.replace("|", "\\|")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(action: Callable[[], object], *, child: bool) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``action``; CPU of children when ``child``."""
    os.sync()  # start each measurement without the previous one's writeback pending
    cpu_before = children_cpu() if child else time.process_time()
    start = time.perf_counter()
    action()
    wall = time.perf_counter() - start
    cpu = (children_cpu() if child else time.process_time()) - cpu_before
    return wall, cpu


def run(command: list[str]) -> Callable[[], object]:
    return lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir()
    return path


def umoci_blob(layout: Path) -> Path:
    """The gzip layer blob umoci stored for the image ``bench``."""
    index = json.loads((layout / "index.json").read_text())
    manifest_digest = index["manifests"][-1]["digest"].split(":")[1]
    manifest = json.loads((layout / "blobs/sha256" / manifest_digest).read_text())
    return layout / "blobs/sha256" / manifest["layers"][-1]["digest"].split(":")[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tree", nargs="?", type=Path, help="directory to layer (default: cached Debian rootfs)")
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median is reported)")
    parser.add_argument("--workdir", type=Path, default=Path("/var/tmp"), help="where layers and copies go")
    parser.add_argument("--write", action="store_true", help=f"write the results to {RESULTS}")
    args = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("run as root: layers carry owners and devices, and umoci unpack needs root")
    work = Path(tempfile.mkdtemp(prefix="labcore-bench-layers-", dir=args.workdir))
    try:
        tree, description = (args.tree, str(args.tree)) if args.tree else find_default_tree(work)
        size, entries = tree_size(tree)
        print(f"tree: {description}: {size / 1e6:.0f} MB in {entries} entries; {args.runs} runs; work dir {work}")
        layer, gnu_layer = work / "labcore.tar", work / "gnu.tar"
        layout = work / "layout"

        def create() -> None:
            with layer.open("wb") as out:
                tree_to_layer(tree, out)

        create()
        subprocess.run(["umoci", "init", "--layout", str(layout)], check=True)
        subprocess.run(["umoci", "new", "--image", f"{layout}:bench"], check=True)
        subprocess.run(["umoci", "raw", "add-layer", "--image", f"{layout}:bench", str(layer)], check=True)
        gzip_blob = umoci_blob(layout)

        def apply_plain() -> None:
            with layer.open("rb") as stream:
                apply_layer(stream, work / "x-labcore")

        def apply_gzip() -> None:
            with gzip_blob.open("rb") as blob, open_decompressed(blob) as stream:
                apply_layer(stream, work / "x-labcore-gz")

        measurements: dict[str, tuple[Callable[[], object], bool, str | None]] = {
            "create: labcore tree_to_layer": (create, False, None),
            "create: tar -c": (
                run(["tar", "--xattrs", "--numeric-owner", "-C", str(tree), "-cf", str(gnu_layer), "."]),
                True,
                None,
            ),
            "create+digest: tar -c | sha256sum": (
                run(
                    ["bash", "-c", f"tar --xattrs --numeric-owner -C '{tree}' -cf - . | tee '{gnu_layer}' | sha256sum"]
                ),
                True,
                None,
            ),
            "apply: labcore apply_layer": (apply_plain, False, "x-labcore"),
            "apply: tar -x": (
                run(
                    [
                        "tar",
                        "--xattrs",
                        "--xattrs-include=*",
                        "--numeric-owner",
                        "-xpf",
                        str(layer),
                        "-C",
                        str(work / "x-tar"),
                    ]
                ),
                True,
                "x-tar",
            ),
            "apply+digest: tee >(sha256sum) | tar -x": (
                run(
                    [
                        "bash",
                        "-c",
                        f"tee >(sha256sum >/dev/null) < '{layer}' | "
                        f"tar --xattrs --xattrs-include='*' --numeric-owner -xpf - -C '{work / 'x-tar-sum'}'",
                    ]
                ),
                True,
                "x-tar-sum",
            ),
            "apply gzip: labcore apply_layer": (apply_gzip, False, "x-labcore-gz"),
            "apply gzip: umoci unpack": (
                run(["umoci", "unpack", "--image", f"{layout}:bench", str(work / "x-umoci")]),
                True,
                None,
            ),
        }
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in measurements}
        for number in range(args.runs):
            for name, (action, child, target) in measurements.items():
                if target is not None:
                    fresh(work / target)
                if name.endswith("umoci unpack") and (work / "x-umoci").exists():
                    shutil.rmtree(work / "x-umoci")
                samples[name].append(timed(action, child=child))
            print(f"run {number + 1}/{args.runs} done", file=sys.stderr)
        medians = {
            name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
            for name, values in samples.items()
        }
        pairs = [
            ("create: labcore tree_to_layer", "create: tar -c"),
            ("create: labcore tree_to_layer", "create+digest: tar -c | sha256sum"),
            ("apply: labcore apply_layer", "apply: tar -x"),
            ("apply: labcore apply_layer", "apply+digest: tee >(sha256sum) | tar -x"),
            ("apply gzip: labcore apply_layer", "apply gzip: umoci unpack"),
        ]
        lines = [
            "| measurement | wall s (median) | CPU s (median) |",
            "|---|---:|---:|",
            *(f"| {cell(name)} | {wall:.3f} | {cpu:.3f} |" for name, (wall, cpu) in medians.items()),
            "",
            "| ratio labcore / peer | wall | CPU |",
            "|---|---:|---:|",
            *(
                f"| {ours.split(':')[0]}: labcore / {cell(peer.split(': ', 1)[1])} | "
                f"{medians[ours][0] / medians[peer][0]:.2f} | {medians[ours][1] / medians[peer][1]:.2f} |"
                for ours, peer in pairs
            ),
        ]
        print("\n".join(lines))
        if args.write:
            write_results(lines, description, size, entries, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def write_results(lines: list[str], description: str, size: int, entries: int, runs: int) -> None:
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    command = "sudo .venv/bin/python bench/bench_layers.py " + " ".join(sys.argv[1:])
    tar_version = subprocess.run(["tar", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    umoci_version = subprocess.run(["umoci", "--version"], capture_output=True, text=True).stdout.split()[-1]
    RESULTS.write_text(
        "\n".join(
            [
                "## Layers",
                "",
                f"Command: `{command.strip()}`  ",
                f"Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC  ",
                f"Machine: {cpu_model}, {os.cpu_count()} CPUs, Linux {platform.release()}, "
                f"Python {platform.python_version()}, {tar_version}, umoci {umoci_version}  ",
                f"Tree: {description}: {size / 1e6:.0f} MB of file data in {entries} entries; median of {runs} runs, "
                "page cache warm, `sync` before each measurement.",
                "",
                *lines,
                "",
            ]
        )
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    raise SystemExit(main())
