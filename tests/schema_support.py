"""Validate labcore's JSON documents against the OCI image-spec JSON schemas (draft-04).

The schemas live in ``shared/oci-schemas/image-spec`` beside the repository checkout;
``LABCORE_OCI_SCHEMAS`` overrides the ``oci-schemas`` folder. Their ``$ref`` targets are file names
that ``id`` keywords rebase onto several URLs, so every URL is resolved by its last path segment.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

REPO = Path(__file__).resolve().parents[1]

SCHEMA_FILES = {
    "manifest": "image-manifest-schema.json",
    "index": "image-index-schema.json",
    "config": "config-schema.json",
    "layout": "image-layout-schema.json",
    "descriptor": "content-descriptor.json",
}


def schema_dir() -> Path:
    """The ``image-spec`` schema folder (``$LABCORE_OCI_SCHEMAS/image-spec`` or beside the repo)."""
    base = Path(os.environ.get("LABCORE_OCI_SCHEMAS") or REPO.parent / "shared" / "oci-schemas")
    return base / "image-spec" if (base / "image-spec").is_dir() else base


def _load(name: str) -> Any:
    return json.loads((schema_dir() / name).read_text(encoding="utf-8"))


def _retrieve(uri: str) -> Resource[Any]:
    name = uri.rstrip("/").rsplit("/", 1)[-1]
    if not name.endswith(".json"):
        raise LookupError(f"no local schema for {uri}")
    return Resource.from_contents(_load(name), default_specification=DRAFT4)


@cache
def validator(kind: str) -> jsonschema.Draft4Validator:
    """A validator for ``kind``: manifest, index, config, layout or descriptor."""
    schema = _load(SCHEMA_FILES[kind])
    registry: Registry[Any] = Registry(retrieve=_retrieve)
    return jsonschema.Draft4Validator(schema, registry=registry, format_checker=jsonschema.FormatChecker())


def schema_errors(kind: str, document: Any) -> list[str]:
    """Every schema violation of ``document`` as ``path: message`` lines (empty when valid)."""
    errors = sorted(validator(kind).iter_errors(document), key=lambda error: list(error.absolute_path))
    return [f"{'/'.join(str(part) for part in error.absolute_path) or '<root>'}: {error.message}"
            for error in errors]


def assert_valid(kind: str, document: Any, what: str = "") -> None:
    """Fail with every violation listed when ``document`` does not validate as ``kind``."""
    errors = schema_errors(kind, document)
    assert not errors, f"{what or kind} is not a valid OCI {kind}:\n  " + "\n  ".join(errors)
