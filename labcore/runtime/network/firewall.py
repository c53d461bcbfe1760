"""labcore's nftables rules, in a table of its own: ``table ip labcore``.

The table has four base chains and one regular chain::

    prerouting   nat    dstnat  fib daddr type local jump ports   (published ports, from outside)
    output       nat    -100    fib daddr type local jump ports   (published ports, from the host)
    ports        (regular)      one DNAT rule per published port
    postrouting  nat    srcnat  masquerade: outbound traffic, and 127.0.0.1 → container
    forward      filter filter  isolation: no traffic between two labcore bridges

Rules come in *units*, each tagged with a comment (``lc-net:<network>`` for a network's
masquerade and isolation rules, ``lc-ep:<network>:<container>`` for an endpoint's ports). A unit
is added in one ``nft`` transaction and removed in one, so it is always all there or not at all.
The table is host-wide (every labcore root shares it), so changes hold a host-wide lock.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Sequence
from typing import Any

from labcore.fs.atomic import locked
from labcore.runtime.network.errors import FirewallError
from labcore.runtime.network.records import DEFAULT_BRIDGE, Network, PortMapping
from labcore.runtime.network.state import HOST_STATE_DIR

__all__ = [
    "TABLE",
    "add_unit",
    "delete_table",
    "endpoint_rules",
    "endpoint_unit",
    "list_rules",
    "network_rules",
    "network_unit",
    "published_ports",
    "remove_unit",
]

TABLE = "labcore"
FIREWALL_LOCK = HOST_STATE_DIR / "firewall.lock"

_SKELETON = f"""\
table ip {TABLE} {{
    chain ports {{
    }}
    chain prerouting {{
        type nat hook prerouting priority dstnat; policy accept;
        fib daddr type local jump ports
    }}
    chain output {{
        type nat hook output priority -100; policy accept;
        fib daddr type local jump ports
    }}
    chain postrouting {{
        type nat hook postrouting priority srcnat; policy accept;
    }}
    chain forward {{
        type filter hook forward priority filter; policy accept;
    }}
}}
"""


def _nft(args: Sequence[str], script: str | None = None) -> str:
    """Run ``nft`` with ``args`` (and ``script`` on stdin); its stdout, or FirewallError."""
    try:
        result = subprocess.run(["nft", *args], input=script, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise FirewallError("the nft tool is not installed") from None
    if result.returncode != 0:
        raise FirewallError(f"nft {' '.join(args)} failed: {result.stderr.strip()}\n{script or ''}".rstrip())
    return result.stdout


def _table_exists() -> bool:
    return _listing() is not None


def network_unit(network: Network) -> str:
    """The tag of ``network``'s rules."""
    return f"lc-net:{network.short_id}"


def endpoint_unit(network: Network, container_id: str) -> str:
    """The tag of the port rules of ``container_id`` on ``network``."""
    return f"lc-ep:{network.short_id}:{container_id}"


def network_rules(network: Network) -> list[tuple[str, str]]:
    """``(chain, rule)`` pairs for a network: masquerading and isolation from other bridges.

    Outbound traffic from the subnet leaving by any other interface (the host's default route)
    is masqueraded; so is traffic from 127.0.0.0/8 (the host reaching a published port on
    127.0.0.1) entering the bridge, so that the container can answer. Traffic from this bridge
    to any other labcore bridge is rejected, which isolates networks from each other.
    """
    bridge = network.bridge
    rules = [
        ("postrouting", f'ip saddr {network.subnet} oifname != "{bridge}" masquerade'),
        ("postrouting", f'ip saddr 127.0.0.0/8 oifname "{bridge}" masquerade'),
        (
            "forward",
            f'iifname "{bridge}" oifname "lc-*" oifname != "{bridge}" reject with icmp type admin-prohibited',
        ),
    ]
    if bridge != DEFAULT_BRIDGE:
        rules.append(
            (
                "forward",
                f'iifname "{bridge}" oifname "{DEFAULT_BRIDGE}" reject with icmp type admin-prohibited',
            )
        )
    return rules


def endpoint_rules(container_ip: str, ports: Iterable[PortMapping]) -> list[tuple[str, str]]:
    """``(chain, rule)`` pairs that DNAT each published port to ``container_ip``."""
    rules = []
    for port in ports:
        match = f"ip daddr {port.host_ip} " if port.host_ip else ""
        rules.append(
            (
                "ports",
                f"{match}{port.protocol} dport {port.host_port} dnat to {container_ip}:{port.container_port}",
            )
        )
    return rules


def add_unit(unit: str, rules: Sequence[tuple[str, str]]) -> None:
    """Add ``rules`` tagged ``unit`` in one transaction (creating the table when missing)."""
    if not rules:
        return
    lines = [f'add rule ip {TABLE} {chain} {rule} comment "{unit}"' for chain, rule in rules]
    with locked(FIREWALL_LOCK):
        script = "" if _table_exists() else _SKELETON
        _nft(["-f", "-"], script + "\n".join(lines) + "\n")


def _listing() -> list[dict[str, Any]] | None:
    """The rules of labcore's table, or None when the table does not exist."""
    try:
        result = subprocess.run(
            ["nft", "-j", "-a", "list", "table", "ip", TABLE], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise FirewallError("the nft tool is not installed") from None
    if result.returncode != 0:
        return None
    document = json.loads(result.stdout)
    return [item["rule"] for item in document.get("nftables", []) if "rule" in item]


def list_rules() -> list[dict[str, Any]]:
    """Every rule of labcore's table as nft's JSON objects (``chain``, ``handle``, ``comment``...)."""
    return _listing() or []


def published_ports() -> set[tuple[int, str]]:
    """``(host port, protocol)`` of every DNAT rule in the table, whichever labcore root made it."""
    found = set()
    for rule in list_rules():
        if rule.get("chain") != "ports":
            continue
        for expression in rule.get("expr", []):
            match = expression.get("match", {})
            payload = match.get("left", {}).get("payload", {})
            if payload.get("field") == "dport" and isinstance(match.get("right"), int):
                found.add((int(match["right"]), str(payload.get("protocol"))))
    return found


def remove_unit(unit: str) -> int:
    """Delete every rule tagged ``unit`` in one transaction; how many there were.

    The table goes with its last unit, so an idle host has no labcore rules at all.
    """
    with locked(FIREWALL_LOCK):
        rules = _listing()
        if rules is None:
            return 0
        doomed = [rule for rule in rules if rule.get("comment") == unit]
        others = [rule for rule in rules if str(rule.get("comment", "")).startswith("lc-") and rule not in doomed]
        if not others:
            _nft(["delete", "table", "ip", TABLE])
        elif doomed:
            _nft(
                ["-f", "-"],
                "".join(f"delete rule ip {TABLE} {r['chain']} handle {r['handle']}\n" for r in doomed),
            )
    return len(doomed)


def delete_table() -> None:
    """Remove labcore's whole table (every unit at once)."""
    with locked(FIREWALL_LOCK):
        if _table_exists():
            _nft(["delete", "table", "ip", TABLE])
