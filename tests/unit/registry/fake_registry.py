"""An in-memory distribution registry for ``httpx.MockTransport``: no sockets, faults on demand."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import httpx

from labcore.digest import Digest
from labcore.image.descriptor import Descriptor
from labcore.image.store import Store


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class FakeRegistry:
    """Holds blobs and manifests; ``auth`` is None, ``"basic"`` or ``"bearer"``."""

    host: str = "registry.test"
    users: dict[str, str] = field(default_factory=dict)
    auth: str | None = None
    blobs: dict[str, bytes] = field(default_factory=dict)
    repo_blobs: dict[str, set[str]] = field(default_factory=dict)
    manifests: dict[tuple[str, str], tuple[str, bytes]] = field(default_factory=dict)
    corrupt: set[str] = field(default_factory=set)
    truncate: set[str] = field(default_factory=set)
    status: dict[str, int] = field(default_factory=dict)  # path regex → status to answer
    lie_about_manifest: bool = False
    log: list[tuple[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)
    uploads: dict[str, bytearray] = field(default_factory=dict)
    page_size: int | None = None

    realm = "https://auth.test/token"

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # -- content --------------------------------------------------------------------------------

    def add_blob(self, repository: str, data: bytes) -> str:
        digest = sha(data)
        self.blobs[digest] = data
        self.repo_blobs.setdefault(repository, set()).add(digest)
        return digest

    def add_manifest(self, repository: str, tag: str | None, media_type: str, data: bytes) -> str:
        digest = sha(data)
        self.manifests[(repository, digest)] = (media_type, data)
        if tag:
            self.manifests[(repository, tag)] = (media_type, data)
        return digest

    # -- protocol -------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        self.log.append((request.method, url.path))
        if url.host == "auth.test":
            return self._token(request)
        for pattern, code in self.status.items():
            if re.search(pattern, url.path):
                return httpx.Response(code, json={"errors": [{"code": "FAULT", "message": "injected"}]},
                                      headers={"Retry-After": "7"} if code == 429 else {})
        denied = self._check_auth(request)
        if denied is not None:
            return denied
        path = url.path
        if path == "/v2/":
            return httpx.Response(200, json={})
        if path == "/v2/_catalog":
            return self._page(request, sorted({repo for repo, _ in self.manifests}), "repositories")
        match = re.fullmatch(r"/v2/(.+)/(manifests|blobs|tags)/(.*)", path)
        if match is None:
            return httpx.Response(404)
        repository, kind, rest = match.groups()
        if kind == "tags":
            tags = sorted(ref for repo, ref in self.manifests if repo == repository and ":" not in ref)
            if not tags:
                return self._error(404, "NAME_UNKNOWN")
            return self._page(request, tags, "tags", {"name": repository})
        if kind == "manifests":
            return self._manifest(request, repository, rest)
        if rest.startswith("uploads/"):
            return self._upload(request, repository, rest[len("uploads/"):])
        return self._blob(request, repository, rest)

    def _error(self, code: int, name: str) -> httpx.Response:
        return httpx.Response(code, json={"errors": [{"code": name, "message": name.lower()}]})

    def _page(self, request: httpx.Request, items: list[str], key: str,
              extra: dict[str, str] | None = None) -> httpx.Response:
        last = request.url.params.get("last")
        if last:
            items = [item for item in items if item > last]
        headers = {}
        if self.page_size is not None and len(items) > self.page_size:
            items = items[: self.page_size]
            headers["Link"] = f'<{request.url.path}?n={self.page_size}&last={items[-1]}>; rel="next"'
        return httpx.Response(200, json={**(extra or {}), key: items}, headers=headers)

    def _check_auth(self, request: httpx.Request) -> httpx.Response | None:
        header = request.headers.get("Authorization", "")
        if self.auth == "basic":
            if header.startswith("Basic "):
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                if self.users.get(user) == password:
                    return None
            return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="fake"'},
                                  json={"errors": [{"code": "UNAUTHORIZED", "message": "login"}]})
        if self.auth == "bearer":
            scope = self._scope_for(request)
            if header.startswith("Bearer "):
                granted = json.loads(base64.b64decode(header[7:]))
                if scope is None or scope in granted:
                    return None
            challenge = f'Bearer realm="{self.realm}",service="fake"'
            if scope:
                challenge += f',scope="{scope}"'
            return httpx.Response(401, headers={"WWW-Authenticate": challenge})
        return None

    @staticmethod
    def _scope_for(request: httpx.Request) -> str | None:
        match = re.fullmatch(r"/v2/(.+)/(manifests|blobs|tags)/.*", request.url.path)
        if match is None:
            return None
        action = "pull" if request.method in ("GET", "HEAD") else "push"
        return f"repository:{match[1]}:{action}"

    def _token(self, request: httpx.Request) -> httpx.Response:
        query = parse_qs(request.url.query.decode())
        self.token_requests.append(query)
        header = request.headers.get("Authorization", "")
        if header:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            if self.users.get(user) != password:
                return httpx.Response(401, json={"details": "bad credentials"})
        elif self.users:
            return httpx.Response(200, json={"token": base64.b64encode(b"[]").decode()})
        granted = []
        for scope in query.get("scope", []):
            resource, _, actions = scope.rpartition(":")
            granted.extend(f"{resource}:{action}" for action in actions.split(","))
        return httpx.Response(200, json={"token": base64.b64encode(json.dumps(granted).encode()).decode()})

    def _manifest(self, request: httpx.Request, repository: str, reference: str) -> httpx.Response:
        if request.method == "PUT":
            data = request.read()
            self.add_manifest(repository, None if ":" in reference else reference,
                              request.headers["Content-Type"], data)
            return httpx.Response(201, headers={"Docker-Content-Digest": sha(data)})
        if request.method == "DELETE":
            found = self.manifests.pop((repository, reference), None)
            return httpx.Response(202) if found else self._error(404, "MANIFEST_UNKNOWN")
        found = self.manifests.get((repository, reference))
        if found is None:
            return self._error(404, "MANIFEST_UNKNOWN")
        media_type, data = found
        digest = sha(data)
        if self.lie_about_manifest:
            data = data.replace(b'"size":', b'"size": ')
        headers = {"Content-Type": media_type, "Docker-Content-Digest": digest}
        return httpx.Response(200, content=b"" if request.method == "HEAD" else data, headers=headers)

    def _blob(self, request: httpx.Request, repository: str, digest: str) -> httpx.Response:
        if digest not in self.repo_blobs.get(repository, set()):
            return self._error(404, "BLOB_UNKNOWN")
        data = self.blobs[digest]
        if request.method == "HEAD":
            return httpx.Response(200, headers={"Content-Length": str(len(data))})
        if digest in self.corrupt:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        if digest in self.truncate:
            data = data[: len(data) // 2]
        return httpx.Response(200, content=data)

    def _upload(self, request: httpx.Request, repository: str, session: str) -> httpx.Response:
        if request.method == "POST":
            mount, source = request.url.params.get("mount"), request.url.params.get("from")
            if mount and source and mount in self.repo_blobs.get(source, set()):
                self.repo_blobs.setdefault(repository, set()).add(mount)
                return httpx.Response(201)
            session = uuid.uuid4().hex
            self.uploads[session] = bytearray()
            return httpx.Response(202, headers={"Location": f"/v2/{repository}/blobs/uploads/{session}"})
        session = session.split("?")[0]
        if request.method == "PATCH":
            body = request.read()
            start = int(request.headers.get("Content-Range", "0-0").split("-")[0])
            if start != len(self.uploads[session]):
                return httpx.Response(416)
            self.uploads[session] += body
            return httpx.Response(202, headers={"Location": f"/v2/{repository}/blobs/uploads/{session}"})
        if request.method == "PUT":
            self.uploads[session] += request.read()
            data = bytes(self.uploads.pop(session))
            wanted = request.url.params["digest"]
            if sha(data) != wanted:
                return self._error(400, "DIGEST_INVALID")
            self.add_blob(repository, data)
            return httpx.Response(201, headers={"Docker-Content-Digest": wanted})
        return httpx.Response(405)


def digest_of(text: str) -> Digest:
    return Digest.parse(text)


OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


@dataclass
class FakeImage:
    config: bytes
    layers: list[bytes]
    manifest: bytes

    @property
    def digest(self) -> str:
        return sha(self.manifest)

    @property
    def blobs(self) -> list[bytes]:
        return [self.config, *self.layers]


def make_image(architecture: str = "amd64", layers: tuple[bytes, ...] = (b"layer one", b"layer two"),
               variant: str | None = None) -> FakeImage:
    """A small (not unpackable) image: a real config and opaque layer blobs."""
    config_doc = {"architecture": architecture, "os": "linux",
                  "rootfs": {"type": "layers", "diff_ids": [sha(layer) for layer in layers]},
                  "config": {}}
    if variant:
        config_doc["variant"] = variant
    config = json.dumps(config_doc).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(config),
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha(layer),
                    "size": len(layer)} for layer in layers],
    }).encode()
    return FakeImage(config, list(layers), manifest)


def publish(registry: FakeRegistry, repository: str, tag: str | None, image: FakeImage) -> str:
    for blob in image.blobs:
        registry.add_blob(repository, blob)
    return registry.add_manifest(repository, tag, OCI_MANIFEST, image.manifest)


def publish_index(registry: FakeRegistry, repository: str, tag: str,
                  images: list[tuple[FakeImage, str]]) -> str:
    """Publish each image and an index naming them by platform (``linux/arm64/v8``)."""
    entries = []
    for image, platform in images:
        publish(registry, repository, None, image)
        os_name, arch, *variant = platform.split("/")
        plat = {"architecture": arch, "os": os_name, **({"variant": variant[0]} if variant else {})}
        entries.append({"mediaType": OCI_MANIFEST, "digest": image.digest, "size": len(image.manifest),
                        "platform": plat})
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
    return registry.add_manifest(repository, tag, OCI_INDEX, index)


def store_image(store: Store, image: FakeImage, name: str | None) -> None:
    """Put ``image`` into a local store under ``name`` (untagged when None)."""
    for blob in image.blobs:
        store.put_bytes(blob, "application/octet-stream")
    descriptor = store.put_bytes(image.manifest, OCI_MANIFEST)
    store.add_image(Descriptor(OCI_MANIFEST, descriptor.digest, descriptor.size), [name] if name else [])
