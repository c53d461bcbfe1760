"""The two kernel switches networking needs: IPv4 forwarding and ``route_localnet`` on a bridge.

``net.ipv4.ip_forward`` is host-wide. labcore turns it on when it creates its first bridge, saves
the value it found, and puts that value back when the last labcore bridge goes, so a host that
had forwarding off gets it off again.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from labcore.fs.atomic import locked
from labcore.runtime.network.state import HOST_STATE_DIR

__all__ = ["enable_forwarding", "enable_route_localnet", "labcore_bridges", "restore_forwarding"]

IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")
SAVED_FORWARD = HOST_STATE_DIR / "ip_forward.saved"
FORWARD_LOCK = HOST_STATE_DIR / "ip_forward.lock"


def labcore_bridges() -> list[str]:
    """The names of labcore's bridges present on the host (``labcore0`` and ``lc-*``)."""
    return sorted(name for name in os.listdir("/sys/class/net") if name == "labcore0" or name.startswith("lc-"))


def enable_forwarding() -> None:
    """Turn on ``net.ipv4.ip_forward``, remembering the previous value the first time."""
    with locked(FORWARD_LOCK):
        current = IP_FORWARD.read_text().strip()
        if not SAVED_FORWARD.exists():
            SAVED_FORWARD.write_text(current + "\n")
        if current != "1":
            IP_FORWARD.write_text("1\n")


def restore_forwarding() -> None:
    """Put back the saved ``ip_forward`` value when no labcore bridge is left."""
    with locked(FORWARD_LOCK):
        if labcore_bridges() or not SAVED_FORWARD.exists():
            return
        saved = SAVED_FORWARD.read_text().strip()
        if saved in {"0", "1"}:
            IP_FORWARD.write_text(saved + "\n")
        with contextlib.suppress(FileNotFoundError):
            SAVED_FORWARD.unlink()


def enable_route_localnet(bridge: str) -> None:
    """Let packets from 127.0.0.0/8 leave through ``bridge`` (DNAT of published ports on 127.0.0.1)."""
    Path(f"/proc/sys/net/ipv4/conf/{bridge}/route_localnet").write_text("1\n")
