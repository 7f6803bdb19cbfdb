"""A failed call to metadata_svc, as the service that made it answers its own caller.

A refusal or a missing target keeps its code and words; anything else (metadata_svc down,
timed out) is UNAVAILABLE naming metadata_svc and the call.
"""

from __future__ import annotations

import grpc
from grpc import aio

from depictio.errors import (
    DepictioError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)


class MetadataUnavailable(DepictioError):
    """metadata_svc could not answer; the calling RPC cannot be authorized."""

    code = grpc.StatusCode.UNAVAILABLE


RELAYED: dict[grpc.StatusCode, type[DepictioError]] = {
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
}


def relayed_error(exc: aio.AioRpcError, rpc: str, context: str = "") -> DepictioError:
    """The domain error to answer with when metadata_svc's `rpc` failed."""
    kind = RELAYED.get(exc.code(), MetadataUnavailable)
    details = exc.details() or exc.code().name
    if kind is MetadataUnavailable:
        details = f"metadata service: {rpc} failed ({exc.code().name}: {details})"
    return kind(f"{context}{details}")
