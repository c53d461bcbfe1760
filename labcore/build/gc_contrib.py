"""The build cache's part in ``labcore system prune`` (clear it) and ``labcore system df`` (count it)."""

from __future__ import annotations

from labcore.build.cache import BuildCache
from labcore.image.gc import GcContribution, PruneResult, UsageRow

__all__ = ["gc_contribution"]


def gc_contribution() -> GcContribution:
    """Build cache's part of ``system prune`` (clear it) and ``system df`` (count it)."""

    def prune() -> PruneResult:
        cache = BuildCache()
        count = cache.clear()
        return PruneResult("build cache", (f"{count} entries",) if count else (), 0)

    def usage() -> UsageRow:
        cache = BuildCache()
        count = len(cache.entries())
        size = cache.size()
        return UsageRow("Build Cache", count, 0, size, size)

    return GcContribution("build cache", prune=prune, usage=usage)


