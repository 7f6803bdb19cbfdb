"""Runs metadata_svc: `python -m metadata_svc`."""

from __future__ import annotations

from grpc import aio

from depictio.config import get_settings
from depictio.mongo import MongoDatabase
from depictio.service_main import run_service
from depictio.v1 import metadata_pb2_grpc
from metadata_svc.servicer import SERVICE, MetadataServicer
from metadata_svc.store import create_indexes


def main() -> None:
    settings = get_settings()
    db = MongoDatabase(settings.mongo_location("metadata_svc"), settings.mongo_database("metadata"))
    db.run_sync(create_indexes)
    servicer = MetadataServicer(db)

    def register(server: aio.Server) -> None:
        metadata_pb2_grpc.add_MetadataServiceServicer_to_server(servicer, server)

    run_service("metadata_svc", settings.metadata_addr, [SERVICE], register, on_stop=[db.close])


if __name__ == "__main__":
    main()
