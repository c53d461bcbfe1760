from labcore.container.record import ContainerRecord, MountRecord
from labcore.container.specbuild import build_spec, runtime_mount
from labcore.container.state import ContainerPaths
from labcore.linux.namespaces import Namespace
from labcore.runtime.spec import MountSpec


def _record(**changes):
    values = dict(
        id="f" * 64, name="web", created="2024-01-01T00:00:00.000000Z", image="busybox", image_id="sha256:" + "a" * 64,
        entrypoint=["/entry"], cmd=["arg"], env=["PATH=/bin"], workdir="/srv", user="33", uid=33, gid=33,
        additional_gids=[10], hostname="box", memory=64 << 20, pids_limit=50, nano_cpus=500_000_000,
        mounts=[MountRecord("bind", "/h", "/c", rw=False), MountRecord("tmpfs", "", "/t", options=["size=1024"])],
    )  # fmt: skip
    values.update(changes)
    return ContainerRecord(**values)


def test_record_json_round_trip():
    record = _record()
    assert ContainerRecord.from_json(record.to_json()) == record
    assert record.args == ["/entry", "arg"]


def test_spec_carries_process_limits_and_mounts(labcore_root):
    record = _record()
    spec = build_spec(record, ContainerPaths.of(record.id))
    assert spec.process.args == ["/entry", "arg"] and spec.process.cwd == "/srv"
    assert (spec.process.user.uid, spec.process.user.gid, spec.process.user.additional_gids) == (33, 33, (10,))
    assert spec.resources.memory == 64 << 20 and spec.resources.pids == 50
    assert spec.resources.cpu_quota == 50_000 and spec.resources.cpu_period == 100_000
    assert Namespace.NET in spec.namespaces and spec.netns_path is None
    assert spec.mounts == (
        MountSpec("/c", "bind", "/h", ("rbind", "ro")),
        MountSpec("/t", "tmpfs", "tmpfs", ("nosuid", "nodev", "rw", "size=1024")),
    )
    assert spec.rootfs == ContainerPaths.of(record.id).rootfs


def test_host_network_and_privileged(labcore_root):
    record = _record(network="host", privileged=True)
    spec = build_spec(record, ContainerPaths.of(record.id), netns_path=None)
    assert Namespace.NET not in spec.namespaces
    assert spec.privileged and spec.process.capabilities is None


def test_bridge_network_joins_sandbox_and_mounts_hosts_first(labcore_root):
    record = _record(network="bridge", mounts=[])
    extra = (MountSpec("/etc/hosts", "bind", "/run/x/hosts", ("rbind", "rw")),)
    spec = build_spec(record, ContainerPaths.of(record.id), netns_path="/run/netns/x", extra_mounts=extra)
    assert spec.netns_path == "/run/netns/x" and spec.mounts == extra
    assert runtime_mount(MountRecord("volume", "/v/_data", "/data")).options == ("rbind", "rw")
