"""Runs data_svc: `python -m data_svc` (Delta tables on disk or S3, Arrow streaming, queries)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from grpc import aio

from data_svc.access import AccessGuard, metadata_access_check
from data_svc.flight_scans import start_flight_server
from data_svc.hot_tables import HotTables
from data_svc.querying import QueryRunner
from data_svc.result_cache import ResultCache
from data_svc.servicer import DataServicer, write_table_request
from data_svc.storage import Storage
from data_svc.tables import DeltaTables
from depictio.allocator import reuse_large_blocks
from depictio.config import Settings, get_settings
from depictio.rpc.interceptors import IdentityInterceptor
from depictio.rpc.raw_messages import add_servicer_with_raw_messages
from depictio.service_main import run_service
from depictio.v1 import data_pb2_grpc

SERVICE = "depictio.v1.DataService"


def build_servicer(settings: Settings) -> DataServicer:
    """The servicer over the storage, metadata_svc and (optional) Redis `settings` name."""
    storage = Storage.from_settings(settings)
    storage.prepare()
    tables = DeltaTables(storage, HotTables(settings.data_memory_mb * 1024 * 1024))
    cache = (
        ResultCache(settings.redis_url, settings.query_cache_ttl_seconds)
        if settings.redis_url
        else None
    )
    guard = AccessGuard(metadata_access_check(settings.metadata_addr, settings.rpc_timeout_seconds))
    return DataServicer(
        tables,
        guard,
        QueryRunner(tables, cache),
        settings.metadata_addr,
        settings.rpc_timeout_seconds,
    )


def main() -> None:
    reuse_large_blocks()
    settings = get_settings()
    servicer = build_servicer(settings)

    def register(server: aio.Server) -> None:
        # Scan yields pre-framed ScanResponse bytes; WriteTable takes its IPC chunks as views
        # of the received bytes (see depictio.rpc.raw_messages).
        add_servicer_with_raw_messages(
            data_pb2_grpc.add_DataServiceServicer_to_server,
            servicer,
            server,
            framed_responses=["Scan"],
            request_deserializers={"WriteTable": write_table_request},
        )

    def start_flight(identity: IdentityInterceptor) -> Callable[[], Awaitable[None]]:
        return start_flight_server(
            settings.data_flight_addr,
            servicer,
            identity.identify,
            settings.shutdown_grace_seconds,
        )

    run_service(
        "data_svc",
        settings.data_addr,
        [SERVICE],
        register,
        companion=start_flight if settings.data_flight_addr else None,
    )


if __name__ == "__main__":
    main()
