"""Authentication as Docker does it: anonymous, HTTP Basic, or a Bearer token from a token service.

A request goes out with whatever authorization we already hold. On ``401`` the registry's
``WWW-Authenticate`` challenge says what it wants: for ``Basic`` we send the saved credentials; for
``Bearer`` we ask the token service named by ``realm`` for a token covering every scope we have
needed so far (``repository:NAME:pull,push``), sending the credentials as Basic if we have any, and
retry once. Tokens are shared by the threads of one client.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Generator, Iterable

import httpx

from labcore.registry.challenge import Challenge, parse_challenge
from labcore.registry.credentials import Credentials
from labcore.registry.errors import AuthenticationError, RegistryUnreachableError

__all__ = ["RegistryAuth", "merge_scopes"]


def merge_scopes(scopes: Iterable[str]) -> list[str]:
    """Union the actions of scopes per resource.

    ``repository:a:pull`` and ``repository:a:push`` become ``repository:a:pull,push``.
    """
    actions: dict[str, set[str]] = {}
    for scope in scopes:
        for one in scope.split(" "):
            resource, sep, wanted = one.rpartition(":")
            if sep and resource:
                actions.setdefault(resource, set()).update(a for a in wanted.split(",") if a)
    return [f"{resource}:{','.join(sorted(acts))}" for resource, acts in sorted(actions.items())]


class RegistryAuth(httpx.Auth):
    """An ``httpx.Auth`` that answers Basic and Bearer challenges for one registry."""

    def __init__(
        self,
        registry: str,
        credentials: Credentials | None,
        token_client: httpx.Client,
        scopes: Iterable[str] = (),
    ) -> None:
        self.registry = registry
        self._credentials = credentials
        self._token_client = token_client
        self._scopes = set(merge_scopes(scopes))
        self._challenge: Challenge | None = None
        self._header: str | None = None
        self._header_scopes: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def want_scopes(self, scopes: Iterable[str]) -> None:
        """Ask for these scopes with the next token, so that streamed uploads need no retry."""
        with self._lock:
            self._scopes = set(merge_scopes([*self._scopes, *scopes]))

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Send ``request`` with our authorization; answer one challenge and retry."""
        header = self._current_header()
        if header:
            request.headers["Authorization"] = header
        response = yield request
        if response.status_code != 401:
            return
        challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge is None:
            return
        header = self._answer(challenge, failed=request.headers.get("Authorization"))
        if header is None:
            return
        request.headers["Authorization"] = header
        yield request

    def _current_header(self) -> str | None:
        with self._lock:
            if (
                self._challenge is not None
                and self._challenge.scheme == "bearer"
                and not self._scopes <= self._header_scopes
            ):
                self._fetch_bearer(self._challenge)
            return self._header

    def _answer(self, challenge: Challenge, failed: str | None) -> str | None:
        with self._lock:
            self._challenge = challenge
            if challenge.scheme == "basic":
                if self._credentials is None or failed is not None:
                    return None
                self._header = _basic(self._credentials)
            elif challenge.scheme == "bearer":
                if "scope" in challenge.params:
                    self._scopes = set(merge_scopes([*self._scopes, challenge.params["scope"]]))
                if failed is not None and failed != self._header:
                    return self._header  # another thread already fetched a fresh token
                self._fetch_bearer(challenge)
            else:
                return None
            return self._header

    def _fetch_bearer(self, challenge: Challenge) -> None:
        """Get a token for all wanted scopes from the challenge's realm (caller holds the lock)."""
        if not challenge.realm.startswith(("http://", "https://")):
            raise AuthenticationError(
                f"{self.registry}: bearer challenge without a usable realm ({challenge.realm!r})",
                hint="the registry's auth configuration is broken; tell its owner",
            )
        scopes = sorted(self._scopes)
        params: list[tuple[str, str | int | float | bool | None]] = [("scope", scope) for scope in scopes]
        if "service" in challenge.params:
            params.insert(0, ("service", challenge.params["service"]))
        basic = None
        if self._credentials is not None:
            basic = httpx.BasicAuth(self._credentials.username, self._credentials.password)
        try:
            response = self._token_client.get(challenge.realm, params=params, auth=basic)
        except httpx.TransportError as error:
            raise RegistryUnreachableError(
                f"{self.registry}: token service {challenge.realm} unreachable: {error}"
            ) from None
        if response.status_code in (401, 403):
            who = "anonymous access" if self._credentials is None else "user name or password"
            raise AuthenticationError(
                f"{self.registry}: the token service refused the {who} (HTTP {response.status_code})",
                hint=f"run `labcore login {self.registry}` with valid credentials",
            )
        token = None
        if response.status_code == 200:
            try:
                body = response.json()
                token = body.get("token") or body.get("access_token")
            except ValueError:
                token = None
        if not isinstance(token, str) or not token:
            raise AuthenticationError(
                f"{self.registry}: the token service at {challenge.realm} gave no token "
                f"(HTTP {response.status_code})",
                hint="the registry's token service is broken; retry later or tell its owner",
            )
        self._header = f"Bearer {token}"
        self._header_scopes = frozenset(scopes)


def _basic(credentials: Credentials) -> str:
    pair = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")
