"""Two namespaces on one network talk by address and by name; networks are isolated."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from labcore.runtime import network
from labcore.runtime.network import firewall, links
from tests.integration.network.nsprocs import client_in, server_in

pytestmark = [pytest.mark.root, pytest.mark.integration]

A = "a" * 64
B = "b" * 64


def test_two_namespaces_exchange_tcp_both_ways_by_address_and_by_name(
    make_netns: Callable[[], str],
) -> None:
    net = network.create_network("lab")
    ns_a, ns_b = make_netns(), make_netns()
    ep_a = network.attach(net, A, ns_a, name="alpha")
    ep_b = network.attach("lab", B, ns_b, name="beta", aliases=["db"])
    assert ep_a.ip != ep_b.ip
    assert ep_a.gateway == ep_b.gateway == net.gateway
    assert net.gateway.endswith(".1")
    assert links.netns_links(ns_a) == ["eth0", "lo"]

    hosts_a = network.hosts_file(A)
    hosts_b = network.hosts_file(B)
    with server_in(ns_a, 7000, b"A"), server_in(ns_b, 7000, b"B"):
        assert client_in(ns_b, ep_a.ip, 7000) == (0, f"A:hello:{ep_b.ip}")
        assert client_in(ns_a, ep_b.ip, 7000) == (0, f"B:hello:{ep_a.ip}")
        assert client_in(ns_b, "alpha", 7000, hosts=hosts_b) == (0, f"A:hello:{ep_b.ip}")
        assert client_in(ns_a, "beta", 7000, hosts=hosts_a) == (0, f"B:hello:{ep_a.ip}")
        assert client_in(ns_a, "db", 7000, hosts=hosts_a) == (0, f"B:hello:{ep_a.ip}")


def test_hosts_files_are_rewritten_in_place_when_peers_come_and_go(make_netns: Callable[[], str]) -> None:
    network.create_network("lab")
    ns_a, ns_b = make_netns(), make_netns()
    network.attach("lab", A, ns_a, name="alpha", hostname="alpha-host")
    hosts = network.hosts_file(A)
    inode = os.stat(hosts).st_ino
    assert "beta" not in hosts.read_text()
    ep_b = network.attach("lab", B, ns_b, name="beta")
    assert f"{ep_b.ip}\tbeta {B[:12]}\n" in hosts.read_text()
    assert "alpha-host alpha" in hosts.read_text()
    network.detach("lab", B)
    assert "beta" not in hosts.read_text()
    assert os.stat(hosts).st_ino == inode


def test_default_bridge_network_has_addresses_but_no_names(make_netns: Callable[[], str]) -> None:
    ns_a, ns_b = make_netns(), make_netns()
    ep_a = network.attach("bridge", A, ns_a, name="alpha")
    ep_b = network.attach("bridge", B, ns_b, name="beta")
    assert links.link_exists("labcore0")
    assert ipaddress.IPv4Address(ep_a.ip) in ipaddress.IPv4Network("10.88.0.0/16")
    assert ep_a.gateway == "10.88.0.1"
    assert Path("/proc/sys/net/ipv4/conf/labcore0/route_localnet").read_text().strip() == "1"
    assert "alpha" not in network.hosts_file(B).read_text()
    with server_in(ns_a, 7001, b"A"):
        assert client_in(ns_b, ep_a.ip, 7001) == (0, f"A:hello:{ep_b.ip}")


def test_different_user_networks_cannot_reach_each_other(make_netns: Callable[[], str]) -> None:
    red = network.create_network("red")
    blue = network.create_network("blue")
    assert red.subnet != blue.subnet
    ns_red, ns_blue = make_netns(), make_netns()
    ep_red = network.attach(red, A, ns_red)
    ep_blue = network.attach(blue, B, ns_blue)
    with server_in(ns_blue, 7002, b"B"), server_in(ns_red, 7002, b"R"):
        status, output = client_in(ns_red, ep_blue.ip, 7002)
        assert status == 3
        assert output.startswith("error 113")  # EHOSTUNREACH from the isolation reject
        status, output = client_in(ns_blue, ep_red.ip, 7002)
        assert status == 3
        # the host itself still reaches both
        for ep in (ep_red, ep_blue):
            with socket.create_connection((ep.ip, 7002), timeout=5) as conn:
                conn.sendall(b"x")
                assert conn.recv(100).startswith(b"R:x" if ep is ep_red else b"B:x")
    units = {firewall.network_unit(red), firewall.network_unit(blue)}
    forward = [rule for rule in firewall.list_rules() if rule["chain"] == "forward" and rule.get("comment") in units]
    assert {rule["comment"] for rule in forward} == units


def test_a_namespace_with_network_none_has_only_lo(make_netns: Callable[[], str]) -> None:
    ns = make_netns()
    assert links.netns_links(ns) == ["lo"]
    network.attach("bridge", A, ns)
    assert links.netns_links(ns) == ["eth0", "lo"]
    network.detach("bridge", A)
    assert links.netns_links(ns) == ["lo"]


def test_outbound_masquerade_rule_and_forwarding_follow_the_networks(make_netns: Callable[[], str]) -> None:
    forward_before = Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()
    net = network.create_network("out", subnet="10.90.7.0/24")
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == "1"
    postrouting = [
        rule
        for rule in firewall.list_rules()
        if rule["chain"] == "postrouting" and rule.get("comment") == firewall.network_unit(net)
    ]
    text = json.dumps(postrouting)
    assert '"masquerade"' in text and "10.90.7.0" in text
    ns = make_netns()
    network.attach(net, A, ns)
    with_route = links.netns_links(ns)
    assert "eth0" in with_route
    network.detach(net, A)
    network.remove_network("out")
    assert not links.link_exists(net.bridge)
    assert not any(net.short_id in str(rule.get("comment", "")) for rule in firewall.list_rules())
    if not links.link_exists("labcore0") and not any(name.startswith("lc-") for name in os.listdir("/sys/class/net")):
        assert Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == forward_before


def test_topology_lists_bridges_veths_and_namespaces(make_netns: Callable[[], str]) -> None:
    net = network.create_network("topo")
    ns = make_netns()
    ep = network.attach(net, A, ns, name="alpha")
    topo = network.topology()
    (bridge,) = [b for b in topo["bridges"] if b["network"] == "topo"]
    assert bridge["name"] == net.bridge and bridge["ports"] == [ep.veth_host] and bridge["up"]
    (veth,) = topo["veths"]
    assert veth["host"] == ep.veth_host and veth["ip"] == ep.ip and veth["namespace"] == ns
    (namespace,) = topo["namespaces"]
    eth0 = next(i for i in namespace["interfaces"] if i["name"] == "eth0")
    assert eth0["addresses"] == [f"{ep.ip}/24"] and eth0["mac"] == ep.mac


def test_connect_adds_a_second_interface_and_names_from_both_networks(make_netns: Callable[[], str]) -> None:
    network.create_network("front")
    network.create_network("back")
    ns_a, ns_b, ns_c = make_netns(), make_netns(), make_netns()
    network.attach("front", A, ns_a, name="app")
    network.attach("front", B, ns_b, name="web")
    c = "c" * 64
    ep_db = network.attach("back", c, ns_c, name="db")
    ep2 = network.connect("back", A, ns_a, name="app")
    assert ep2.interface == "eth1"
    assert links.netns_links(ns_a) == ["eth0", "eth1", "lo"]
    hosts = network.hosts_file(A).read_text()
    assert "\tweb " in hosts and f"{ep_db.ip}\tdb " in hosts
    with server_in(ns_c, 7003, b"C"):
        assert client_in(ns_a, "db", 7003, hosts=network.hosts_file(A)) == (0, f"C:hello:{ep2.ip}")
    assert network.disconnect("back", A)
    assert links.netns_links(ns_a) == ["eth0", "lo"]
    assert "db" not in network.hosts_file(A).read_text()


def test_two_labcore_roots_share_the_default_bridge_safely(
    make_netns: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, labcore_root: Path
) -> None:
    ep_a = network.attach("bridge", A, make_netns())
    other_root = tmp_path / "other-root"
    other_root.mkdir()
    monkeypatch.setenv("LABCORE_ROOT", str(other_root))
    try:
        ep_b = network.attach("bridge", B, make_netns())
        assert ep_b.ip != ep_a.ip  # labcore0's leases are host-wide
        network.cleanup(B)
        network.prune_networks(include_default=True)
    finally:
        monkeypatch.setenv("LABCORE_ROOT", str(labcore_root))
    # the other root removed its default network, but labcore0 still carries this root's container
    assert links.link_exists("labcore0")
    assert ep_a.veth_host in links.bridge_ports("labcore0")
    assert A in network.leases(network.get_network("bridge")).values()
