"""Runs auth_svc: `python -m auth_svc`."""

from __future__ import annotations

import asyncio

from grpc import aio

from auth_svc.bootstrap import ensure_first_admin
from auth_svc.keys import load_signing_key
from auth_svc.servicer import PUBLIC_METHODS, SERVICE, AuthServicer
from auth_svc.store import AuthStore, create_indexes
from depictio.config import get_settings
from depictio.logs import configure_logging
from depictio.mongo import MongoDatabase
from depictio.rpc.interceptors import IdentityInterceptor, standard_interceptors
from depictio.rpc.server import ServiceSpec, serve
from depictio.tokens import KeySet, TokenVerifier
from depictio.v1 import auth_pb2_grpc


async def main() -> None:
    settings = get_settings()
    configure_logging("auth_svc", settings.log_level)
    db = MongoDatabase(settings.mongo_location("auth_svc"), settings.mongo_database("auth"))
    await db.run(create_indexes)
    key = load_signing_key(db, settings.signing_key_file)
    store = AuthStore(db)
    await ensure_first_admin(store, settings)

    async def own_jwks() -> list[dict[str, str]]:
        return [key.jwk()]

    verifier = TokenVerifier(
        KeySet(own_jwks), settings.jwt_issuer, settings.jwt_audience, settings.jwt_leeway_seconds
    )
    servicer = AuthServicer(store, key, verifier, settings)

    def register(server: aio.Server) -> None:
        auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, server)

    identity = IdentityInterceptor(verifier, PUBLIC_METHODS, settings.auth_mode)
    await serve(
        ServiceSpec(
            name="auth_svc",
            address=settings.auth_addr,
            service_names=[SERVICE],
            register=register,
            interceptors=standard_interceptors(identity),
            grace_seconds=settings.shutdown_grace_seconds,
            on_stop=[db.close],
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
