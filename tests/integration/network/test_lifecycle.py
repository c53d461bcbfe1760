"""Many endpoints at once, leftovers of killed containers, and refusals of bad requests."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from labcore.errors import ConflictError
from labcore.runtime import network
from labcore.runtime.network import (
    NetworkInUseError,
    SubnetFullError,
    SubnetOverlapError,
    firewall,
    links,
)
from labcore.runtime.network.subnets import host_networks

pytestmark = [pytest.mark.root, pytest.mark.integration]


def host_subnet_in_use() -> str:
    """A network of one of the host's own interfaces (e.g. eth0's), which labcore must not reuse."""
    networks = [
        subnet
        for subnet, source in host_networks()
        if subnet.prefixlen <= 30 and " on lc-" not in source and not source.endswith(" on labcore0")
    ]
    if not networks:
        pytest.skip("the host has no IPv4 network besides loopback")
    return str(networks[0])


def host_veths() -> set[str]:
    return {name for name in os.listdir("/sys/class/net") if name.startswith("lcv")}


def test_fifty_endpoints_attached_and_detached_concurrently_leave_nothing(
    make_netns: Callable[[], str],
) -> None:
    net = network.create_network("many")
    namespaces = [make_netns() for _ in range(50)]
    ids = [f"{n:064x}" for n in range(50)]
    publish = [[network.parse_publish("80")] if n % 5 == 0 else [] for n in range(50)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        endpoints = list(
            pool.map(
                lambda n: network.attach(net, ids[n], namespaces[n], name=f"c{n}", ports=publish[n]),
                range(50),
            )
        )
    addresses = [ep.ip for ep in endpoints]
    assert len(set(addresses)) == 50
    assert net.gateway not in addresses
    assert len({ep.mac for ep in endpoints}) == 50
    assert len(network.leases(net)) == 50
    assert len({ep.veth_host for ep in endpoints} & host_veths()) == 50
    assert len({port.host_port for ep in endpoints for port in ep.ports}) == 10
    hosts = network.hosts_file(ids[0]).read_text()
    assert all(f"\tc{n} " in hosts for n in range(1, 50))
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(lambda n: network.detach(net, ids[n]), range(50)))
    assert network.leases(net) == {}
    assert not {ep.veth_host for ep in endpoints} & host_veths()
    assert not network.network_endpoints(net)
    assert not [rule for rule in firewall.list_rules() if f"lc-ep:{net.short_id}:" in str(rule.get("comment", ""))]
    assert all(links.netns_links(ns) == ["lo"] for ns in namespaces)
    network.remove_network("many")
    assert not links.link_exists(net.bridge)


def test_cleanup_removes_what_a_killed_container_left(make_netns: Callable[[], str]) -> None:
    container = "d" * 64
    name = f"lctkill{os.getpid()}"
    ns = network.create_netns(name)
    try:
        ep = network.attach("bridge", container, ns, ports=[network.parse_publish("80")])
    finally:
        network.remove_netns(name)  # the container's namespace dies with it: its veth end goes too
    assert network.container_endpoints(container)  # the record, lease and rules stay behind
    assert network.cleanup(container) == ["bridge"]
    assert not links.link_exists(ep.veth_host)
    assert container not in network.leases(network.get_network("bridge")).values()
    assert not network.container_endpoints(container)
    assert not any(container in str(rule.get("comment", "")) for rule in firewall.list_rules())
    assert network.cleanup(container) == []


def test_leases_survive_a_restart_and_are_not_handed_out_again(make_netns: Callable[[], str]) -> None:
    net = network.create_network("keep")
    first = network.attach(net, "a" * 64, make_netns())
    # a new process (a restarted daemon) reads the same lease file
    reread = network.get_network("keep")
    assert network.leases(reread) == {first.ip: "a" * 64}
    second = network.attach(reread, "b" * 64, make_netns())
    assert second.ip != first.ip


def test_overlapping_subnets_are_refused() -> None:
    network.create_network("one", subnet="10.91.0.0/16")
    with pytest.raises(SubnetOverlapError, match=r"10\.91\.4\.0/24 overlaps network 'one'"):
        network.create_network("two", subnet="10.91.4.0/24")
    host_subnet = host_subnet_in_use()
    with pytest.raises(SubnetOverlapError, match=f"{re.escape(host_subnet)} overlaps (host route|address)"):
        network.create_network("three", subnet=host_subnet)
    assert [net.name for net in network.list_networks()] == ["one"]


def test_a_subnet_with_no_room_left_refuses_the_next_container(make_netns: Callable[[], str]) -> None:
    network.create_network("tiny", subnet="10.92.0.0/30")  # gateway .1 and a single container .2
    ns_a, ns_b = make_netns(), make_netns()
    network.attach("tiny", "a" * 64, ns_a)
    with pytest.raises(SubnetFullError, match=r"'tiny' \(10\.92\.0\.0/30\) has no free address"):
        network.attach("tiny", "b" * 64, ns_b)
    assert links.netns_links(ns_b) == ["lo"]


def test_removing_a_network_in_use_is_refused(make_netns: Callable[[], str]) -> None:
    net = network.create_network("busy")
    network.attach("busy", "a" * 64, make_netns())
    with pytest.raises(NetworkInUseError, match="'busy' is in use by 1 container"):
        network.remove_network("busy")
    assert links.link_exists(net.bridge)
    with pytest.raises(ConflictError, match="already exists"):
        network.create_network("busy")
    with pytest.raises(ConflictError, match="already attached"):
        network.attach("busy", "a" * 64, make_netns())
    with pytest.raises(ConflictError, match="cannot be removed"):
        network.remove_network("bridge")


def test_a_network_comes_back_after_a_reboot_took_its_bridge_and_rules(make_netns: Callable[[], str]) -> None:
    net = network.create_network("persist")
    first = network.attach(net, "a" * 64, make_netns())
    network.cleanup("a" * 64)
    # what a reboot does: the bridge and the nftables table are gone, the state under the root is not
    links.delete_link(net.bridge)
    firewall.remove_unit(firewall.network_unit(net))  # only this network's rules: others may share the table
    second = network.attach("persist", "b" * 64, make_netns())
    assert links.link_exists(net.bridge)
    assert second.ip == first.ip  # the freed lease is handed out again
    assert any(rule.get("comment") == firewall.network_unit(net) for rule in firewall.list_rules())


def test_the_default_subnet_is_refused_when_it_overlaps_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    host_subnet = host_subnet_in_use()
    monkeypatch.setenv("LABCORE_BRIDGE_SUBNET", host_subnet)
    with pytest.raises(SubnetOverlapError) as caught:
        network.ensure_default_network()
    assert caught.value.message.startswith(f"the default network's subnet {host_subnet} overlaps")
    assert "LABCORE_BRIDGE_SUBNET" in caught.value.hint
    assert not links.link_exists("labcore0")
