"""Request id and access log for every HTTP request.

The id comes from `X-Request-ID` (when it is a sane token) or is made here; it is forwarded to
the services as `x-request-id` metadata and returned as a response header. The access log
records method, path, status, duration, caller and request id — never the query string,
headers or body, where tokens and passwords travel.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from depictio.rpc.context import request_id_var
from gateway.errors import internal_error

log = logging.getLogger("gateway.access")

REQUEST_ID_HEADER = "X-Request-ID"
# Anything else (too long, spaces, control characters) is replaced, not logged or forwarded.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_from(scope: Scope) -> str:
    """The caller's request id if it is acceptable, else a new one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if VALID_REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Sets the request id for the request's lifetime and logs one line when it ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        reset = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 0  # stays 0 when no response is sent (the client went away)
        logged = False

        def log_request() -> None:
            nonlocal logged
            logged = True
            log.info(
                "http",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "request_id": request_id,
                    "user_id": state.get("user_id") or "anonymous",
                },
            )

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
                # Logged before the status line leaves (a 204 is complete with its headers):
                # whoever has the response finds the line in the log.
                log_request()
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception as exc:
            # Answered here rather than re-raised: the server would log the exception's message.
            if status:
                raise
            response = internal_error(exc, scope["path"], request_id)
            await response(scope, receive, send_with_request_id)
        finally:
            request_id_var.reset(reset)
            if not logged:
                log_request()
