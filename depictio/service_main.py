"""Entry point shared by the services that verify tokens against auth_svc's JWKS."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from grpc import aio

from depictio.clients.auth import AuthClient
from depictio.config import get_settings
from depictio.logs import configure_logging
from depictio.rpc.channels import close_channels
from depictio.rpc.interceptors import IdentityInterceptor, standard_interceptors
from depictio.rpc.server import ServiceSpec, serve
from depictio.tokens import KeySet, TokenVerifier


def run_service(
    name: str,
    address: str,
    service_names: Sequence[str],
    register: Callable[[aio.Server], None],
    on_stop: Sequence[Callable[[], Awaitable[None] | None]] = (),
    companion: Callable[[IdentityInterceptor], Callable[[], Awaitable[None]]] | None = None,
) -> None:
    """Serves `register`'s servicers at `address` until SIGTERM/SIGINT.

    Every call is identified by the standard interceptor chain, which verifies bearer tokens
    with the public keys auth_svc publishes (fetched on first use, refetched on an unknown kid).
    `companion`, if any, is started on the event loop with the gRPC servicers, given that
    identity check; it returns how to stop it (after the gRPC server).
    """
    settings = get_settings()
    configure_logging(name, settings.log_level)
    auth = AuthClient(settings.auth_addr, timeout=settings.rpc_timeout_seconds)
    verifier = TokenVerifier(
        KeySet(auth.get_jwks, settings.jwks_refresh_min_seconds),
        settings.jwt_issuer,
        settings.jwt_audience,
        settings.jwt_leeway_seconds,
    )
    identity = IdentityInterceptor(verifier, auth_mode=settings.auth_mode)
    stop_companion: list[Callable[[], Awaitable[None]]] = []

    def register_all(server: aio.Server) -> None:
        register(server)
        if companion is not None:
            stop_companion.append(companion(identity))

    async def stop_companions() -> None:
        for stop in stop_companion:
            await stop()

    spec = ServiceSpec(
        name=name,
        address=address,
        service_names=list(service_names),
        register=register_all,
        interceptors=standard_interceptors(identity),
        grace_seconds=settings.shutdown_grace_seconds,
        on_stop=[stop_companions, close_channels, *on_stop],
    )
    asyncio.run(serve(spec))
