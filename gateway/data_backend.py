"""The gateway's client of data_svc."""

from __future__ import annotations

from typing import Any

from depictio.clients.data import DataClient
from gateway.backends import LabelledCalls
from gateway.identity import Principal


class GatewayDataClient(LabelledCalls, DataClient):
    """DataClient whose unary errors say "data service … at <address>"."""

    service_label = "data"


def data_as(services: Any, principal: Principal) -> GatewayDataClient:
    """A client of data_svc acting as `principal` (anonymous: no token)."""
    settings = services.settings
    return GatewayDataClient(
        settings.data_addr, token=principal.access_token, timeout=settings.rpc_timeout_seconds
    )
