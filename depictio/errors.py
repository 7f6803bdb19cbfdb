"""Domain errors shared by every service, each tied to one gRPC status code."""

from __future__ import annotations

import grpc


class DepictioError(Exception):
    """A failure the caller can act on; its message is shown to the caller as is."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(DepictioError):
    """The request is malformed or a value is out of range."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(DepictioError):
    """The named thing does not exist (or the caller may not know it does)."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(DepictioError):
    """A thing with that identity exists already."""

    code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDenied(DepictioError):
    """The caller is known but not allowed."""

    code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(DepictioError):
    """The caller could not be identified."""

    code = grpc.StatusCode.UNAUTHENTICATED


class FailedPrecondition(DepictioError):
    """The system is not in a state that allows the request."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(DepictioError):
    """A concurrent change got there first; the same request may succeed if made again."""

    code = grpc.StatusCode.ABORTED
