import pytest

import labcore.container as containers
from labcore.runtime import volumes
from labcore.runtime.mountspec import MountSpecError
from labcore.runtime.volumes import VolumeInUseError

pytestmark = [pytest.mark.root, pytest.mark.integration]


def test_bind_mount_rw_and_ro(busybox, tmp_path):
    host = tmp_path / "shared"
    host.mkdir()
    (host / "in").write_text("from host")
    result = containers.run(busybox, ["sh", "-c", "cat /s/in; echo back > /s/out"], volumes=[f"{host}:/s"], remove=True)
    assert result.stdout == "from host"
    assert (host / "out").read_text() == "back\n"
    readonly = containers.run(busybox, ["sh", "-c", "echo x > /s/out2"], volumes=[f"{host}:/s:ro"], remove=True)
    assert readonly.exit_code != 0 and "Read-only file system" in readonly.stderr
    assert not (host / "out2").exists()


def test_v_creates_missing_host_dir_but_mount_refuses(busybox, tmp_path):
    created = tmp_path / "new" / "dir"
    assert containers.run(busybox, ["true"], volumes=[f"{created}:/n"], remove=True).exit_code == 0
    assert created.is_dir()
    missing = tmp_path / "missing"
    with pytest.raises(MountSpecError, match=f"bind source path does not exist: {missing}"):
        containers.run(busybox, ["true"], mounts=[f"type=bind,source={missing},target=/m"])


def test_named_volume_outlives_container_but_layer_does_not(busybox):
    script = "echo kept > /data/file; echo lost > /root-file"
    assert containers.run(busybox, ["sh", "-c", script], volumes=["keep:/data"], remove=True).exit_code == 0
    again = containers.run(busybox, ["sh", "-c", "cat /data/file; ls /root-file"], volumes=["keep:/data"], remove=True)
    assert again.stdout == "kept\n"
    assert "No such file" in again.stderr
    assert (volumes.get_volume("keep").data / "file").read_text() == "kept\n"


def test_empty_volume_is_filled_from_image(busybox):
    result = containers.run(busybox, ["ls", "/etc"], volumes=["etcvol:/etc"], remove=True)
    assert "passwd" in result.stdout.split()
    assert (volumes.get_volume("etcvol").data / "passwd").is_file()
    bare = "type=volume,source=bare,target=/etc,volume-nocopy"
    nocopy = containers.run(busybox, ["ls", "/etc"], mounts=[bare], remove=True)
    assert nocopy.stdout == ""


def test_volume_in_use_cannot_be_removed(busybox):
    container = containers.create(busybox, ["true"], volumes=["busy:/b"])
    with pytest.raises(VolumeInUseError, match=container.short_id):
        volumes.remove_volume("busy")
    containers.remove(container)
    volumes.remove_volume("busy")
    assert volumes.list_volumes() == []


def test_anonymous_volume_removed_with_rm_flag(busybox):
    assert containers.run(busybox, ["true"], volumes=["/anon"], remove=True).exit_code == 0
    assert volumes.list_volumes() == []


def test_tmpfs_size_and_mode(busybox):
    result = containers.run(
        busybox,
        ["sh", "-c", "stat -c %a /t /m; df -k /t /m | tail -2"],
        tmpfs=["/t:size=1m,mode=1770"],
        mounts=["type=tmpfs,target=/m,tmpfs-size=2m"],
        remove=True,
    )
    lines = result.stdout.split("\n")
    assert lines[0] == "1770"
    assert lines[2].split()[1] == "1024" and lines[3].split()[1] == "2048"


def test_duplicate_mount_points_are_refused(busybox):
    with pytest.raises(MountSpecError, match="duplicate mount point /x"):
        containers.create(busybox, ["true"], volumes=["a:/x"], tmpfs=["/x"])
