"""Every error the gateway returns, and the one mapping from gRPC status codes to HTTP.

All error bodies are `{"detail": "<message>"}` (FastAPI's 422 for invalid bodies excepted).
"""

from __future__ import annotations

import logging
import traceback

import grpc
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from grpc import aio

from depictio.errors import DepictioError

log = logging.getLogger("gateway.errors")

# gRPC status → HTTP status; anything not listed is a 500.
HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 503,
}
BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


class ServiceCallError(Exception):
    """A failed RPC, labelled with the service and address it was sent to."""

    def __init__(self, service: str, target: str, error: aio.AioRpcError) -> None:
        super().__init__(f"{service} service {target}: {error.code().name}")
        self.service = service
        self.target = target
        self.code = error.code()
        self.details = error.details() or ""


def http_status(code: grpc.StatusCode) -> int:
    """The HTTP status answering a gRPC status."""
    return HTTP_STATUS.get(code, 500)


def request_id_of(request: Request) -> str:
    """The request id the request-context middleware gave this request."""
    return str(getattr(request.state, "request_id", ""))


def error_response(status: int, detail: str, request: Request) -> JSONResponse:
    """A `{"detail": …}` response; 401s carry the Bearer challenge, all carry the request id."""
    headers = dict(BEARER_CHALLENGE) if status == 401 else {}
    request_id = request_id_of(request)
    if request_id:
        headers["X-Request-ID"] = request_id
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def service_error_detail(error: ServiceCallError, request_id: str) -> str:
    """What the caller is told about a failed RPC."""
    where = f" at {error.target}" if error.target else ""
    if error.code is grpc.StatusCode.UNAVAILABLE:
        return f"{error.service} service unavailable{where}"
    if error.code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"{error.service} service{where} did not answer in time"
    if error.code is grpc.StatusCode.UNIMPLEMENTED:
        return f"{error.service} service does not implement this yet: {error.details}"
    if error.code in HTTP_STATUS:
        return error.details or f"{error.service} service refused the request"
    return f"internal error in the {error.service} service (request id {request_id})"


async def _service_call_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceCallError)
    status = http_status(exc.code)
    if status >= 500:
        log.warning(
            "service call failed",
            extra={
                "service": exc.service,
                "target": exc.target,
                "code": exc.code.name,
                "request_id": request_id_of(request),
            },
        )
    return error_response(status, service_error_detail(exc, request_id_of(request)), request)


async def _unlabelled_rpc_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, aio.AioRpcError)
    # A safety net: the gateway's clients label their errors (see gateway.backends).
    return await _service_call_error(request, ServiceCallError("backend", "", exc))


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DepictioError)
    return error_response(http_status(exc.code), exc.message, request)


def internal_error(error: Exception, path: str, request_id: str) -> JSONResponse:
    """The 500 answering an unexpected exception, which is logged without its message."""
    # The frames only: an exception's message may quote the values (tokens, passwords) it saw.
    log.error(
        "unhandled error",
        extra={
            "path": path,
            "request_id": request_id,
            "error": type(error).__name__,
            "frames": "".join(traceback.format_tb(error.__traceback__)),
        },
    )
    return JSONResponse(
        {"detail": f"internal error (request id {request_id})"},
        status_code=500,
        headers={"X-Request-ID": request_id},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Registers the handlers that turn exceptions into `{"detail": …}` responses.

    Unexpected exceptions are answered by the request-context middleware (`internal_error`),
    so that no server log prints their messages.
    """
    app.add_exception_handler(ServiceCallError, _service_call_error)
    app.add_exception_handler(aio.AioRpcError, _unlabelled_rpc_error)
    app.add_exception_handler(DepictioError, _domain_error)
