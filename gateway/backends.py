"""The gateway's clients of the services, whose failures name the service and its address."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from grpc import aio

from depictio.clients.auth import AuthClient
from depictio.clients.base import ServiceClient, check_health
from depictio.config import Settings
from depictio.rpc.context import request_id_var
from gateway.errors import ServiceCallError

SERVING = "SERVING"


class LabelledCalls(ServiceClient):
    """Turns a failed RPC into a ServiceCallError naming the service and its address."""

    service_label: ClassVar[str] = "backend"

    async def call(self, method: Any, request: Any, timeout: float | None = None) -> Any:
        try:
            return await super().call(method, request, timeout)
        except aio.AioRpcError as exc:
            raise ServiceCallError(self.service_label, self.target, exc) from exc


class GatewayAuthClient(LabelledCalls, AuthClient):
    """AuthClient whose errors say "auth service … at <address>"."""

    service_label = "auth"


class Backends:
    """Where the services are, and clients that call them as a given caller."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.addresses = {
            "auth_svc": settings.auth_addr,
            "metadata_svc": settings.metadata_addr,
            "data_svc": settings.data_addr,
        }

    def auth(self, token: str = "") -> GatewayAuthClient:
        """A client of auth_svc acting as the holder of `token` (anonymous when empty)."""
        return GatewayAuthClient(
            self.settings.auth_addr, token=token, timeout=self.settings.rpc_timeout_seconds
        )

    async def fetch_jwks(self) -> list[dict[str, str]]:
        """auth_svc's public keys.

        Fetched on the gateway's own behalf, not the request's, so the request id is not
        forwarded: a request refused at the edge leaves no trace in any service.
        """
        reset = request_id_var.set("")
        try:
            return await self.auth().get_jwks()
        finally:
            request_id_var.reset(reset)

    async def health(self) -> dict[str, tuple[str, str]]:
        """Each service's health status name and address, checked concurrently."""
        items = list(self.addresses.items())
        statuses = await asyncio.gather(*(check_health(address) for _, address in items))
        return {
            name: (status, address) for (name, address), status in zip(items, statuses, strict=True)
        }
