"""Base of the typed service clients: identity, request id and deadline on every call."""

from __future__ import annotations

from typing import Any

import grpc
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from depictio.rpc.channels import channel
from depictio.rpc.context import request_id_var
from depictio.rpc.interceptors import AUTHORIZATION_KEY, REQUEST_ID_KEY


class ServiceClient:
    """Calls one service at `target` as the holder of `token` (if any)."""

    def __init__(self, target: str, token: str = "", timeout: float = 10.0) -> None:
        self.target = target
        self.token = token
        self.timeout = timeout

    @property
    def channel(self) -> aio.Channel:
        return channel(self.target)

    def metadata(self, request_id: str = "") -> tuple[tuple[str, str], ...]:
        """Outgoing metadata: the bearer token and the request id of the current call."""
        items: list[tuple[str, str]] = []
        if self.token:
            items.append((AUTHORIZATION_KEY, f"Bearer {self.token}"))
        request_id = request_id or request_id_var.get()
        if request_id:
            items.append((REQUEST_ID_KEY, request_id))
        return tuple(items)

    async def call(self, method: Any, request: Any, timeout: float | None = None) -> Any:
        """Invokes a unary stub method with the deadline and metadata."""
        return await method(
            request, timeout=timeout or self.timeout, metadata=self.metadata() or None
        )


async def check_health(target: str, timeout: float = 2.0) -> str:
    """The health status name of the server at `target`; 'UNAVAILABLE' when unreachable."""
    stub = health_pb2_grpc.HealthStub(channel(target))
    try:
        response = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
    except aio.AioRpcError as exc:
        if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            return "UNAVAILABLE"
        return exc.code().name
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))
