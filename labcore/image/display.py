"""How images look in the CLI: Docker-style sizes, ages and ``inspect`` JSON."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from labcore.image.record import ImageRecord

__all__ = ["human_age", "human_size", "inspect_document", "parse_created"]

_FRACTION = re.compile(r"\.(\d+)")


def parse_created(text: str | None) -> datetime | None:
    """Parse an RFC 3339 ``created`` time (nanoseconds allowed); None when absent or unreadable."""
    if not text:
        return None
    # Python reads at most microseconds; Go writes nanoseconds
    trimmed = _FRACTION.sub(lambda match: "." + match[1][:6].ljust(6, "0"), text, count=1)
    try:
        parsed = datetime.fromisoformat(trimmed.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def human_age(created: datetime | None, now: datetime | None = None) -> str:
    """``5 seconds ago``, ``3 weeks ago``... as Docker prints; ``N/A`` for an unknown time."""
    if created is None:
        return "N/A"
    seconds = int(((now or datetime.now(UTC)) - created).total_seconds())
    if seconds < 1:
        return "Less than a second ago"
    for unit, length in (
        ("year", 365 * 86400),
        ("month", 30 * 86400),
        ("week", 7 * 86400),
        ("day", 86400),
        ("hour", 3600),
        ("minute", 60),
    ):
        if seconds >= 2 * length:
            return f"{seconds // length} {unit}s ago"
        if seconds >= length:
            return f"About a{'n' if unit == 'hour' else ''} {unit} ago"
    return "1 second ago" if seconds == 1 else f"{seconds} seconds ago"


def human_size(size: int) -> str:
    """Decimal units with 3 significant digits, as Docker prints: ``4.26MB``."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.3g}{unit}"
        value /= 1000
    raise AssertionError("unreachable")


def inspect_document(image: ImageRecord, names: list[str], digests: list[str]) -> dict[str, Any]:
    """The ``inspect`` JSON for one image, with Docker's top-level keys plus the raw documents."""
    config = image.config
    return {
        "Id": str(image.id),
        "RepoTags": names,
        "RepoDigests": digests,
        "Created": config.created,
        "Author": config.author,
        "Architecture": config.architecture,
        "Os": config.os,
        "Size": image.size,
        "Config": config.config.to_dict(),
        "RootFS": {"Type": "layers", "Layers": [str(diff_id) for diff_id in config.diff_ids]},
        "Descriptor": image.descriptor.to_dict(),
        "Manifest": image.manifest.to_dict(),
        "ImageConfig": config.to_dict(),
    }
