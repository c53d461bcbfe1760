import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from labcore.preflight import checks
from labcore.preflight.report import Status


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[int]]]:
    """A loopback server answering every GET with the next status code from a list."""
    statuses: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(statuses.pop(0))
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", statuses
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_registry_down_is_reported_with_hint() -> None:
    check = checks.check_registry(f"127.0.0.1:{free_port()}", timeout=1)
    assert check.status is Status.FAIL
    assert not check.required
    assert "./lab up" in check.hint


@pytest.mark.parametrize("status", [200, 401])
def test_registry_answering_v2_passes(http_server: tuple[str, list[int]], status: int) -> None:
    address, statuses = http_server
    statuses.append(status)
    assert checks.check_registry(address).status is Status.OK


def test_something_else_on_the_port_is_not_a_registry(http_server: tuple[str, list[int]]) -> None:
    address, statuses = http_server
    statuses.append(404)
    check = checks.check_registry(address)
    assert check.status is Status.FAIL
    assert "LABCORE_REGISTRY" in check.hint
