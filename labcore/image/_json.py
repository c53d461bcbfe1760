"""Typed accessors for parsed JSON documents that raise a clear error naming the document."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from labcore.errors import StoreError

__all__ = ["InvalidDocumentError", "load_object", "opt", "opt_str", "req", "str_list", "str_map"]


class InvalidDocumentError(StoreError):
    """A manifest, index, config or descriptor that breaks the OCI image spec."""

    default_hint = "the document is corrupt or not an OCI/Docker image document; fetch or import it again"


def load_object(data: bytes | str, what: str) -> dict[str, Any]:
    """Parse ``data`` as a JSON object; ``what`` names the document in errors."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidDocumentError(f"{what}: not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise InvalidDocumentError(f"{what}: expected a JSON object, got {type(document).__name__}")
    return document


def req(document: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    """The value of a required ``key`` of type ``kind``."""
    if key not in document:
        raise InvalidDocumentError(f"{what}: missing required field {key!r}")
    return opt(document, key, kind, what)


def opt(document: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    """The value of an optional ``key`` (None when absent or null), checked against ``kind``."""
    value = document.get(key)
    if value is None:
        return None
    # bool is an int in Python, but not in JSON
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
        raise InvalidDocumentError(f"{what}: field {key!r} has the wrong type {type(value).__name__}")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def opt_str(document: Mapping[str, Any], key: str, what: str) -> str | None:
    """An optional string field."""
    value: str | None = opt(document, key, str, what)
    return value


def str_list(document: Mapping[str, Any], key: str, what: str) -> tuple[str, ...] | None:
    """An optional list of strings, as a tuple."""
    value = opt(document, key, list, what)
    if value is None:
        return None
    if not all(isinstance(item, str) for item in value):
        raise InvalidDocumentError(f"{what}: field {key!r} must be a list of strings")
    return tuple(value)


def str_map(document: Mapping[str, Any], key: str, what: str) -> dict[str, str]:
    """An optional string-to-string map (empty when absent)."""
    value = opt(document, key, dict, what)
    if value is None:
        return {}
    if not all(isinstance(item, str) for item in value.values()):
        raise InvalidDocumentError(f"{what}: field {key!r} must map strings to strings")
    return dict(value)
