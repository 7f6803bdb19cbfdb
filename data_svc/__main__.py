"""Runs data_svc: `python -m data_svc` (first cut: every RPC answers UNIMPLEMENTED)."""

from __future__ import annotations

from grpc import aio

from depictio.config import get_settings
from depictio.service_main import run_service
from depictio.v1 import data_pb2_grpc

SERVICE = "depictio.v1.DataService"


def register(server: aio.Server) -> None:
    """Adds the DataService servicer to the server."""
    # The generated base answers UNIMPLEMENTED for every RPC; its stub calls them abstract.
    servicer = data_pb2_grpc.DataServiceServicer()  # type: ignore[abstract]
    data_pb2_grpc.add_DataServiceServicer_to_server(servicer, server)


def main() -> None:
    run_service("data_svc", get_settings().data_addr, [SERVICE], register)


if __name__ == "__main__":
    main()
