"""Parse ``WWW-Authenticate`` challenges such as ``Bearer realm="...",service="...",scope="..."``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Challenge", "parse_challenge"]

_PARAM_RE = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')


@dataclass(frozen=True)
class Challenge:
    """One authentication challenge: a scheme (``basic`` or ``bearer``) and its parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str:
        """The realm; for Bearer, the URL of the token service."""
        return self.params.get("realm", "")


def parse_challenge(header: str) -> Challenge | None:
    """The challenge in a ``WWW-Authenticate`` value, or ``None`` if it is empty or malformed."""
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params: dict[str, str] = {}
    position = 0
    while position < len(rest):
        match = _PARAM_RE.match(rest, position)
        if match is None or match.end() == position:
            break
        quoted, bare = match[2], match[3]
        params[match[1].lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        position = match.end()
    return Challenge(scheme.lower(), params)
