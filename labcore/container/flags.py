"""Parse Docker-style run flags (``--memory``, ``--cpus``, ``-e``, ``-u``, ``--pids-limit``).

Every parser raises :class:`~labcore.errors.UsageError` naming the flag and the offending value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

from labcore.errors import UsageError

__all__ = [
    "CPU_PERIOD_US",
    "cpu_quota",
    "merge_env",
    "parse_cpus",
    "parse_env",
    "parse_memory",
    "parse_pids_limit",
]

CPU_PERIOD_US = 100_000
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
_MEMORY_RE = re.compile(r"^(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[bkmg]?)b?$", re.IGNORECASE)
_ENV_KEY_RE = re.compile(r"^[^=\s]+$")


def parse_memory(value: str | int, flag: str = "--memory") -> int:
    """Bytes for a size such as ``64m``, ``1g``, ``512k`` or ``1048576`` (units b, k, m, g)."""
    if isinstance(value, int):
        if value <= 0:
            raise UsageError(f"invalid {flag} value {value}: must be positive", hint="e.g. --memory 64m")
        return value
    match = _MEMORY_RE.match(value.strip())
    if match is None:
        raise UsageError(
            f"invalid {flag} value {value!r}: not a size",
            hint="write a positive number with an optional unit b, k, m or g, e.g. 64m",
        )
    size = int(float(match["number"]) * _UNITS[match["unit"].lower()])
    if size <= 0:
        raise UsageError(f"invalid {flag} value {value!r}: must be positive", hint="e.g. --memory 64m")
    return size


def parse_cpus(value: str | float, flag: str = "--cpus") -> int:
    """Nano-CPUs (as Docker's ``NanoCpus``) for a number of CPUs such as ``0.5``."""
    try:
        cpus = float(value)
    except ValueError:
        raise UsageError(f"invalid {flag} value {value!r}: not a number", hint="e.g. --cpus 0.5") from None
    if not cpus > 0 or cpus != cpus or cpus == float("inf"):
        raise UsageError(f"invalid {flag} value {value!r}: must be a positive number", hint="e.g. --cpus 1.5")
    return round(cpus * 1e9)


def cpu_quota(nano_cpus: int, period_us: int = CPU_PERIOD_US) -> int:
    """The CFS quota in microseconds per ``period_us`` that grants ``nano_cpus``."""
    return max(1000, nano_cpus * period_us // 1_000_000_000)


def parse_pids_limit(value: str | int, flag: str = "--pids-limit") -> int | None:
    """A positive process limit; ``0`` or ``-1`` mean unlimited (None), as in Docker."""
    try:
        limit = int(value)
    except ValueError:
        raise UsageError(f"invalid {flag} value {value!r}: not an integer", hint="e.g. --pids-limit 64") from None
    if limit in (0, -1):
        return None
    if limit < 0:
        raise UsageError(f"invalid {flag} value {value!r}: must be positive", hint="e.g. --pids-limit 64")
    return limit


def parse_env(items: Iterable[str], host_env: Mapping[str, str] | None = None) -> list[str]:
    """``KEY=VALUE`` strings from ``-e`` values; a bare ``KEY`` copies the host's value if it has one."""
    source = os.environ if host_env is None else host_env
    result = []
    for item in items:
        key, sep, _ = item.partition("=")
        if not key or not _ENV_KEY_RE.match(key):
            raise UsageError(f"invalid -e value {item!r}: empty or malformed variable name", hint="use -e KEY=VALUE")
        if sep:
            result.append(item)
        elif key in source:
            result.append(f"{key}={source[key]}")
    return result


def merge_env(base: Iterable[str], overrides: Iterable[str]) -> list[str]:
    """``base`` with the variables of ``overrides`` replacing or adding, order kept."""
    merged: dict[str, str] = {}
    for item in [*base, *overrides]:
        key, _, value = item.partition("=")
        merged[key] = value
    return [f"{key}={value}" for key, value in merged.items()]
