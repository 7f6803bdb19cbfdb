"""A bound on request bodies: every route but uploads takes at most MAX_BODY_BYTES.

Bodies other than uploads become one gRPC message (≤ depictio.rpc.server.MAX_MESSAGE_BYTES);
a larger one was read whole into memory, then refused by gRPC with an internal message (429).
Here it is refused with 413 before it is read: at once when its Content-Length says so, else
as soon as the bytes received pass the bound. Uploads stream through: they have no bound.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from depictio.rpc.server import MAX_MESSAGE_BYTES

MAX_BODY_BYTES = MAX_MESSAGE_BYTES // 2
UNBOUNDED_PATHS = re.compile(r"^/api/v1/datacollections/[^/]+/upload$")


def too_large(declared: int | None = None) -> str:
    size = f" ({declared:,} bytes)" if declared is not None else ""
    return (
        f"request body too large{size}: at most {MAX_BODY_BYTES // (1024 * 1024)} MiB "
        "(tables go to POST /api/v1/datacollections/{dc}/upload)"
    )


class BodyLimitMiddleware:
    """Refuses (413) a request body over MAX_BODY_BYTES, except on upload routes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or UNBOUNDED_PATHS.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        declared = content_length(scope)
        if declared is not None and declared > MAX_BODY_BYTES:
            response = JSONResponse({"detail": too_large(declared)}, status_code=413)
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    raise HTTPException(status_code=413, detail=too_large())
            return message

        await self.app(scope, counted, send)


def content_length(scope: Scope) -> int | None:
    """The request's declared body size (None when it declares none, or nonsense)."""
    declared = Headers(scope=scope).get("content-length")
    return int(declared) if declared is not None and declared.isdigit() else None
