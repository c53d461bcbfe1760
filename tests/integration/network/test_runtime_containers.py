"""Real containers (labcore's runtime, busybox) join namespaces that the network code prepared."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from labcore.linux.mount import UmountFlag, mount, umount
from labcore.runtime import network
from labcore.runtime.network import firewall, links
from labcore.runtime.process import InitProcess, create
from labcore.runtime.spec import ContainerSpec, MountSpec, ProcessSpec
from tests.tools import free_port

pytestmark = [pytest.mark.root, pytest.mark.integration]

BUSYBOX = Path("/bin/busybox")


@pytest.fixture(scope="session")
def busybox_lower(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lower dir with static busybox and the applets these tests use, plus a web page."""
    if not BUSYBOX.exists():
        pytest.skip("needs busybox-static at /bin/busybox")
    root = tmp_path_factory.mktemp("net-busybox")
    for directory in ("bin", "etc", "tmp", "www"):
        (root / directory).mkdir()
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    for applet in ("sh", "httpd", "wget", "cat", "ip", "sleep"):
        (root / "bin" / applet).symlink_to("busybox")
    (root / "www" / "index.html").write_text("hello from the container\n")
    return root


@pytest.fixture
def make_rootfs(busybox_lower: Path, tmp_path: Path) -> Iterator[Callable[[], Path]]:
    """A factory of overlay roots over the busybox dir, unmounted at the end."""
    mounted: list[Path] = []

    def factory() -> Path:
        base = tmp_path / f"root{len(mounted)}"
        upper, work, merged = base / "upper", base / "work", base / "merged"
        for directory in (upper, work, merged):
            directory.mkdir(parents=True)
        mount("overlay", merged, "overlay", 0, f"lowerdir={busybox_lower},upperdir={upper},workdir={work}")
        mounted.append(merged)
        return merged

    yield factory
    for merged in mounted:
        umount(merged, UmountFlag.DETACH)


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


def wait_listening(address: str, port: int) -> None:
    """Poll until something accepts connections on ``address:port`` (the server has started)."""
    for _ in range(100):
        try:
            socket.create_connection((address, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"nothing listens on {address}:{port}")


def start_container(
    rootfs: Path, sandbox: network.Sandbox, container_id: str, args: list[str], out: Path
) -> InitProcess:
    """A started container in its sandbox netns, with the sandbox's hosts and resolv.conf bind-mounted."""
    mounts = (
        MountSpec("/etc/hosts", "bind", str(sandbox.hosts), ("ro",)),
        MountSpec("/etc/resolv.conf", "bind", str(sandbox.resolv_conf), ("ro",)),
    )
    spec = ContainerSpec(container_id, rootfs, ProcessSpec(args), netns_path=sandbox.netns_path, mounts=mounts)
    with open(out, "wb") as output, open(os.devnull, "rb") as devnull:
        init = create(spec, (devnull.fileno(), output.fileno(), output.fileno()))
    init.start()
    return init


def new_id() -> str:
    return f"test-{uuid.uuid4().hex}"


def test_busybox_containers_talk_by_name_and_publish_a_port(make_rootfs: Callable[[], Path], tmp_path: Path) -> None:
    network.create_network("app")
    server_id, client_id = new_id(), new_id()
    port = free_port()
    server_box = network.create_sandbox(
        server_id, "app", name="web", hostname="web", ports=[network.parse_publish(f"{port}:8080")]
    )
    client_box = network.create_sandbox(client_id, "app", name="client")
    ep = server_box.endpoint
    server = start_container(
        make_rootfs(), server_box, server_id, ["httpd", "-f", "-p", "8080", "-h", "/www"], tmp_path / "s"
    )
    try:
        wait_listening(ep.ip, 8080)
        # the host reaches the container through the published port, on loopback and the bridge address
        for address in ("127.0.0.1", ep.gateway):
            with OPENER.open(f"http://{address}:{port}/index.html", timeout=10) as reply:
                assert reply.read() == b"hello from the container\n"
        # another container finds it by name, through the bind-mounted /etc/hosts
        script = "cat /etc/hosts; wget -q -O - http://web:8080/index.html; ip -4 -o addr show eth0"
        client = start_container(make_rootfs(), client_box, client_id, ["sh", "-c", script], tmp_path / "c")
        try:
            assert client.wait() == 0, (tmp_path / "c").read_text()
        finally:
            client.destroy()
        output = (tmp_path / "c").read_text()
        assert f"{ep.ip}\tweb" in output
        assert "hello from the container" in output
        assert f"inet {client_box.endpoint.ip}/24" in output
    finally:
        server.destroy()
        network.cleanup(server_id)
        network.cleanup(client_id)
    assert not Path(server_box.netns_path).exists()
    with pytest.raises(urllib.error.URLError, match="Connection refused"):
        OPENER.open(f"http://127.0.0.1:{port}/", timeout=10)


def test_cleanup_after_a_kill_9_leaves_nothing(make_rootfs: Callable[[], Path], tmp_path: Path) -> None:
    container_id = new_id()
    box = network.create_sandbox(container_id, "bridge", ports=[network.parse_publish("80")])
    init = start_container(make_rootfs(), box, container_id, ["sleep", "600"], tmp_path / "out")
    try:
        os.kill(init.pid, signal.SIGKILL)
        init.wait()
    finally:
        init.destroy()
    # nobody detached: the record, lease, rules, veth and netns are all still there
    assert network.container_endpoints(container_id)
    assert network.cleanup(container_id) == ["bridge"]
    assert not Path(box.netns_path).exists()
    assert not links.link_exists(box.endpoint.veth_host)
    assert container_id not in network.leases(network.get_network("bridge")).values()
    assert not any(container_id in str(rule.get("comment", "")) for rule in firewall.list_rules())
