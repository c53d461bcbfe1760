r"""``.dockerignore`` patterns, with Docker's rules.

A pattern is cleaned like a path (``/foo``, ``./foo`` and ``foo/`` all mean ``foo``); ``*`` and ``?``
stop at ``/``; ``**`` matches any number of directories, none included; ``[...]`` is a class negated
by ``^``; ``\\`` escapes. A pattern matches a path when it matches the path or one of its parent
directories, and the last matching line decides: ``!pattern`` re-includes.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from labcore.errors import UsageError

__all__ = ["IgnoreRules", "Pattern", "glob_regex"]


@dataclass(frozen=True)
class Pattern:
    """One line of a ``.dockerignore``: a glob, and whether it re-includes (``!``)."""

    text: str
    exception: bool
    regex: re.Pattern[str]
    line: int


def glob_regex(pattern: str, where: str) -> re.Pattern[str]:
    r"""A compiled regex for a Docker glob (``*``, ``?``, ``[...]``, ``**``, ``\\``); ``where`` names it in errors."""
    out = ["^"]
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            if pattern.startswith("**", i):
                i += 2
                if pattern.startswith("/", i):
                    out.append("(?:.*/)?")
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\":
            i += 1
            if i >= len(pattern):
                raise UsageError(f"{where}: pattern {pattern!r} ends with a lone backslash",
                                 hint="escape a character, e.g. \\*, or drop the backslash")
            out.append(re.escape(pattern[i]))
        elif char == "[":
            end = pattern.find("]", i + 2 if pattern.startswith("[^", i) else i + 1)
            if end == -1:
                raise UsageError(f"{where}: pattern {pattern!r} has an unterminated [",
                                 hint="close the character class with ]")
            body = pattern[i + 1:end]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            escaped = body.replace("\\", "\\\\").replace("[", "\\[")
            out.append(f"[{'^' if negate else ''}{escaped}]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    out.append("$")
    return re.compile("".join(out), re.DOTALL)


class IgnoreRules:
    """The patterns of one ``.dockerignore`` file."""

    def __init__(self, patterns: list[Pattern]) -> None:
        self.patterns = patterns

    @classmethod
    def parse(cls, text: str, source: str = ".dockerignore") -> IgnoreRules:
        """Parse the text of a ``.dockerignore``; bad lines raise ``UsageError`` naming the line."""
        patterns = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            where = f"{source}:{number}"
            exception = line.startswith("!")
            if exception:
                line = line[1:].strip()
                if not line:
                    raise UsageError(f"{where}: a lone '!' excludes nothing",
                                     hint="write the pattern to re-include after the '!'")
            cleaned = posixpath.normpath(line).lstrip("/") or "."
            patterns.append(Pattern(cleaned, exception, glob_regex(cleaned, where), number))
        return cls(patterns)

    @classmethod
    def for_context(cls, context: Path) -> IgnoreRules:
        """The rules of ``context/.dockerignore``, or none when it does not exist."""
        path = context / ".dockerignore"
        if not path.is_file():
            return cls([])
        return cls.parse(path.read_text(encoding="utf-8"), str(path))

    def excludes(self, relative_path: str) -> bool:
        """Whether ``relative_path`` (from the context root, ``/``-separated) is left out."""
        path = posixpath.normpath(relative_path).lstrip("/")
        candidates = [path]
        parent = posixpath.dirname(path)
        while parent:
            candidates.append(parent)
            parent = posixpath.dirname(parent)
        excluded = False
        for pattern in self.patterns:
            if any(pattern.regex.match(candidate) for candidate in candidates):
                excluded = not pattern.exception
        return excluded

    @property
    def has_exceptions(self) -> bool:
        """True when a ``!`` line may re-include something inside an excluded directory."""
        return any(pattern.exception for pattern in self.patterns)
