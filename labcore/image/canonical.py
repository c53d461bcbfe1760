"""Deterministic JSON bytes for the manifests, indexes and configs labcore writes.

Like Go's ``encoding/json`` (which Docker and containerd use): compact separators, fields in the
order the struct declares them, map keys sorted, UTF-8 output. The callers build dicts with their
fields in spec order; :func:`canonical_json` sorts only the keys of free-form maps, which the
callers mark by passing them through :func:`sorted_map`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["canonical_json", "sorted_map"]


def sorted_map(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a free-form map (labels, annotations, ports) with its keys in sorted order."""
    return {key: mapping[key] for key in sorted(mapping)}


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """``document`` as compact UTF-8 JSON bytes, keys in the order given."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
