"""Scan over Arrow Flight: data_svc's endpoint for reading whole tables fast.

gRPC Python copies every message a Scan sends into a bytes object, then again into gRPC's
own buffers, one message at a time through the event loop: on a 2-core machine that bounds a
Scan well below what Arrow Flight (C++ gRPC inside pyarrow) streams, sending record batches
from their own memory. So data_svc also serves Flight `do_get`, whose ticket is a serialized
ScanRequest, and answers it exactly as Scan: the same identity rules (a bearer token in the
`authorization` header), the same read access through CheckAccess, the same projection,
filter, sort, slice and version, as record batches of at most MESSAGE_BYTES of data each (one
Flight message each). Only do_get is served; every other Flight method is UNIMPLEMENTED.

Errors carry their gRPC status code and message in `extra_info` (JSON), which DataClient reads
back to raise what a Scan would have raised.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import grpc
import pyarrow as pa
import pyarrow.flight as flight
from google.protobuf.message import DecodeError

from data_svc.scanning import plan_batches
from data_svc.servicer import DataServicer
from data_svc.tables import TableRef
from depictio.arrow_ipc import MESSAGE_BYTES, bounded_slices
from depictio.errors import DepictioError, InvalidArgument
from depictio.rpc.context import identity_var
from depictio.rpc.interceptors import (
    AUTHORIZATION_KEY,
    REQUEST_ID_KEY,
    log_call,
    status_details,
)
from depictio.tokens import ANONYMOUS, Identity
from depictio.v1 import data_pb2

log = logging.getLogger("depictio.rpc")

# The method whose identity rules a Flight scan follows (and its name in the access log).
SCAN_METHOD = "/depictio.v1.DataService/Scan"
FLIGHT_METHOD = "/arrow.flight.protocol.FlightService/DoGet"
# Flight's own error classes for the codes it has one for; any other code is a FlightServerError.
# (Not FlightCancelledError: pyarrow clients receiving one in some calls take it for Ctrl-C.)
FLIGHT_ERRORS: dict[grpc.StatusCode, type[flight.FlightError]] = {
    grpc.StatusCode.UNAUTHENTICATED: flight.FlightUnauthenticatedError,
    grpc.StatusCode.PERMISSION_DENIED: flight.FlightUnauthorizedError,
    grpc.StatusCode.UNAVAILABLE: flight.FlightUnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: flight.FlightTimedOutError,
    grpc.StatusCode.INTERNAL: flight.FlightInternalError,
}

Identify = Callable[[str, str], Awaitable[Identity]]
# The longest a call waits for the caller to be identified and authorized on the event loop.
AUTHORIZE_SECONDS = 60.0


def flight_error(code: grpc.StatusCode, message: str) -> flight.FlightError:
    """The Flight error for a failure with gRPC status `code` and `message`."""
    message = status_details(message)
    info = json.dumps({"code": code.name, "message": message}).encode()
    return FLIGHT_ERRORS.get(code, flight.FlightServerError)(message, extra_info=info)


class CallHeaders(flight.ServerMiddleware):
    """The headers of one Flight call that data_svc reads."""

    def __init__(self, authorization: str, request_id: str) -> None:
        self.authorization = authorization
        self.request_id = request_id


class CallHeadersFactory(flight.ServerMiddlewareFactory):
    """Keeps each call's authorization header and request id (made when the caller sent none)."""

    def start_call(self, info: Any, headers: dict[str, list[Any]]) -> CallHeaders:
        def first(key: str) -> str:
            values = headers.get(key) or [""]
            value = values[0]
            return value.decode(errors="replace") if isinstance(value, bytes) else str(value)

        request_id = first(REQUEST_ID_KEY)[:128] or uuid.uuid4().hex
        return CallHeaders(first(AUTHORIZATION_KEY), request_id)


