"""Container health checks: `python -m depictio.healthcheck <process>` exits 0 when it serves.

The process's own settings (DEPICTIO_*) say where it listens, so the check follows whatever
address or port the deployment gives it: a gRPC service is asked over `grpc.health.v1` for its
own service name on 127.0.0.1, the gateway's `/healthz` and the UI's `/` must answer 2xx.
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from depictio.config import Settings
from depictio.v1 import auth_pb2, data_pb2, metadata_pb2

# Process name → (the settings field holding its address, its gRPC service's full name).
GRPC_PROCESSES = {
    "auth_svc": ("auth_addr", auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name),
    "metadata_svc": (
        "metadata_addr",
        metadata_pb2.DESCRIPTOR.services_by_name["MetadataService"].full_name,
    ),
    "data_svc": ("data_addr", data_pb2.DESCRIPTOR.services_by_name["DataService"].full_name),
}
HTTP_PROCESSES = ("gateway", "dash_apps")


def loopback_address(address: str) -> str:
    """The address on this host of a service bound to `address` (e.g. 0.0.0.0:50051)."""
    port = address.rsplit(":", 1)[1]
    return f"127.0.0.1:{port}"


def grpc_serving(address: str, service: str, timeout: float) -> bool:
    """Whether the gRPC server at `address` reports `service` as SERVING."""
    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def http_ok(url: str, timeout: float) -> bool:
    """Whether GET `url` answers 2xx (redirects followed)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError):
        return False


def process_healthy(process: str, settings: Settings, timeout: float) -> bool:
    """Whether `process` (auth_svc, metadata_svc, data_svc, gateway, dash_apps) serves."""
    if process in GRPC_PROCESSES:
        field, service = GRPC_PROCESSES[process]
        return grpc_serving(loopback_address(getattr(settings, field)), service, timeout)
    port = settings.gateway_port if process == "gateway" else settings.ui_port
    return http_ok(f"http://127.0.0.1:{port}/healthz", timeout)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m depictio.healthcheck", description=__doc__.splitlines()[0]
    )
    parser.add_argument("process", choices=[*GRPC_PROCESSES, *HTTP_PROCESSES])
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")
    args = parser.parse_args(argv)
    if process_healthy(args.process, Settings(), args.timeout):
        return 0
    sys.stderr.write(f"{args.process} is not serving\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
