"""Bootstrap of a gRPC service: health, reflection, interceptors, graceful SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

log = logging.getLogger("depictio.rpc.server")

MAX_MESSAGE_BYTES = 8 * 1024 * 1024
SERVER_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    # A port another process listens on is refused (gRPC shares it by default: a second
    # server there would get part of the first one's calls).
    ("grpc.so_reuseport", 0),
]


@dataclass
class ServiceSpec:
    """What a service process serves."""

    name: str
    address: str
    service_names: Sequence[str]
    register: Callable[[aio.Server], None]
    interceptors: Sequence[aio.ServerInterceptor] = ()
    grace_seconds: float = 5.0
    on_stop: Sequence[Callable[[], Awaitable[None] | None]] = field(default_factory=list)


async def serve(spec: ServiceSpec, stop: asyncio.Event | None = None) -> None:
    """Serves until SIGTERM/SIGINT (or `stop` is set), then drains: NOT_SERVING, stop(grace)."""
    server = aio.server(interceptors=list(spec.interceptors), options=SERVER_OPTIONS)
    spec.register(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [*spec.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    port = server.add_insecure_port(spec.address)
    if port == 0:
        raise OSError(f"{spec.name}: cannot listen on {spec.address} (address in use?)")
    await server.start()
    for name in ("", *spec.service_names):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("listening", extra={"address": spec.address, "services": list(spec.service_names)})

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()

    log.info("shutting down", extra={"grace_seconds": spec.grace_seconds})
    await health_servicer.enter_graceful_shutdown()
    await server.stop(spec.grace_seconds)
    for callback in spec.on_stop:
        result = callback()
        if result is not None:
            await result
    log.info("stopped")
