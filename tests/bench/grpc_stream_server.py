"""The Scan benchmark's floor: a gRPC Python server streaming ready-made 1 MiB messages.

Run as `python grpc_stream_server.py <port> <bytes>`; every call of `/depictio.v1.DataService/Scan`
on it streams `<bytes>` bytes as ScanResponse messages of at most 1 MiB, built once at start —
no table, no Arrow, no storage. It is set up as data_svc is (grpc.aio, the same server options,
the same malloc tuning), so the time a client takes to receive its stream is what gRPC Python
itself costs for a Scan of that size: the part of a Scan that no work in data_svc can remove.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import grpc
from grpc import aio

from depictio.allocator import reuse_large_blocks
from depictio.arrow_ipc import MAX_CHUNK_BYTES
from depictio.rpc.raw_messages import frame_field_one
from depictio.rpc.server import SERVER_OPTIONS

# As large as Scan's messages: chunks of MAX_CHUNK_BYTES, framed.
MESSAGE_BYTES = MAX_CHUNK_BYTES
SERVICE, METHOD = "depictio.v1.DataService", "Scan"


def messages(total: int) -> list[bytes]:
    """`total` random bytes as framed ScanResponse messages of at most MESSAGE_BYTES each."""
    payload = os.urandom(MESSAGE_BYTES)
    sizes = [MESSAGE_BYTES] * (total // MESSAGE_BYTES)
    if total % MESSAGE_BYTES:
        sizes.append(total % MESSAGE_BYTES)
    return [frame_field_one([memoryview(payload)[:size]]) for size in sizes]


async def serve(port: int, total: int) -> None:
    ready = messages(total)

    async def stream(request: bytes, context: Any) -> AsyncIterator[bytes]:
        for message in ready:
            yield message

    handler = grpc.unary_stream_rpc_method_handler(
        stream, request_deserializer=bytes, response_serializer=bytes
    )
    server = aio.server(options=SERVER_OPTIONS)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(SERVICE, {METHOD: handler}),)
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def main() -> None:
    reuse_large_blocks()
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2])))


if __name__ == "__main__":
    main()
