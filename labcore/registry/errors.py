"""Errors of the registry client, each with a hint that says what to do.

::

    RegistryError (labcore.errors)
    ├── RegistryUnreachableError   no connection, timeout, TLS failure
    ├── AuthenticationError        401: no or wrong credentials
    ├── AccessDeniedError          403: authenticated but not allowed
    ├── RegistryNotFoundError      404: repository, tag, manifest or blob missing
    ├── RateLimitedError           429: too many requests
    ├── RegistryServerError        5xx: the registry itself failed
    └── UnsupportedManifestError   schema 1 or an unknown media type
"""

from __future__ import annotations

from labcore.errors import RegistryError

__all__ = [
    "AccessDeniedError",
    "AuthenticationError",
    "RateLimitedError",
    "RegistryNotFoundError",
    "RegistryServerError",
    "RegistryUnreachableError",
    "UnsupportedManifestError",
]


class RegistryUnreachableError(RegistryError):
    """The registry could not be reached at all."""

    default_hint = "check the address and that the registry runs (`./lab up` starts the lab registry)"


class AuthenticationError(RegistryError):
    """The registry wants credentials we do not have, or refused the ones we sent."""

    default_hint = "run `labcore login REGISTRY` with a valid user name and password"


class AccessDeniedError(RegistryError):
    """The credentials were accepted but do not allow this action."""

    default_hint = "ask the registry's owner for access, or log in as a user who has it"


class RegistryNotFoundError(RegistryError):
    """The repository, tag, manifest or blob does not exist in the registry."""

    default_hint = "check the image name and tag; `labcore search REGISTRY` lists what is there"


class RateLimitedError(RegistryError):
    """The registry asks us to slow down (HTTP 429)."""

    default_hint = "wait a while and retry, log in (higher limits), or configure a mirror in registries.json"


class RegistryServerError(RegistryError):
    """The registry failed with a 5xx status."""

    default_hint = "the registry has a problem; retry later or check its logs"


class UnsupportedManifestError(RegistryError):
    """A manifest labcore cannot use (Docker schema 1, or an unknown media type)."""

    default_hint = "push the image again with a current tool (it writes OCI or Docker schema 2 manifests)"
