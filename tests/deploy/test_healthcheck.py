"""The container health check against a real gRPC health server and a real HTTP server."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from conftest import free_port
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from depictio.config import Settings
from depictio.healthcheck import GRPC_PROCESSES, loopback_address, main, process_healthy


@pytest.fixture
def health_server() -> Iterator[tuple[int, health.HealthServicer]]:
    """A gRPC server with only the health service, on a free port."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port(f"127.0.0.1:{free_port()}")
    server.start()
    yield port, servicer
    server.stop(None)


class _StatusHandler(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Keeps the test output quiet."""


@pytest.fixture
def http_server() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StatusHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_loopback_address_keeps_the_port_of_a_wildcard_bind() -> None:
    assert loopback_address("0.0.0.0:50052") == "127.0.0.1:50052"
    assert loopback_address("[::]:50053") == "127.0.0.1:50053"


@pytest.mark.parametrize("process", sorted(GRPC_PROCESSES))
def test_grpc_service_is_healthy_only_while_serving(
    process: str, health_server: tuple[int, health.HealthServicer]
) -> None:
    port, servicer = health_server
    field, service = GRPC_PROCESSES[process]
    settings = Settings.model_validate({field: f"0.0.0.0:{port}"})
    assert not process_healthy(process, settings, timeout=2)  # its service is unknown yet
    servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    assert process_healthy(process, settings, timeout=2)
    servicer.set(service, health_pb2.HealthCheckResponse.NOT_SERVING)
    assert not process_healthy(process, settings, timeout=2)


def test_nothing_listening_is_unhealthy() -> None:
    settings = Settings(auth_addr=f"0.0.0.0:{free_port()}")
    assert not process_healthy("auth_svc", settings, timeout=1)


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_gateway_health_follows_healthz_status(
    status: int, healthy: bool, http_server: http.server.ThreadingHTTPServer
) -> None:
    _StatusHandler.status = status
    port = http_server.server_address[1]
    assert process_healthy("gateway", Settings(gateway_port=port), timeout=2) is healthy
    assert process_healthy("dash_apps", Settings(ui_port=port), timeout=2) is healthy


def test_main_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, http_server: http.server.ThreadingHTTPServer
) -> None:
    _StatusHandler.status = 200
    monkeypatch.setenv("DEPICTIO_GATEWAY_PORT", str(http_server.server_address[1]))
    assert main(["gateway"]) == 0
    monkeypatch.setenv("DEPICTIO_GATEWAY_PORT", str(free_port()))
    assert main(["gateway", "--timeout", "1"]) == 1
