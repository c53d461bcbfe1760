"""Registry credentials in a Docker-compatible ``config.json`` (``{"auths": {host: {"auth": b64}}}``).

The file is ``$LABCORE_AUTH/config.json`` when ``LABCORE_AUTH`` is set (like ``DOCKER_CONFIG``),
else ``$LABCORE_ROOT/auth/config.json``. It is written atomically with mode 0600, and keys other
than ``auths`` (Docker's ``credsStore`` and friends) are kept as they were. Passwords are never
printed or logged: :class:`Credentials` hides them from ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labcore.config import settings
from labcore.errors import UsageError
from labcore.fs.atomic import write_atomic

__all__ = ["Credentials", "auth_config_path", "forget_credentials", "lookup_credentials", "save_credentials"]

# Docker stores Docker Hub's credentials under this legacy key.
_DOCKER_HUB_KEY = "https://index.docker.io/v1/"


@dataclass(frozen=True)
class Credentials:
    """A user name and password (or token) for one registry."""

    username: str
    password: str = field(repr=False)


def auth_config_path() -> Path:
    """Where credentials are kept."""
    directory = os.environ.get("LABCORE_AUTH")
    return Path(directory) / "config.json" if directory else settings().root / "auth" / "config.json"


def _key(registry: str) -> str:
    return _DOCKER_HUB_KEY if registry == "docker.io" else registry


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(
            f"{path}: line {error.lineno}: not valid JSON ({error.msg})",
            hint=f"fix or delete {path}, then run `labcore login` again",
        ) from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: the top level must be an object", hint=f"delete {path} and log in again")
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` atomically with ``data``; the file is never readable by others."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True).encode() + b"\n", mode=0o600)


def lookup_credentials(registry: str, path: Path | None = None) -> Credentials | None:
    """The saved credentials for ``registry``, or ``None`` to go anonymous."""
    path = path or auth_config_path()
    entry = _read(path).get("auths", {}).get(_key(registry))
    if not isinstance(entry, dict) or not entry.get("auth"):
        return None
    try:
        user, sep, password = base64.b64decode(entry["auth"], validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, TypeError):
        sep = ""
    if not sep:
        raise UsageError(
            f"{path}: the entry for {registry!r} is not base64 of user:password",
            hint=f"run `labcore logout {registry}` and `labcore login {registry}` again",
        )
    return Credentials(user, password)


def save_credentials(registry: str, credentials: Credentials, path: Path | None = None) -> Path:
    """Remember ``credentials`` for ``registry``; returns the file written."""
    path = path or auth_config_path()
    data = _read(path)
    token = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode("ascii")
    data.setdefault("auths", {})[_key(registry)] = {"auth": token}
    _write(path, data)
    return path


def forget_credentials(registry: str, path: Path | None = None) -> bool:
    """Remove the credentials for ``registry``; False when there were none."""
    path = path or auth_config_path()
    data = _read(path)
    if data.get("auths", {}).pop(_key(registry), None) is None:
        return False
    _write(path, data)
    return True