class ScanFlightServer(flight.FlightServerBase):
    """Flight do_get of serialized ScanRequests, answered by `servicer`'s tables.

    Calls run on Flight's own threads; identifying the caller and CheckAccess run on data_svc's
    event loop (`loop`), as for the gRPC calls.
    """

    def __init__(
        self,
        location: str,
        servicer: DataServicer,
        identify: Identify,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(location, middleware={"headers": CallHeadersFactory()})
        self.servicer = servicer
        self.identify = identify
        self.loop = loop

    def do_get(
        self, context: flight.ServerCallContext, ticket: flight.Ticket
    ) -> flight.FlightDataStream:
        headers: CallHeaders = context.get_middleware("headers")
        call = _CallLog(headers.request_id)
        try:
            request = scan_request(ticket.ticket)
            ref = asyncio.run_coroutine_threadsafe(
                self._authorize(headers.authorization, request.data_collection_id, call),
                self.loop,
            ).result(timeout=AUTHORIZE_SECONDS)
            schema, batches = plan_batches(self.servicer.scan_plan(ref, request))
        except BaseException as exc:
            raise call.failed(exc) from None
        return flight.GeneratorStream(schema, call.streamed(batches))

    async def _authorize(self, authorization: str, dc: str, call: _CallLog) -> TableRef:
        call.identity = await self.identify(SCAN_METHOD, authorization)
        identity_var.set(call.identity)
        _, ref = await self.servicer.authorize(dc, "read")
        return ref


def scan_request(ticket: bytes) -> data_pb2.ScanRequest:
    """The ScanRequest a ticket holds."""
    try:
        return data_pb2.ScanRequest.FromString(ticket)
    except DecodeError:
        raise InvalidArgument("ticket: not a serialized depictio.v1.ScanRequest") from None


class _CallLog:
    """One Flight scan's access log line (as the gRPC calls' interceptors write them) and its
    failure as a Flight error."""

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.identity = ANONYMOUS
        self.started = time.perf_counter()

    def streamed(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """`batches`, each cut to one message's worth; logged once all were taken."""
        try:
            for batch in batches:
                yield from bounded_slices(batch, MESSAGE_BYTES)
        except GeneratorExit:  # the caller went away
            self._log(grpc.StatusCode.CANCELLED)
            raise
        except BaseException as exc:
            raise self.failed(exc) from None
        self._log(grpc.StatusCode.OK)

    def failed(self, exc: BaseException) -> flight.FlightError:
        """The Flight error to raise for `exc` (an unexpected one logged, its details hidden)."""
        if isinstance(exc, DepictioError):
            code, message = exc.code, exc.message
        else:
            log.exception("unhandled error", extra={"method": FLIGHT_METHOD}, exc_info=exc)
            code = grpc.StatusCode.INTERNAL
            message = f"internal error (request id {self.request_id})"
        self._log(code)
        return flight_error(code, message)

    def _log(self, code: grpc.StatusCode) -> None:
        log_call(FLIGHT_METHOD, self.request_id, self.identity, code, self.started)


def start_flight_server(
    address: str, servicer: DataServicer, identify: Identify, grace: float
) -> Callable[[], Awaitable[None]]:
    """Starts serving Flight scans at `address` (host:port) from the running event loop; the
    coroutine function that stops it (waiting for calls in progress at most `grace` seconds,
    as the gRPC server does)."""
    try:
        server = ScanFlightServer(
            f"grpc://{address}", servicer, identify, asyncio.get_running_loop()
        )
    except pa.ArrowException as exc:
        raise OSError(
            f"data_svc: cannot serve Arrow Flight on {address} (address in use? set "
            f"DEPICTIO_DATA_FLIGHT_ADDR, or leave it empty for none): {exc}"
        ) from exc
    log.info("listening", extra={"address": address, "services": ["arrow.flight (Scan)"]})

    async def stop() -> None:
        try:
            await asyncio.wait_for(asyncio.to_thread(server.shutdown), grace)
        except TimeoutError:
            log.warning("Flight calls still running at shutdown", extra={"address": address})

    return stop
