"""Runs the gateway: `python -m gateway`."""

from __future__ import annotations

import logging

import uvicorn

from depictio.allocator import reuse_large_blocks
from depictio.config import get_settings
from depictio.logs import configure_logging
from gateway.app import create_app


class DropColorMessage(logging.Filter):
    """Removes uvicorn's ANSI-coloured duplicate of each message from the JSON lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)
        return True


def main() -> None:
    reuse_large_blocks()
    settings = get_settings()
    configure_logging("gateway", settings.log_level)
    logging.getLogger("uvicorn.error").addFilter(DropColorMessage())
    # log_config=None keeps uvicorn on the JSON root handler; its access log is off because
    # it would print query strings (the gateway logs each request itself, without them).
    uvicorn.run(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_config=None,
        access_log=False,
        # httptools parses request bodies in C (h11's pure-Python parser caps uploads at a few
        # hundred MB/s); the plain asyncio loop is the one grpc.aio is tested on.
        http="httptools",
        loop="asyncio",
        server_header=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds) or None,
    )


if __name__ == "__main__":
    main()
