"""Real registries for tests: Debian's docker-registry on loopback, plain, htpasswd or token auth.

Each server gets a free loopback port and its own storage dir; :func:`running_registry` stops and
reaps it on exit. :class:`TokenServer` is a small token service (a thread in the test process)
that signs ES256 JWTs the way distribution's ``auth: token`` expects: an ``x5c`` header holding a
certificate found in the registry's ``rootcertbundle``, and claims ``iss``, ``aud``, ``exp``,
``nbf`` and ``access``.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx

REGISTRY_BINARY = "/usr/bin/docker-registry"
TOKEN_SERVICE = "labcore-test-registry"
TOKEN_ISSUER = "labcore-test-token-issuer"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RegistryServer:
    """A running docker-registry: ``host`` is ``127.0.0.1:PORT``; ``storage`` its filesystem root."""

    host: str
    storage: Path
    config: Path
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(default_factory=Path)

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def blob_path(self, digest: str) -> Path:
        """Where the registry keeps the bytes of ``digest`` (sha256:...)."""
        hex_digest = digest.split(":", 1)[1]
        return self.storage / "docker/registry/v2/blobs/sha256" / hex_digest[:2] / hex_digest / "data"

    def start(self) -> None:
        self.log = self.config.with_suffix(".log")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [REGISTRY_BINARY, "serve", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {self.log.read_text()}")
            try:
                httpx.get(f"{self.url}/v2/", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"docker-registry did not start on {self.host}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def write_config(directory: Path, port: int, auth: dict[str, object] | None = None) -> Path:
    """A docker-registry config (JSON is valid YAML) serving ``directory/storage`` on ``port``."""
    config: dict[str, object] = {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(directory / "storage")},
            "delete": {"enabled": True},
        },
        "http": {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16)},
    }
    if auth:
        config["auth"] = auth
    path = directory / "config.yml"
    path.write_text(json.dumps(config, indent=2))
    return path


@contextmanager
def running_registry(directory: Path, auth: dict[str, object] | None = None) -> Iterator[RegistryServer]:
    """Start a registry storing under ``directory``; stop and reap it on exit."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = RegistryServer(f"127.0.0.1:{port}", directory / "storage", write_config(directory, port, auth))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def write_htpasswd(path: Path, users: dict[str, str]) -> Path:
    """An htpasswd file with bcrypt hashes, made by apache2-utils' htpasswd."""
    lines = []
    for user, password in users.items():
        result = subprocess.run(
            ["htpasswd", "-Bbn", user, password], check=True, capture_output=True, text=True
        )
        lines.append(result.stdout.strip())
    path.write_text("\n".join(lines) + "\n")
    return path


# -- token service ---------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenSigner:
    """An ES256 key and a self-signed certificate (the registry's root bundle) that sign JWTs."""

    def __init__(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "labcore test token signer")])
        now = datetime.datetime.now(datetime.UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=False,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )
        self.pem = self.certificate.public_bytes(serialization.Encoding.PEM)
        self._der = self.certificate.public_bytes(serialization.Encoding.DER)

    def sign(self, claims: dict[str, object]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(self._der).decode("ascii")]}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        der_signature = self._key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der_signature)
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


class TokenServer:
    """A token service on loopback: Basic-authenticated users get every action they ask for.

    Anonymous requests get a token with no access (so the registry answers 401); wrong passwords get
    401 from the token service itself. ``requests`` counts the tokens issued.
    """

    def __init__(self, users: dict[str, str]) -> None:
        self.users = users
        self.signer = TokenSigner()
        self.requests: list[dict[str, list[str]]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def registry_auth(self, directory: Path) -> dict[str, object]:
        bundle = directory / "token-root.pem"
        bundle.write_bytes(self.signer.pem)
        return {
            "token": {
                "realm": self.realm,
                "service": TOKEN_SERVICE,
                "issuer": TOKEN_ISSUER,
                "rootcertbundle": str(bundle),
            }
        }

    def __enter__(self) -> TokenServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _user(self, header: str | None) -> str | bool | None:
        """The user name, None for anonymous, False for wrong credentials."""
        if not header:
            return None
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user if self.users.get(user) == password else False

    def issue(self, user: str | None, query: dict[str, list[str]]) -> str:
        access = []
        if user is not None:
            for scope in query.get("scope", []):
                kind, name_and_actions = scope.split(":", 1)
                name, _, actions = name_and_actions.rpartition(":")
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        claims = {
            "iss": TOKEN_ISSUER,
            "sub": user or "",
            "aud": query.get("service", [""])[0],
            "exp": now + 600,
            "nbf": now - 60,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        return self.signer.sign(claims)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                user = service._user(self.headers.get("Authorization"))
                service.requests.append(query)
                if url.path != "/token":
                    self.send_error(404)
                    return
                if user is False:
                    self.send_response(401)
                    self.send_header("Content-Type", "application/json")
                    body = b'{"details": "invalid username or password"}'
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                assert user is None or isinstance(user, str)
                body = json.dumps({"token": service.issue(user, query), "expires_in": 600}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


def have_registry_tools() -> bool:
    """True when docker-registry, skopeo, umoci and htpasswd are installed."""
    return all(shutil.which(tool) for tool in ("skopeo", "umoci", "htpasswd")) and os.path.exists(
        REGISTRY_BINARY
    )


# -- faulty proxy ----------------------------------------------------------------------------------


class FaultyProxy:
    """A loopback HTTP proxy in front of a registry that damages answers on purpose.

    ``fault`` is one of ``truncate`` (blob bodies promise their full length but the connection
    closes halfway), ``corrupt`` (one byte of each blob body flipped) or ``swap-manifest``
    (manifests by digest answered with another manifest's bytes).
    """

    def __init__(self, upstream: str, fault: str, other_manifest: bytes = b"") -> None:
        self.upstream = upstream
        self.fault = fault
        self.other_manifest = other_manifest
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                upstream = httpx.request(self.command, f"http://{proxy.upstream}{self.path}", headers=headers,
                                         content=body, follow_redirects=False)
                data = upstream.content
                ok_get = self.command == "GET" and upstream.status_code == 200
                is_blob = ok_get and "/blobs/sha256:" in self.path
                is_manifest_by_digest = "/manifests/sha256:" in self.path and self.command == "GET"
                cut = False
                if is_blob and proxy.fault == "corrupt" and data:
                    data = bytes([data[0] ^ 0xFF]) + data[1:]
                elif is_blob and proxy.fault == "truncate":
                    cut = True
                elif is_manifest_by_digest and proxy.fault == "swap-manifest":
                    data = proxy.other_manifest
                self.send_response(upstream.status_code)
                for key, value in upstream.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection",
                                           "content-encoding", "docker-content-digest"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                if cut:
                    self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data[: len(data) // 2] if cut else data)
                if cut:
                    self.wfile.flush()
                    self.close_connection = True

            def do_GET(self) -> None:
                self._forward()

            def do_HEAD(self) -> None:
                self._forward()

            def do_POST(self) -> None:
                self._forward()

            def do_PUT(self) -> None:
                self._forward()

            def do_PATCH(self) -> None:
                self._forward()

            def do_DELETE(self) -> None:
                self._forward()

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
