import ipaddress
import socket
import time

import pytest

import labcore.container as containers
from labcore.errors import NotFoundError, UsageError
from labcore.runtime import network as networking

pytestmark = [pytest.mark.root, pytest.mark.integration]


@pytest.fixture
def net(busybox):
    """A user-defined bridge network of this test only (the default ``bridge`` is shared host-wide)."""
    created = networking.create_network("lcf-test-net")
    try:
        yield created.name
    finally:
        for container in containers.list(all=True):
            containers.remove(container, force=True)
        networking.remove_network(created.name)


def test_bridge_network_gives_an_address_and_cleans_up(busybox, net):
    container = containers.run(busybox, ["sleep", "60"], detach=True, network=net, name="netted")
    settings = containers.inspect(container.id)["NetworkSettings"]["Networks"][net]
    address = ipaddress.ip_address(settings["IPAddress"])
    assert address.is_private
    assert f"inet {address}/" in containers.exec(container.id, ["ip", "-4", "addr", "show", "eth0"]).stdout
    assert str(address) in containers.exec(container.id, ["cat", "/etc/hosts"]).stdout
    containers.remove(container, force=True)
    assert networking.container_endpoints(container.id) == []


def _read_from(port):
    for _ in range(100):  # the listener inside may not be up yet
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
                return connection.recv(100)
        except ConnectionRefusedError:
            time.sleep(0.05)
    return b""


def test_published_port_reaches_the_container(busybox, net):
    script = "echo hello-from-container | nc -l -p 8080"
    container = containers.run(busybox, ["sh", "-c", script], detach=True, network=net, publish=["127.0.0.1::8080"])
    ports = containers.inspect(container.id)["NetworkSettings"]["Ports"]["8080/tcp"]
    assert _read_from(int(ports[0]["HostPort"])) == b"hello-from-container\n"


def test_network_errors(busybox):
    with pytest.raises(NotFoundError):
        containers.create(busybox, ["true"], network="no-such-net")
    with pytest.raises(UsageError, match="cannot publish ports with --network none"):
        containers.create(busybox, ["true"], publish=["80"])


def test_publish_all_publishes_the_images_exposed_ports(busybox, net, tmp_path):
    from labcore.build import build

    (tmp_path / "Dockerfile").write_text(f"FROM {busybox}\nEXPOSE 8080\n"
                                         'CMD ["sh", "-c", "echo exposed | nc -l -p 8080"]\n')
    build(tmp_path, tags=["exposer:1"], output=lambda _: None)
    container = containers.run("exposer:1", detach=True, network=net, publish_all=True)
    ports = containers.inspect(container.id)["NetworkSettings"]["Ports"]["8080/tcp"]
    assert int(ports[0]["HostPort"]) > 0
    assert _read_from(int(ports[0]["HostPort"])) == b"exposed\n"
