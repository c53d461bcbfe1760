"""The build cache's part in ``labcore system prune`` and ``labcore system df``."""

from labcore.build.cache import gc_contribution

__all__ = ["gc_contribution"]
