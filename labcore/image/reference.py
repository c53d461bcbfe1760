"""Image references by Docker's rules: ``busybox`` means ``docker.io/library/busybox:latest``.

Grammar (from Docker's ``distribution/reference``)::

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [ domain "/" ] path-component ( "/" path-component )*
    domain     := host [ ":" port ]              the first component, if it has "." or ":"
                                                 or is "localhost"
    path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
    tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}

A name without a domain lives on ``docker.io``; a one-component name there is in ``library/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from labcore.digest import Digest
from labcore.errors import InvalidReferenceError

__all__ = ["DEFAULT_DOMAIN", "DEFAULT_TAG", "Reference", "parse_reference"]

DEFAULT_DOMAIN = "docker.io"
DEFAULT_TAG = "latest"
_LEGACY_DOMAIN = "index.docker.io"
_OFFICIAL_PREFIX = "library/"
_MAX_NAME_LENGTH = 255

_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_BARE_ID = re.compile(r"[a-f0-9]{64}")


@dataclass(frozen=True)
class Reference:
    """A parsed, normalised image reference.

    ``domain`` is e.g. ``docker.io`` or ``localhost:5000``; ``path`` is the repository path
    (``library/busybox``); ``tag`` and ``digest`` are optional, and at least one of them is set
    after :meth:`with_default_tag`.
    """

    domain: str
    path: str
    tag: str | None = None
    digest: Digest | None = None

    @property
    def name(self) -> str:
        """The full repository name: ``docker.io/library/busybox``."""
        return f"{self.domain}/{self.path}"

    @property
    def familiar_name(self) -> str:
        """The repository as Docker shows it: ``busybox``, ``team/app``, ``localhost:5000/app``."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        if self.path.startswith(_OFFICIAL_PREFIX) and "/" not in self.path[len(_OFFICIAL_PREFIX) :]:
            return self.path[len(_OFFICIAL_PREFIX) :]
        return self.path

    @property
    def familiar(self) -> str:
        """The short form for display: ``busybox:latest``, ``localhost:5000/app@sha256:...``."""
        return self.familiar_name + self._suffix()

    def _suffix(self) -> str:
        text = f":{self.tag}" if self.tag is not None else ""
        return text + (f"@{self.digest}" if self.digest is not None else "")

    def with_default_tag(self) -> Reference:
        """Return this reference with ``:latest`` added when it has neither tag nor digest."""
        if self.tag is None and self.digest is None:
            return replace(self, tag=DEFAULT_TAG)
        return self

    def with_tag(self, tag: str) -> Reference:
        """The same repository with ``tag`` and no digest."""
        _check_tag(tag, f"{self.name}:{tag}")
        return Reference(self.domain, self.path, tag, None)

    def with_digest(self, digest: Digest) -> Reference:
        """The same repository pinned to ``digest``, without a tag."""
        return Reference(self.domain, self.path, None, digest)

    def __str__(self) -> str:
        return self.name + self._suffix()


def _check_tag(tag: str, text: str) -> None:
    if not _TAG.fullmatch(tag):
        raise InvalidReferenceError(
            f"invalid reference {text!r}: tag {tag!r} breaks the tag rule",
            hint="a tag is 1-128 of letters, digits, '_', '.', '-', not starting with '.' or '-'",
        )


def _split_domain(name: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    looks_like_domain = "." in first or ":" in first or first == "localhost" or first.lower() != first
    if not slash or not looks_like_domain:
        return DEFAULT_DOMAIN, name
    return first, rest


def parse_reference(text: str) -> Reference:
    """Parse ``text`` into a normalised :class:`Reference` (no default tag is added).

    Raise :class:`InvalidReferenceError` naming ``text`` and the rule it breaks.
    """
    if not text:
        raise InvalidReferenceError("invalid reference '': the reference is empty")
    if _BARE_ID.fullmatch(text):
        raise InvalidReferenceError(
            f"invalid reference {text!r}: a 64-digit hex string is an image id, not a repository name",
            hint="refer to the image by its id with `sha256:` in front, or give a repository name",
        )
    remainder, at, digest_text = text.partition("@")
    try:
        digest = Digest.parse(digest_text) if at else None
    except InvalidReferenceError as error:
        raise InvalidReferenceError(f"invalid reference {text!r}: {error.message}", hint=error.hint) from None
    name, tag = remainder, None
    last_colon, last_slash = remainder.rfind(":"), remainder.rfind("/")
    if last_colon > last_slash:
        name, tag = remainder[:last_colon], remainder[last_colon + 1 :]
        _check_tag(tag, text)
    domain, path = _split_domain(name)
    if domain == _LEGACY_DOMAIN:
        domain = DEFAULT_DOMAIN
    if not _DOMAIN.fullmatch(domain):
        raise InvalidReferenceError(f"invalid reference {text!r}: {domain!r} is not a valid registry host")
    if path.lower() != path:
        raise InvalidReferenceError(
            f"invalid reference {text!r}: repository name must be lowercase",
            hint=f"use {str(text).lower()!r}",
        )
    for component in path.split("/"):
        if not _PATH_COMPONENT.fullmatch(component):
            raise InvalidReferenceError(
                f"invalid reference {text!r}: path component {component!r} breaks the naming rule",
                hint="components are lowercase letters and digits, joined by '.', '_', '__' or dashes",
            )
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = _OFFICIAL_PREFIX + path
    if len(f"{domain}/{path}") > _MAX_NAME_LENGTH:
        raise InvalidReferenceError(
            f"invalid reference {text!r}: the repository name is longer than {_MAX_NAME_LENGTH} characters"
        )
    return Reference(domain, path, tag, digest)
