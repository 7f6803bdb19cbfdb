"""Server interceptors: request id, JSON access log, error → status mapping, identity.

Each interceptor supplies an async context manager (`scope`) around the handler. The wrapper
applies it alike to unary and streaming handlers, so a streaming RPC is logged and mapped
when its stream ends, not when it starts.
"""

from __future__ import annotations

import inspect
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from grpc import aio

from depictio.config import AuthMode
from depictio.errors import DepictioError, InvalidArgument, Unauthenticated
from depictio.rpc.context import identity_var, request_id_var
from depictio.tokens import ANONYMOUS, Identity, TokenVerifier

log = logging.getLogger("depictio.rpc")

REQUEST_ID_KEY = "x-request-id"
AUTHORIZATION_KEY = "authorization"
# Methods every caller may reach without a token, whatever the service.
ALWAYS_PUBLIC = frozenset(
    {
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    }
)


def metadata_value(context: aio.ServicerContext, key: str) -> str:
    """The first value of an invocation metadata key, or ''."""
    for item in context.invocation_metadata() or ():
        if item.key == key:
            value = item.value
            return value.decode() if isinstance(value, bytes) else value
    return ""


class ScopedInterceptor(aio.ServerInterceptor):
    """Base class: wraps every handler of the server in `self.scope(method, context)`; a
    subclass may also decode requests its own way (`decoder`) and check each one (`received`)."""

    def scope(self, method: str, context: aio.ServicerContext) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError

    def decoder(self, method: str, decode: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
        """How the method's request messages are decoded (as the handler decodes them)."""
        return decode

    def received(self, method: str, request: Any) -> Any:
        """A request message as the handler gets it (as it arrived)."""
        return request

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        decode = handler.request_deserializer
        if decode is not None:
            decode = self.decoder(method, decode)
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, handler.unary_unary, streamed=False),
                decode,
                handler.response_serializer,
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                self._unary(method, handler.stream_unary, streamed=True),
                decode,
                handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._streaming(method, handler.unary_stream, streamed=False),
                decode,
                handler.response_serializer,
            )
        return grpc.stream_stream_rpc_method_handler(
            self._streaming(method, handler.stream_stream, streamed=True),
            decode,
            handler.response_serializer,
        )

    def _requests(self, method: str, request: Any, streamed: bool) -> Any:
        """The request (or the stream of them) as the handler gets it."""
        if not streamed:
            return self.received(method, request)
        if type(self).received is ScopedInterceptor.received:
            return request

        async def each(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
            async for message in requests:
                yield self.received(method, message)

        return each(request)

    def _unary(
        self, method: str, behavior: Callable[..., Any], streamed: bool
    ) -> Callable[..., Any]:
        async def wrapped(request: Any, context: aio.ServicerContext) -> Any:
            async with self.scope(method, context):
                result = behavior(self._requests(method, request, streamed), context)
                return await result if inspect.isawaitable(result) else result

        return wrapped

    def _streaming(
        self, method: str, behavior: Callable[..., Any], streamed: bool
    ) -> Callable[..., Any]:
        async def wrapped(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
            async with self.scope(method, context):
                responses = behavior(self._requests(method, request, streamed), context)
                if hasattr(responses, "__aiter__"):
                    async for response in responses:
                        yield response
                else:
                    for response in responses:
                        yield response

        return wrapped


class RequestIdInterceptor(ScopedInterceptor):
    """Takes the caller's x-request-id (or makes one) and returns it in trailing metadata."""

    @asynccontextmanager
    async def scope(self, method: str, context: aio.ServicerContext) -> AsyncIterator[None]:
        request_id = metadata_value(context, REQUEST_ID_KEY) or uuid.uuid4().hex
        token = request_id_var.set(request_id[:128])
        try:
            yield
        finally:
            context.set_trailing_metadata(((REQUEST_ID_KEY, request_id_var.get()),))
            request_id_var.reset(token)


class AccessLogInterceptor(ScopedInterceptor):
    """Logs one JSON line per RPC: method, caller, status code, duration. Never a payload."""

    @asynccontextmanager
    async def scope(self, method: str, context: aio.ServicerContext) -> AsyncIterator[None]:
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        try:
            yield
        except BaseException:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        finally:
            if method not in ALWAYS_PUBLIC:
                status = code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.UNKNOWN
                log_call(method, request_id_var.get(), identity_var.get(), status, started)


def log_call(
    method: str, request_id: str, identity: Identity, code: grpc.StatusCode, started: float
) -> None:
    """The access log's line for one call (started at `started`, a perf_counter time)."""
    log.info(
        "rpc",
        extra={
            "method": method,
            "request_id": request_id,
            "user_id": identity.user_id or "anonymous",
            "code": code.name,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )


# The most a status message may take in its trailer once percent-encoded (gRPC refuses
# trailers past 8 KiB: a message echoing a 20,000-character name reached its caller as
# RESOURCE_EXHAUSTED or UNAVAILABLE instead of the error it was).
MAX_DETAILS_BYTES = 4096
ELLIPSIS = "…"


def status_details(message: str) -> str:
    """`message`, cut short (ending with an ellipsis) to fit MAX_DETAILS_BYTES encoded."""
    budget = MAX_DETAILS_BYTES - 3 * len(ELLIPSIS.encode())
    for index, char in enumerate(message):
        # Printable ASCII but "%" is sent as it is; any other byte as "%XX".
        budget -= (
            1 if " " <= char <= "~" and char != "%" else 3 * len(char.encode(errors="replace"))
        )
        if budget < 0:
            return message[:index] + ELLIPSIS
    return message


class ErrorMappingInterceptor(ScopedInterceptor):
    """Turns domain errors into their status codes; hides the details of unexpected ones."""

    @asynccontextmanager
    async def scope(self, method: str, context: aio.ServicerContext) -> AsyncIterator[None]:
        try:
            yield
        except DepictioError as exc:
            await context.abort(exc.code, status_details(exc.message))
        except aio.AbortError:
            raise
        except Exception as exc:
            # A method of ours not built yet; not a library's subclass (pyarrow's
            # ArrowNotImplementedError is an unexpected error like any other).
            if type(exc) is NotImplementedError:
                await context.abort(
                    grpc.StatusCode.UNIMPLEMENTED, f"{method} is not implemented yet"
                )
            log.exception("unhandled error", extra={"method": method})
            await context.abort(
                grpc.StatusCode.INTERNAL,
                f"internal error (request id {request_id_var.get()})",
            )


class IdentityInterceptor(ScopedInterceptor):
    """Verifies the bearer access token of every call that needs one."""

    def __init__(
        self,
        verifier: TokenVerifier,
        public_methods: Collection[str] = (),
        auth_mode: AuthMode = AuthMode.AUTH,
    ) -> None:
        self._verifier = verifier
        self._public = ALWAYS_PUBLIC | frozenset(public_methods)
        self._auth_mode = auth_mode

    async def identify(self, method: str, authorization: str) -> Identity:
        """The caller named by an authorization header value, or an error."""
        if not authorization:
            if method in self._public or self._auth_mode is AuthMode.PUBLIC:
                return ANONYMOUS
            raise Unauthenticated("missing bearer token in 'authorization' metadata")
        if method in self._public:
            return ANONYMOUS
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("authorization must be 'Bearer <access token>'")
        token = token.strip()
        claims = await self._verifier.verify(token)
        return Identity.from_claims(claims, token)

    @asynccontextmanager
    async def scope(self, method: str, context: aio.ServicerContext) -> AsyncIterator[None]:
        # Not reset on exit: grpc.aio serves each RPC in its own task, whose context ends with
        # it, and the access log (an outer scope) reads the identity after the handler returns.
        identity_var.set(await self.identify(method, metadata_value(context, AUTHORIZATION_KEY)))
        yield


class Undecoded:
    """A request message whose bytes did not decode, and why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class RequestDecodingInterceptor(ScopedInterceptor):
    """Refuses a request message that does not decode: INVALID_ARGUMENT naming the method
    (grpc.aio ended such a call UNKNOWN, naming the deserializer's Python exception)."""

    @asynccontextmanager
    async def scope(self, method: str, context: aio.ServicerContext) -> AsyncIterator[None]:
        yield

    def decoder(self, method: str, decode: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
        def tolerant(data: bytes) -> Any:
            try:
                return decode(data)
            except DecodeError as exc:
                return Undecoded(str(exc))

        return tolerant

    def received(self, method: str, request: Any) -> Any:
        if isinstance(request, Undecoded):
            raise InvalidArgument(
                f"the request message of {method} does not decode ({request.reason})"
            )
        return request


def standard_interceptors(identity: IdentityInterceptor) -> list[aio.ServerInterceptor]:
    """The interceptor chain of every service, outermost first."""
    return [
        RequestIdInterceptor(),
        AccessLogInterceptor(),
        ErrorMappingInterceptor(),
        RequestDecodingInterceptor(),
        identity,
    ]
