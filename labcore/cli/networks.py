"""``labcore network create|ls|inspect|rm|prune|connect|disconnect`` and ``labcore port``."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labcore.runtime.network import Endpoint, Network

ORDER = 60


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``network`` command group and the ``port`` command."""
    network = subparsers.add_parser("network", help="manage bridge networks")
    commands = network.add_subparsers(dest="network_command", metavar="COMMAND")
    network.set_defaults(handler=lambda args: _usage(network))

    create = commands.add_parser("create", help="create a bridge network")
    create.add_argument("name", help="the network's name")
    create.add_argument("--subnet", help="IPv4 subnet in CIDR form (default: a free /24 of 10.89.0.0/16)")
    create.set_defaults(handler=_create)

    ls = commands.add_parser("ls", aliases=["list"], help="list networks")
    ls.add_argument("-q", "--quiet", action="store_true", help="only print network ids")
    ls.set_defaults(handler=_ls)

    inspect = commands.add_parser("inspect", help="show networks, their containers, addresses and ports")
    inspect.add_argument("names", nargs="+", metavar="NETWORK")
    inspect.set_defaults(handler=_inspect)

    rm = commands.add_parser("rm", aliases=["remove"], help="remove networks no container uses")
    rm.add_argument("names", nargs="+", metavar="NETWORK")
    rm.set_defaults(handler=_rm)

    prune = commands.add_parser("prune", help="remove every network without containers")
    prune.add_argument("--all", action="store_true", help="also remove the default network's bridge")
    prune.set_defaults(handler=_prune)

    connect = commands.add_parser("connect", help="connect a running container to a network")
    connect.add_argument("network", metavar="NETWORK")
    connect.add_argument("container", metavar="CONTAINER")
    connect.add_argument("--alias", action="append", default=[], help="another name on this network")
    connect.add_argument("--netns", help="network namespace path (default: the running container's)")
    connect.set_defaults(handler=_connect)

    disconnect = commands.add_parser("disconnect", help="disconnect a container from a network")
    disconnect.add_argument("network", metavar="NETWORK")
    disconnect.add_argument("container", metavar="CONTAINER")
    disconnect.set_defaults(handler=_disconnect)

    port = subparsers.add_parser("port", help="list a container's published ports")
    port.add_argument("container", metavar="CONTAINER")
    port.add_argument("private", nargs="?", metavar="PRIVATE_PORT[/PROTO]")
    port.set_defaults(handler=_port)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _create(args: argparse.Namespace) -> int:
    from labcore.runtime.network import create_network

    print(create_network(args.name, args.subnet).id)
    return 0


def _ls(args: argparse.Namespace) -> int:
    from labcore.runtime.network import list_networks

    networks = list_networks()
    if args.quiet:
        for network in networks:
            print(network.short_id)
        return 0
    rows = [("NETWORK ID", "NAME", "DRIVER", "SUBNET", "BRIDGE")]
    if not any(network.is_default for network in networks):
        rows.append(("-", "bridge", "bridge", "(created on first use)", "labcore0"))
    rows += [(net.short_id, net.name, "bridge", net.subnet, net.bridge) for net in networks]
    rows += [("-", "host", "host", "", ""), ("-", "none", "null", "", "")]
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    for row in rows:
        print("   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def _endpoint_json(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "Name": endpoint.name,
        "Interface": endpoint.interface,
        "MacAddress": endpoint.mac,
        "IPv4Address": f"{endpoint.ip}/{endpoint.prefixlen}",
        "Gateway": endpoint.gateway,
        "HostVeth": endpoint.veth_host,
        "Aliases": list(endpoint.aliases),
        "Ports": [str(port) for port in endpoint.ports],
    }


def _network_json(network: Network) -> dict[str, Any]:
    from labcore.runtime.network import network_endpoints

    return {
        "Name": network.name,
        "Id": network.id,
        "Created": network.created,
        "Driver": "bridge",
        "IPAM": {"Config": [{"Subnet": network.subnet, "Gateway": network.gateway}]},
        "Options": {"bridge.name": network.bridge},
        "Containers": {ep.container_id: _endpoint_json(ep) for ep in network_endpoints(network)},
    }


def _inspect(args: argparse.Namespace) -> int:
    from labcore.runtime.network import get_network

    print(json.dumps([_network_json(get_network(name)) for name in args.names], indent=4))
    return 0


def _rm(args: argparse.Namespace) -> int:
    from labcore.runtime.network import remove_network

    for name in args.names:
        remove_network(name)
        print(name)
    return 0


def _prune(args: argparse.Namespace) -> int:
    from labcore.runtime.network import prune_networks

    removed = prune_networks(include_default=args.all)
    if removed:
        print("Deleted Networks:")
        for name in removed:
            print(name)
    return 0


def _container_identity(text: str) -> tuple[str, str]:
    """(id, name) of a container known to labcore, or of an endpoint recorded under that name or id."""
    from labcore.runtime.network import all_endpoints

    for endpoint in all_endpoints():
        if text in (endpoint.container_id, endpoint.name) or (
            len(text) >= 3 and endpoint.container_id.startswith(text)
        ):
            return endpoint.container_id, endpoint.name
    from labcore.container.lookup import resolve

    record = resolve(text)
    return record.id, record.name


def _running_netns(container_id: str) -> str:
    from labcore.container.state import ContainerPaths, is_alive, load_state
    from labcore.errors import ConflictError

    state = load_state(ContainerPaths.of(container_id))
    if state is None or not is_alive(state.pid, state.pid_start_time):
        raise ConflictError(
            f"container {container_id[:12]} is not running",
            hint="start it first, or give its network namespace with --netns",
        )
    return f"/proc/{state.pid}/ns/net"


def _connect(args: argparse.Namespace) -> int:
    from labcore.runtime.network import connect

    container_id, name = _container_identity(args.container)
    netns = args.netns or _running_netns(container_id)
    endpoint = connect(args.network, container_id, netns, name=name, aliases=args.alias)
    print(f"{endpoint.interface} {endpoint.ip}/{endpoint.prefixlen} on {endpoint.network}")
    return 0


def _disconnect(args: argparse.Namespace) -> int:
    from labcore.errors import NotFoundError
    from labcore.runtime.network import disconnect

    container_id, _ = _container_identity(args.container)
    if not disconnect(args.network, container_id):
        raise NotFoundError(
            f"container {args.container!r} is not connected to network {args.network!r}",
            hint="`labcore network inspect NETWORK` lists its containers",
        )
    return 0


def _port(args: argparse.Namespace) -> int:
    from labcore.errors import NotFoundError
    from labcore.runtime.network import container_ports, parse_publish

    container_id, _ = _container_identity(args.container)
    mappings = container_ports(container_id)
    if args.private:
        wanted = parse_publish(args.private)
        mappings = [m for m in mappings if (m.container_port, m.protocol) == (wanted.container_port, wanted.protocol)]
        if not mappings:
            raise NotFoundError(
                f"no public port '{args.private}' published for {args.container}",
                hint=f"`labcore port {args.container}` lists what it publishes",
            )
        for mapping in mappings:
            print(f"{mapping.host_ip or '0.0.0.0'}:{mapping.host_port}")
        return 0
    for mapping in mappings:
        print(mapping)
    return 0
