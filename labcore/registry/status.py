"""Turn a registry's error response into a :class:`~labcore.errors.RegistryError` that says what to do."""

from __future__ import annotations

import contextlib

import httpx

from labcore.errors import RegistryError
from labcore.registry.errors import (
    AccessDeniedError,
    AuthenticationError,
    RateLimitedError,
    RegistryNotFoundError,
    RegistryServerError,
)

__all__ = ["check_response", "error_for"]


def _registry_detail(response: httpx.Response) -> str:
    """The ``errors[].code: message`` list from a distribution error body, if there is one."""
    try:
        body = response.json()
    except (ValueError, httpx.ResponseNotRead):
        return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return ""
    parts = [
        f"{item.get('code', '?')}: {item.get('message', '')}".strip()
        for item in errors
        if isinstance(item, dict)
    ]
    return "; ".join(parts)


def error_for(response: httpx.Response, what: str, registry: str) -> RegistryError:
    """The error for a failed ``response`` to a request about ``what`` (e.g. ``manifest busybox:1``)."""
    status = response.status_code
    detail = _registry_detail(response)
    message = f"{registry}: {what}: HTTP {status}" + (f" ({detail})" if detail else "")
    if status == 401:
        return AuthenticationError(
            message + " — authentication required or refused",
            hint=f"run `labcore login {registry}` with a valid user name and password",
        )
    if status == 403:
        return AccessDeniedError(message + " — access denied")
    if status == 404:
        return RegistryNotFoundError(message + " — not found")
    if status == 429:
        retry = response.headers.get("Retry-After")
        hint = RateLimitedError.default_hint + (f" (the registry says: after {retry}s)" if retry else "")
        return RateLimitedError(message + " — too many requests", hint=hint)
    if status >= 500:
        return RegistryServerError(message + " — the registry failed")
    return RegistryError(message, hint="the registry rejected the request; its error code above says why")


def check_response(response: httpx.Response, what: str, registry: str, ok: tuple[int, ...] = (200,)) -> None:
    """Raise the matching error unless ``response`` has one of the ``ok`` statuses."""
    if response.status_code not in ok:
        if not response.is_closed:
            with contextlib.suppress(httpx.HTTPError):
                response.read()
        raise error_for(response, what, registry)
