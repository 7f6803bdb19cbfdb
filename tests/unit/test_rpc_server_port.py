"""A gRPC service never shares a port another process listens on (gRPC's SO_REUSEPORT would
let a second stack's service take part of the first one's calls)."""

from __future__ import annotations

import asyncio
import socket

from grpc import aio

from depictio.rpc.server import SERVER_OPTIONS


def bound_port(options: list[tuple[str, int]], port: int) -> int:
    async def bind() -> int:
        server = aio.server(options=options)
        try:
            return server.add_insecure_port(f"127.0.0.1:{port}")
        except RuntimeError:
            return 0
        finally:
            await server.stop(None)

    return asyncio.run(bind())


def test_a_port_in_use_is_refused() -> None:
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # gRPC's default shares it (the test's own check that the danger is real)...
        assert bound_port([], port) == port
        # ...the services' options refuse it.
        assert bound_port(list(SERVER_OPTIONS), port) == 0
