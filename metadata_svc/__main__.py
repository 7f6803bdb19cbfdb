"""Runs metadata_svc: `python -m metadata_svc` (first cut: every RPC answers UNIMPLEMENTED)."""

from __future__ import annotations

from grpc import aio

from depictio.config import get_settings
from depictio.service_main import run_service
from depictio.v1 import metadata_pb2_grpc

SERVICE = "depictio.v1.MetadataService"


def register(server: aio.Server) -> None:
    """Adds the MetadataService servicer to the server."""
    # The generated base answers UNIMPLEMENTED for every RPC; its stub calls them abstract.
    servicer = metadata_pb2_grpc.MetadataServiceServicer()  # type: ignore[abstract]
    metadata_pb2_grpc.add_MetadataServiceServicer_to_server(servicer, server)


def main() -> None:
    run_service("metadata_svc", get_settings().metadata_addr, [SERVICE], register)


if __name__ == "__main__":
    main()
