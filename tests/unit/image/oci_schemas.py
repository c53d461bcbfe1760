"""Validate documents against the OCI image-spec JSON schemas (Draft-04) kept beside the repo."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

# the `shared` folder sits beside the repository checkout
REPO_ROOT = Path(__file__).resolve().parents[3]
SCHEMA_FILES = {
    "manifest": "image-manifest-schema.json",
    "index": "image-index-schema.json",
    "config": "config-schema.json",
    "layout": "image-layout-schema.json",
    "descriptor": "content-descriptor.json",
}


def schema_dir() -> Path:
    """The image-spec schema folder (env ``LABCORE_OCI_SCHEMAS`` overrides the default)."""
    base = Path(os.environ.get("LABCORE_OCI_SCHEMAS") or REPO_ROOT / "../shared/oci-schemas")
    return base / "image-spec" if (base / "image-spec").is_dir() else base


def _retrieve(uri: str) -> Resource[Any]:
    # every $ref in the image-spec schemas names a file of the same folder, whatever base URI
    # the nested "id"s set, so resolve by file name
    name = uri.rstrip("/").rsplit("/", 1)[-1]
    return DRAFT4.create_resource(json.loads((schema_dir() / name).read_text()))


@cache
def _validator(kind: str) -> jsonschema.Draft4Validator:
    path = schema_dir() / SCHEMA_FILES[kind]
    if not path.is_file():
        pytest.skip(f"OCI schemas not found at {schema_dir()} (set LABCORE_OCI_SCHEMAS)")
    registry: Registry[Any] = Registry(retrieve=_retrieve)
    schema = json.loads(path.read_text())
    validator = jsonschema.Draft4Validator(
        schema, registry=registry, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    return validator


def validate(kind: str, document: bytes | dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``document`` is a valid ``kind`` document."""
    parsed = json.loads(document) if isinstance(document, bytes) else document
    _validator(kind).validate(parsed)
