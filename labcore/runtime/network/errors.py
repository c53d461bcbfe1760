"""The errors of container networking, each naming the offending network, subnet, port or spec."""

from __future__ import annotations

from labcore.errors import ConflictError, NotFoundError, SystemSetupError, UsageError

__all__ = [
    "FirewallError",
    "NetworkInUseError",
    "NetworkNotFoundError",
    "PortInUseError",
    "PortSpecError",
    "SubnetFullError",
    "SubnetOverlapError",
]


class NetworkNotFoundError(NotFoundError):
    """No network has the given name or id."""

    default_hint = "list networks with `labcore network ls`"


class SubnetOverlapError(ConflictError):
    """A subnet overlaps a host route, a host address or another network."""

    default_hint = (
        "pick a subnet that overlaps no host route (`ip route`) and no other network (`labcore network ls`),"
        " or leave out --subnet to get a free /24"
    )


class SubnetFullError(ConflictError):
    """A subnet has no free address (or is too small to hold a gateway and one container)."""

    default_hint = "disconnect containers from it, or create a network with a larger --subnet"


class NetworkInUseError(ConflictError):
    """A network still has containers attached."""

    default_hint = "disconnect or remove its containers first (`labcore network inspect NAME` lists them)"


class PortSpecError(UsageError):
    """A ``-p`` publish spec that cannot be understood."""

    default_hint = "use [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp], e.g. -p 8080:80 or -p 127.0.0.1:5353:53/udp"


class PortInUseError(ConflictError):
    """A host port that is already published or bound by another program."""

    default_hint = "pick another host port, or leave it out (-p CONTAINERPORT) to get a free one"


class FirewallError(SystemSetupError):
    """The ``nft`` tool refused a ruleset."""

    default_hint = "check that nftables is installed (`apt-get install nftables`) and the kernel has nf_tables"
