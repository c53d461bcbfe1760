"""A client of the OCI distribution API (Docker Registry HTTP API v2) for one registry endpoint.

Each method is one request of the protocol; pulling and pushing whole images is built on top in
:mod:`labcore.registry.pull` and :mod:`labcore.registry.push`. Errors become
:class:`~labcore.errors.RegistryError` subclasses that name the request and say what to do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urljoin

import httpx

from labcore.digest import Digest
from labcore.errors import DigestError, InvalidReferenceError, RegistryError
from labcore.image import mediatypes
from labcore.registry.auth import RegistryAuth
from labcore.registry.credentials import Credentials, lookup_credentials
from labcore.registry.errors import (
    RegistryNotFoundError,
    RegistryUnreachableError,
    UnsupportedManifestError,
)
from labcore.registry.hosts import Endpoint
from labcore.registry.status import check_response

__all__ = ["MANIFEST_ACCEPT", "FetchedManifest", "RegistryClient"]

_SCHEMA1_TYPES = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
# Everything labcore can use, best first; schema 1 is deliberately absent.
MANIFEST_ACCEPT = ", ".join(
    (
        mediatypes.OCI_INDEX,
        mediatypes.DOCKER_MANIFEST_LIST,
        mediatypes.OCI_MANIFEST,
        mediatypes.DOCKER_MANIFEST,
    )
)
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


@dataclass(frozen=True)
class FetchedManifest:
    """A manifest or index exactly as the registry sent it."""

    media_type: str
    data: bytes
    digest: Digest


class RegistryClient:
    """Requests to one registry endpoint, authenticated as Docker does; use as a context manager.

    ``registry`` is the name credentials are saved under (``docker.io``, ``127.0.0.1:5000``);
    ``endpoint`` is where requests go (a mirror or the origin). ``transport`` replaces the network
    (tests pass an ``httpx.MockTransport``).
    """

    def __init__(
        self,
        registry: str,
        endpoint: Endpoint,
        *,
        credentials: Credentials | None = None,
        use_saved_credentials: bool = True,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = _TIMEOUT,
    ) -> None:
        self.registry = registry
        self.endpoint = endpoint
        if credentials is None and use_saved_credentials and not endpoint.mirror:
            credentials = lookup_credentials(registry)
        self._http = httpx.Client(transport=transport, timeout=timeout, follow_redirects=True)
        self.auth = RegistryAuth(registry, credentials, self._http)

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return self.endpoint.url(path)

    def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        """Send one request (``url`` absolute or ``/v2/...``); connection failures become errors."""
        if url.startswith("/"):
            url = self._url(url)
        try:
            return self._http.request(method, url, auth=self.auth, **kwargs)  # type: ignore[arg-type]
        except httpx.TransportError as error:
            raise RegistryUnreachableError(
                f"{self.registry}: cannot reach {self.endpoint.base_url}: {error or type(error).__name__}"
            ) from None

    @contextmanager
    def stream(self, method: str, path: str, **kwargs: object) -> Iterator[httpx.Response]:
        """Like :meth:`request`, but the body is left unread for streaming."""
        try:
            with self._http.stream(
                method, self._url(path), auth=self.auth, **kwargs  # type: ignore[arg-type]
            ) as response:
                yield response
        except httpx.TransportError as error:
            raise RegistryUnreachableError(
                f"{self.registry}: connection to {self.endpoint.base_url} failed: "
                f"{error or type(error).__name__}",
                hint="retry; blobs already verified are kept and not fetched again",
            ) from None

    # -- base -----------------------------------------------------------------------------------

    def ping(self) -> None:
        """``GET /v2/``: check that this is a v2 registry we may talk to."""
        response = self.request("GET", "/v2/")
        check_response(response, "API version check (/v2/)", self.registry)

    # -- manifests ------------------------------------------------------------------------------

    def get_manifest(self, repository: str, reference: str) -> FetchedManifest:
        """``GET /v2/<name>/manifests/<tag-or-digest>``; schema 1 is refused, saying why."""
        what = f"manifest {repository}{'@' if ':' in reference else ':'}{reference}"
        response = self.request(
            "GET", f"/v2/{repository}/manifests/{reference}", headers={"Accept": MANIFEST_ACCEPT}
        )
        check_response(response, what, self.registry)
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        data = response.content
        if not media_type or media_type in ("application/json", "text/plain"):
            media_type = _media_type_in(data)
        if media_type in _SCHEMA1_TYPES:
            raise UnsupportedManifestError(
                f"{self.registry}: {what} is a Docker schema 1 manifest, which labcore refuses: it has "
                "no content-addressed config and its signatures cannot be verified"
            )
        digest = Digest.of_bytes(data)
        header = response.headers.get("Docker-Content-Digest")
        if header:
            _check_digest_header(header, digest, what)
        return FetchedManifest(media_type, data, digest)

    def head_manifest(self, repository: str, reference: str) -> Digest | None:
        """``HEAD`` a manifest: its digest, or ``None`` when absent."""
        response = self.request(
            "HEAD", f"/v2/{repository}/manifests/{reference}", headers={"Accept": MANIFEST_ACCEPT}
        )
        if response.status_code == 404:
            return None
        check_response(response, f"manifest {repository}:{reference}", self.registry)
        header = response.headers.get("Docker-Content-Digest")
        return Digest.parse(header) if header else None

    def put_manifest(self, repository: str, reference: str, media_type: str, data: bytes) -> Digest:
        """``PUT`` a manifest under a tag or its digest; returns the digest of ``data``."""
        response = self.request(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            content=data,
            headers={"Content-Type": media_type},
        )
        check_response(response, f"upload of manifest {repository}:{reference}", self.registry, ok=(201,))
        return Digest.of_bytes(data)

    def delete_manifest(self, repository: str, digest: Digest) -> None:
        """``DELETE`` a manifest by digest (the registry must allow deletes)."""
        response = self.request("DELETE", f"/v2/{repository}/manifests/{digest}")
        check_response(response, f"delete of {repository}@{digest}", self.registry, ok=(202,))

    # -- blobs ----------------------------------------------------------------------------------

    def blob_size(self, repository: str, digest: Digest) -> int | None:
        """``HEAD`` a blob: its size when the registry has it in ``repository``, else ``None``."""
        response = self.request("HEAD", f"/v2/{repository}/blobs/{digest}")
        if response.status_code == 404:
            return None
        check_response(response, f"blob {repository}@{digest}", self.registry)
        return int(response.headers.get("Content-Length", "0"))

    @contextmanager
    def open_blob(self, repository: str, digest: Digest) -> Iterator[httpx.Response]:
        """``GET`` a blob, its body unread; the caller streams and verifies it."""
        with self.stream("GET", f"/v2/{repository}/blobs/{digest}") as response:
            check_response(response, f"blob {repository}@{digest}", self.registry)
            yield response

    def start_upload(
        self, repository: str, mount: Digest | None = None, source: str | None = None
    ) -> str | None:
        """``POST`` to start an upload; ``None`` when the registry mounted ``mount`` from ``source``.

        Returns the upload location to ``PATCH`` or ``PUT`` to.
        """
        params = {"mount": str(mount), "from": source} if mount is not None and source else None
        response = self.request("POST", f"/v2/{repository}/blobs/uploads/", params=params)
        check_response(response, f"start of blob upload to {repository}", self.registry, ok=(201, 202))
        if response.status_code == 201:
            return None
        return self._location(response, repository)

    def patch_upload(
        self, repository: str, location: str, chunks: Iterable[bytes], offset: int, size: int
    ) -> str:
        """``PATCH`` one chunk of ``size`` bytes at ``offset``; returns the next location."""
        response = self.request(
            "PATCH",
            location,
            content=chunks,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{offset}-{offset + size - 1}",
                "Content-Length": str(size),
            },
        )
        check_response(response, f"blob upload to {repository}", self.registry, ok=(202,))
        return self._location(response, repository)

    def commit_upload(
        self, repository: str, location: str, digest: Digest, chunks: Iterable[bytes] = (), size: int = 0
    ) -> None:
        """``PUT`` the upload with its digest (and the last ``size`` bytes, for a monolithic upload)."""
        separator = "&" if "?" in location else "?"
        response = self.request(
            "PUT",
            f"{location}{separator}digest={digest}",
            content=chunks,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
        )
        check_response(response, f"commit of blob {digest} to {repository}", self.registry, ok=(201,))

    def _location(self, response: httpx.Response, repository: str) -> str:
        location = response.headers.get("Location")
        if not location:
            raise RegistryError(
                f"{self.registry}: upload to {repository}: the registry sent no Location header",
                hint="the registry does not follow the distribution API; use another registry",
            )
        return str(urljoin(str(response.url), location))

    # -- listing --------------------------------------------------------------------------------

    def tags(self, repository: str) -> list[str]:
        """``GET /v2/<name>/tags/list``, following pagination."""
        return self._paginated(f"/v2/{repository}/tags/list", "tags", f"tags of {repository}")

    def catalog(self) -> list[str]:
        """``GET /v2/_catalog``: every repository (a Docker registry extension, not part of OCI)."""
        try:
            return self._paginated("/v2/_catalog", "repositories", "catalog (a Docker registry extension)")
        except RegistryNotFoundError as error:
            raise RegistryNotFoundError(
                error.message, hint="this registry does not offer the catalog extension; ask for a name"
            ) from None

    def _paginated(self, path: str, key: str, what: str) -> list[str]:
        found: list[str] = []
        url: str | None = self._url(path)
        while url is not None:
            response = self.request("GET", url)
            check_response(response, what, self.registry)
            try:
                items = response.json().get(key) or []
            except (ValueError, AttributeError):
                raise RegistryError(
                    f"{self.registry}: {what}: the answer is not the JSON the API promises",
                    hint="the server is not a distribution registry; check the address",
                ) from None
            found.extend(str(item) for item in items)
            match = _LINK_NEXT.search(response.headers.get("Link", ""))
            url = urljoin(str(response.url), match[1]) if match else None
        return found


def _media_type_in(data: bytes) -> str:
    """The ``mediaType`` field of a manifest served without a useful Content-Type."""
    try:
        document = json.loads(data)
    except ValueError:
        return ""
    if isinstance(document, dict):
        if document.get("schemaVersion") == 1:
            return _SCHEMA1_TYPES[0]
        media_type = document.get("mediaType")
        if isinstance(media_type, str):
            return media_type
        if "manifests" in document:
            return mediatypes.OCI_INDEX
        if "layers" in document:
            return mediatypes.OCI_MANIFEST
    return ""


def _check_digest_header(header: str, actual: Digest, what: str) -> None:
    try:
        claimed = Digest.parse(header)
    except InvalidReferenceError:
        raise DigestError(f"{what}: the registry sent a malformed Docker-Content-Digest {header!r}") from None
    if claimed.algorithm == actual.algorithm and claimed != actual:
        raise DigestError(f"{what}: the registry claims digest {claimed}, but the content has {actual}")
