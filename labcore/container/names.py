"""Container ids (64 hex digits, shown as 12) and Docker-style generated names (``adjective_noun``)."""

from __future__ import annotations

import os
import random
import re

from labcore.errors import UsageError

__all__ = ["SHORT_ID_LENGTH", "generate_name", "new_id", "short_id", "validate_name"]

SHORT_ID_LENGTH = 12
_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")

_ADJECTIVES = (
    "agitated", "amazing", "bold", "brave", "busy", "calm", "clever", "cool", "dazzling", "eager",
    "elated", "epic", "focused", "friendly", "funny", "gallant", "gifted", "happy", "hopeful",
    "jolly", "keen", "kind", "laughing", "lucid", "modest", "nifty", "nostalgic", "optimistic",
    "peaceful", "pensive", "quirky", "relaxed", "serene", "sharp", "silly", "sleepy", "stoic",
    "sweet", "tender", "trusting", "upbeat", "vibrant", "vigilant", "wizardly", "youthful", "zealous",
)  # fmt: skip
_NOUNS = (
    "babbage", "bohr", "curie", "darwin", "dijkstra", "einstein", "euler", "faraday", "fermi",
    "feynman", "galileo", "gauss", "hamilton", "hopper", "hypatia", "kepler", "knuth", "lamarr",
    "liskov", "lovelace", "maxwell", "meitner", "mendel", "newton", "noether", "pascal", "perlman",
    "ritchie", "shannon", "thompson", "torvalds", "turing", "wilson", "wozniak", "yonath",
)  # fmt: skip


def new_id() -> str:
    """A fresh random container id: 64 lowercase hex digits."""
    return os.urandom(32).hex()


def short_id(container_id: str) -> str:
    """The 12-digit form of an id that ``ps`` shows."""
    return container_id[:SHORT_ID_LENGTH]


def generate_name(taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A random ``adjective_noun`` name not in ``taken`` (a digit is appended if all tried are taken)."""
    chooser = random.SystemRandom()  # os.urandom, without importing `secrets` (and hashlib) for it
    for attempt in range(100):
        name = f"{chooser.choice(_ADJECTIVES)}_{chooser.choice(_NOUNS)}"
        if attempt >= 10:
            name += str(chooser.randrange(10_000))
        if name not in taken:
            return name
    return f"container_{os.urandom(6).hex()}"


def validate_name(name: str) -> str:
    """Return ``name`` if Docker would accept it as a container name, else raise UsageError."""
    if not _NAME_RE.match(name):
        raise UsageError(
            f"invalid container name {name!r}",
            hint="names start with a letter or digit and contain only [a-zA-Z0-9_.-]",
        )
    return name
