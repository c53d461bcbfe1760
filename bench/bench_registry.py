"""Push and pull one image to/from a local docker-registry with labcore and with `skopeo copy`.

    .venv/bin/python bench/bench_registry.py [--store PATH] [--image NAME] [--runs N]

The image is debian:bookworm when the store (``--store``, default the lab's) has it, else the
largest image there; with no store or an empty one, a synthetic image (4 layers of 16 MiB random
data) is made in a temporary store. Every run starts from an empty registry (pushes) or an empty
local store/layout (pulls), so each figure is a cold transfer. Medians go to
bench/RESULTS-registry.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from labcore.config import settings
from labcore.image import mediatypes
from labcore.image.descriptor import Descriptor
from labcore.image.imageconfig import ImageConfig
from labcore.image.manifest import Manifest
from labcore.image.record import ImageRecord
from labcore.image.store import Store
from labcore.registry.pull import pull_image
from labcore.registry.push import push_image
from tests.registry_support import RegistryServer, free_port, write_config

RESULTS = Path(__file__).resolve().parent / "RESULTS-registry.md"


def synthetic_image(store: Store, layers: int = 4, mib: int = 16) -> ImageRecord:
    """An image of ``layers`` tar layers, each holding ``mib`` MiB of random bytes."""
    descriptors, diff_ids = [], []
    for number in range(layers):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            payload = os.urandom(mib << 20)
            info = tarfile.TarInfo(f"data/layer{number}.bin")
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
        descriptor = store.put_bytes(buffer.getvalue(), mediatypes.OCI_LAYER)
        descriptors.append(descriptor)
        diff_ids.append(str(descriptor.digest))
    rootfs = {"type": "layers", "diff_ids": diff_ids}
    config = ImageConfig.from_json(
        json.dumps({"architecture": "amd64", "os": "linux", "config": {}, "rootfs": rootfs}).encode()
    )
    config_descriptor = store.put_json(config)
    manifest = Manifest(config=config_descriptor, layers=tuple(descriptors))
    manifest_descriptor = store.put_json(manifest)
    return store.add_image(
        Descriptor(mediatypes.OCI_MANIFEST, manifest_descriptor.digest, manifest_descriptor.size),
        ["bench/synthetic:latest"],
    )[0]


def choose_image(store: Store, wanted: str | None) -> ImageRecord | None:
    if wanted:
        return store.resolve(wanted)
    images = [image for image in store.images() if image.name is not None]
    for image in images:
        if image.name is not None and image.name.familiar_name == "debian":
            return image
    return max(images, key=lambda image: image.size, default=None)


class FreshRegistry:
    """One docker-registry process whose storage is wiped before every run."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True)
        port = free_port()
        config = write_config(directory, port)
        self.server = RegistryServer(f"127.0.0.1:{port}", directory / "storage", config)

    def reset(self) -> None:
        self.server.stop()
        shutil.rmtree(self.server.storage, ignore_errors=True)
        self.server.start()


def timed(prepare: Callable[[], None], action: Callable[[], None], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        prepare()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="an image store (OCI layout); default: settings().store")
    parser.add_argument("--image", help="image name in that store")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-registry-"))
    registry: FreshRegistry | None = None
    try:
        source = args.store or settings().store
        store = Store(source) if (source / "index.json").is_file() else None
        image = choose_image(store, args.image) if store is not None else None
        if image is None or store is None:
            store = Store(work / "source-store")
            image = synthetic_image(store)
        assert image.name is not None
        local_name = str(image.name)
        registry = FreshRegistry(work / "registry")
        host = registry.server.host
        target = f"{host}/bench/image:1"

        def clear_pull_dirs() -> None:
            shutil.rmtree(work / "pull-store", ignore_errors=True)
            shutil.rmtree(work / "pull-layout", ignore_errors=True)

        results = {
            "push labcore": timed(
                registry.reset, lambda: push_image(local_name, target, store=store), args.runs),
            "push skopeo": timed(registry.reset, lambda: subprocess.run(
                ["skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci:{store.root}:{local_name}",
                 f"docker://{target}"], check=True), args.runs),
        }
        push_image(local_name, target, store=store)
        results["pull labcore"] = timed(
            clear_pull_dirs, lambda: pull_image(target, store=Store(work / "pull-store")), args.runs)
        results["pull skopeo"] = timed(clear_pull_dirs, lambda: subprocess.run(
            ["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{target}",
             f"oci:{work / 'pull-layout'}:image"], check=True), args.runs)
        medians = {name: statistics.median(times) for name, times in results.items()}
        lines = [
            "# Registry transfers: labcore vs skopeo copy",
            "",
            f"Command: `.venv/bin/python bench/bench_registry.py {' '.join(sys.argv[1:])}`".rstrip(),
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"{subprocess.run(['skopeo', '--version'], capture_output=True, text=True).stdout.strip()}",
            f"Image: `{local_name}`, {image.size / 1e6:.1f} MB in {len(image.layers)} layer(s); "
            f"registry: docker-registry on loopback, emptied before every push; {args.runs} runs, medians.",
            "",
            "| operation | labcore (s) | skopeo (s) | labcore / skopeo |",
            "|---|---|---|---|",
        ]
        for operation in ("push", "pull"):
            ours, theirs = medians[f"{operation} labcore"], medians[f"{operation} skopeo"]
            lines.append(f"| {operation} | {ours:.3f} | {theirs:.3f} | {ours / theirs:.2f} |")
        RESULTS.write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
    finally:
        if registry is not None:
            registry.server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
