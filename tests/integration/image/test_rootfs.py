"""Snapshots and overlay rootfs mounts on the real kernel (root: mknod, trusted xattrs, mount)."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from labcore.digest import Digest
from labcore.errors import DigestError
from labcore.fs.compression import Compression
from labcore.image.gc import GcContribution, Roots, system_prune
from labcore.image.rootfs import flatten, mount_rootfs
from labcore.image.snapshots import SnapshotStore
from labcore.image.store import Store
from tests.unit.image.builders import EXPECTED_LAYERED as EXPECTED
from tests.unit.image.builders import LAYERED_BASE as BASE
from tests.unit.image.builders import LAYERED_TOP as TOP
from tests.unit.image.builders import directory, file, put_image, tree, whiteout

pytestmark = [pytest.mark.root, pytest.mark.integration]

OTHER = [directory("other"), file("other/o", "o")]


def test_snapshots_are_shared_between_images(labcore_root: Path) -> None:
    store, snapshots = Store(), SnapshotStore()
    first = put_image(store, [BASE, TOP], ["first"])
    second = put_image(store, [BASE, OTHER], ["second"])
    first_paths = snapshots.prepare(first, store)
    base_inode = first_paths[0].stat().st_ino
    second_paths = snapshots.prepare(second, store)
    assert first_paths[0] == second_paths[0] == snapshots.path(first.chain_ids[0])
    assert second_paths[0].stat().st_ino == base_inode  # not unpacked again
    assert len(snapshots.chain_ids()) == 3
    assert first_paths[0].name == first.diff_ids[0].encoded  # ChainID(L0) = DiffID(L0)


def test_snapshot_keeps_whiteouts_in_overlay_form(labcore_root: Path) -> None:
    store, snapshots = Store(), SnapshotStore()
    image = put_image(store, [BASE, TOP], ["layered"])
    top = snapshots.prepare(image, store)[1]
    whiteout_stat = os.lstat(top / "etc" / "a")
    assert stat.S_ISCHR(whiteout_stat.st_mode) and whiteout_stat.st_rdev == 0
    assert os.getxattr(top / "data", "trusted.overlay.opaque") == b"y"
    assert not (top / "etc" / ".wh.a").exists()


def test_rootfs_mount_shows_the_layered_result(labcore_root: Path, tmp_path: Path) -> None:
    store = Store()
    image = put_image(store, [BASE, TOP], ["layered"])
    mounted = mount_rootfs(image, tmp_path / "container", store=store)
    try:
        assert tree(mounted.merged) == EXPECTED
        (mounted.merged / "etc" / "new").write_text("written")
        (mounted.merged / "etc" / "b").unlink()
        assert (mounted.upper / "etc" / "new").read_text() == "written"
        # the shared snapshot is untouched
        assert (SnapshotStore().path(image.chain_ids[0]) / "etc" / "b").read_text() == "B"
    finally:
        mounted.unmount()
    assert not os.path.ismount(mounted.merged)
    mounted.unmount()  # harmless twice


def test_flatten_matches_the_mount(labcore_root: Path, tmp_path: Path) -> None:
    store = Store()
    image = put_image(store, [BASE, TOP], ["layered"])
    flatten(image, tmp_path / "flat", store=store)
    assert tree(tmp_path / "flat") == EXPECTED


def test_a_diff_id_mismatch_is_refused_and_leaves_nothing(labcore_root: Path, tmp_path: Path) -> None:
    store, snapshots = Store(), SnapshotStore()
    wrong = Digest.of_bytes(b"not this layer")
    image = put_image(store, [BASE], ["liar"], diff_ids=[wrong])
    with pytest.raises(DigestError, match=str(wrong)):
        snapshots.prepare(image, store)
    assert list(snapshots.root.iterdir()) == [snapshots.root / ".lock"]
    with pytest.raises(DigestError):
        flatten(image, tmp_path / "flat", store=store)
    assert not (tmp_path / "flat").exists()


def test_rmi_and_prune_free_blobs_and_snapshots(labcore_root: Path) -> None:
    store, snapshots = Store(), SnapshotStore()
    kept = put_image(store, [BASE], ["kept"])
    removed = put_image(store, [BASE, TOP], ["removed"])
    snapshots.prepare(removed, store)
    store.remove_image("removed")
    results = {result.kind: result for result in system_prune(store=store, snapshots=snapshots)}
    assert results["snapshots"].removed == (str(removed.chain_ids[1]),)
    assert results["snapshots"].freed > 0 and results["blobs"].freed > 0
    assert snapshots.chain_ids() == [kept.chain_ids[0]]
    assert not store.has_blob(removed.layers[1].digest)


def test_contributed_roots_survive_prune(labcore_root: Path) -> None:
    store, snapshots = Store(), SnapshotStore()
    image = put_image(store, [BASE, TOP], ["in-use"])
    snapshots.prepare(image, store)
    store.remove_image("in-use")
    in_use = GcContribution(
        "containers",
        roots=lambda: Roots(blobs=frozenset({image.layers[1].digest}), chain_ids=frozenset(image.chain_ids)),
    )
    system_prune([in_use], store=store, snapshots=snapshots)
    assert snapshots.chain_ids() == sorted(image.chain_ids)
    assert store.has_blob(image.layers[1].digest)
    assert not store.has_blob(image.layers[0].digest)


def test_a_tampered_layer_blob_is_refused(labcore_root: Path) -> None:
    store, snapshots = Store(), SnapshotStore()
    image = put_image(store, [BASE], ["tampered"], compression=Compression.NONE)
    path = store.blob_path(image.layers[0].digest)
    data = bytearray(path.read_bytes())
    data[-1] ^= 1  # inside the tar's zero padding: the tar still reads, the digest does not match
    path.write_bytes(bytes(data))
    with pytest.raises(DigestError):
        snapshots.prepare(image, store)
    assert snapshots.chain_ids() == []


def _prepare(name: str) -> None:
    store = Store()
    SnapshotStore().prepare(store.resolve(name), store)


def test_two_processes_unpacking_the_same_image_share_one_snapshot(labcore_root: Path) -> None:
    store = Store()
    image = put_image(store, [BASE, TOP], ["shared"])
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_prepare, args=("shared",)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    snapshots = SnapshotStore()
    assert snapshots.chain_ids() == sorted(image.chain_ids)
    assert [entry.name for entry in snapshots.root.iterdir() if entry.name.startswith(".unpack-")] == []


def test_a_directory_deleted_and_recreated_in_one_layer_hides_the_old_contents(
    labcore_root: Path, tmp_path: Path
) -> None:
    store = Store()
    lower = [directory("conf"), file("conf/old", "old")]
    upper = [whiteout("conf"), directory("conf"), file("conf/new", "new")]
    image = put_image(store, [lower, upper], ["recreated"])
    flatten(image, tmp_path / "flat", store=store)
    expected = {"conf": "<dir>", "conf/new": "new"}
    assert tree(tmp_path / "flat") == expected
    with mount_rootfs(image, tmp_path / "container", store=store) as mounted:
        assert tree(mounted.merged) == expected
