"""Published ports answer on 127.0.0.1 and on the bridge address, and vanish with the endpoint."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from labcore.runtime import network
from labcore.runtime.network import PortInUseError, firewall, links
from tests.integration.network.nsprocs import server_in
from tests.tools import free_port

pytestmark = [pytest.mark.root, pytest.mark.integration]

A = "a" * 64
B = "b" * 64


def ask(address: str, port: int) -> bytes:
    with socket.create_connection((address, port), timeout=5) as conn:
        conn.sendall(b"ping")
        return conn.recv(100)


def test_published_port_answers_on_loopback_and_bridge_address_until_detach(
    make_netns: Callable[[], str],
) -> None:
    host_port = free_port()
    ns = make_netns()
    ep = network.attach("bridge", A, ns, ports=[network.parse_publish(f"{host_port}:80")])
    assert [str(p) for p in network.container_ports(A)] == [f"80/tcp -> 0.0.0.0:{host_port}"]
    with server_in(ns, 80, b"web"):
        assert ask("127.0.0.1", host_port).startswith(b"web:ping:")
        assert ask(ep.gateway, host_port).startswith(b"web:ping:")
        network.detach("bridge", A)
        for address in ("127.0.0.1", ep.gateway):
            with pytest.raises(ConnectionRefusedError):
                ask(address, host_port)
    assert not any(
        rule.get("comment") == firewall.endpoint_unit(network.get_network("bridge"), A)
        for rule in firewall.list_rules()
    )


def test_udp_port_and_a_port_bound_to_one_host_address(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    tcp_port, udp_port = free_port(), free_port()
    ports = [network.parse_publish(f"127.0.0.1:{tcp_port}:81"), network.parse_publish(f"{udp_port}:53/udp")]
    ep = network.attach("bridge", A, ns, ports=ports)
    with server_in(ns, 81, b"tcp"), server_in(ns, 53, b"dns", proto="udp"):
        assert ask("127.0.0.1", tcp_port).startswith(b"tcp:ping")
        with pytest.raises(ConnectionRefusedError):
            ask(ep.gateway, tcp_port)  # published on 127.0.0.1 only
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.settimeout(5)
            udp.sendto(b"q", ("127.0.0.1", udp_port))
            assert udp.recvfrom(100)[0] == b"dns:q"


def test_random_host_ports_for_exposed_ports(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    ep = network.attach("bridge", A, ns, ports=network.publish_all(["80/tcp"]))
    (mapping,) = ep.ports
    assert mapping.host_port > 0 and mapping.container_port == 80
    with server_in(ns, 80, b"auto"):
        assert ask("127.0.0.1", mapping.host_port).startswith(b"auto:ping")


def test_a_port_already_published_or_bound_is_refused(make_netns: Callable[[], str]) -> None:
    ns_a, ns_b = make_netns(), make_netns()
    host_port = free_port()
    network.attach("bridge", A, ns_a, ports=[network.parse_publish(f"{host_port}:80")])
    with pytest.raises(PortInUseError) as caught:
        network.attach("bridge", B, ns_b, ports=[network.parse_publish(f"127.0.0.1:{host_port}:80")])
    assert caught.value.message == (
        f"host port 127.0.0.1:{host_port}/tcp is already published by {A[:12]} (80/tcp -> 0.0.0.0:{host_port})"
    )
    # the failed attach left nothing: no lease, no veth, no record
    holders = network.leases(network.get_network("bridge")).values()
    assert A in holders and B not in holders
    assert not network.container_endpoints(B)
    assert links.netns_links(ns_b) == ["lo"]
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        taken = listener.getsockname()[1]
        with pytest.raises(PortInUseError, match="in use by a program on the host"):
            network.attach("bridge", B, ns_b, ports=[network.parse_publish(f"{taken}:80")])


def test_a_port_published_from_another_labcore_root_is_refused(
    make_netns: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, labcore_root: Path
) -> None:
    host_port = free_port()
    network.create_network("one")
    network.attach("one", A, make_netns(), ports=[network.parse_publish(f"{host_port}:80")])
    assert (host_port, "tcp") in firewall.published_ports()
    other_root = tmp_path / "other-root"
    other_root.mkdir()
    monkeypatch.setenv("LABCORE_ROOT", str(other_root))
    try:
        two = network.create_network("two")
        with pytest.raises(PortInUseError, match=f"{host_port}/tcp is already published by another labcore root"):
            network.attach("two", B, make_netns(), ports=[network.parse_publish(f"{host_port}:80")])
        assert network.leases(two) == {}
    finally:
        network.prune_networks(include_default=True)
        monkeypatch.setenv("LABCORE_ROOT", str(labcore_root))
