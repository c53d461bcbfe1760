"""The image commands, run through labcore's real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labcore.cli.main import main
from labcore.image.store import Store
from tests.unit.image.builders import directory, file, put_image


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_import_images_tag_history_inspect(
    labcore_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    (rootfs / "etc" / "motd").write_text("hello\n")
    status, out, _ = run(
        capsys, "import", str(rootfs), "lab/motd:1", "--change", "CMD cat /etc/motd", "-m", "hi"
    )
    assert status == 0
    image_id = out.strip()
    assert image_id.startswith("sha256:")

    assert run(capsys, "tag", "lab/motd:1", "localhost:5000/motd")[0] == 0
    status, out, _ = run(capsys, "images")
    lines = out.splitlines()
    assert lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    rows = sorted(line.split()[:3] for line in lines[1:])
    assert rows == [["lab/motd", "1", image_id[7:19]], ["localhost:5000/motd", "latest", image_id[7:19]]]

    status, out, _ = run(capsys, "images", "-q", "--no-trunc")
    assert out.split() == [image_id, image_id]

    status, out, _ = run(capsys, "history", "lab/motd:1")
    assert status == 0
    assert "labcore import" in out and out.splitlines()[1].startswith(image_id[7:19])

    status, out, _ = run(capsys, "inspect", "localhost:5000/motd")
    [document] = json.loads(out)
    assert document["Id"] == image_id
    assert sorted(document["RepoTags"]) == ["lab/motd:1", "localhost:5000/motd:latest"]
    assert document["Config"]["Cmd"] == ["/bin/sh", "-c", "cat /etc/motd"]
    assert document["Manifest"]["layers"][0]["digest"] == str(Store().resolve("lab/motd:1").layers[0].digest)
    assert document["RootFS"]["Layers"] == [str(Store().resolve("lab/motd:1").diff_ids[0])]


def test_rmi_prune_and_df(labcore_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store()
    put_image(store, [[directory("etc"), file("etc/a", "a" * 1000)]], ["one"])
    status, out, _ = run(capsys, "system", "df")
    assert status == 0
    images_row = next(line for line in out.splitlines() if line.startswith("Images"))
    assert images_row.split()[1:3] == ["1", "0"]
    assert images_row.endswith("0B (0%)")

    status, out, _ = run(capsys, "rmi", "one")
    assert (status, out) == (0, "Untagged: one:latest\n")
    status, out, _ = run(capsys, "system", "prune", "-f")
    assert status == 0
    assert "Total reclaimed space: 0B" not in out
    assert list((store.root / "blobs" / "sha256").iterdir()) == []


def test_errors_are_reported_with_a_hint(labcore_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "inspect", "nothing:here")
    assert status == 1
    assert "no such image: nothing:here" in err
    assert "hint:" in err
    status, _, err = run(capsys, "tag", "nothing", "Bad")
    assert status == 1 and "no such image" in err
