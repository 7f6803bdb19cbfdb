"""Errors as status codes, their messages cut to fit a gRPC trailer (measured as gRPC
percent-encodes them)."""

from __future__ import annotations

import asyncio
import urllib.parse

import grpc
import pyarrow as pa
import pytest
from grpc import aio

from depictio.errors import InvalidArgument
from depictio.rpc.interceptors import MAX_DETAILS_BYTES, ErrorMappingInterceptor, status_details


def encoded_size(message: str) -> int:
    """The size of grpc-message as gRPC sends it: printable ASCII but "%" as it is, every
    other byte of the UTF-8 text as %XX (RFC 3986 quoting of those bytes is the same)."""
    safe = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")
    return len(urllib.parse.quote(message, safe=safe))


@pytest.mark.parametrize("char", ["x", "%", "é", "漢", "\n"])
def test_a_long_message_is_cut_to_fit_its_trailer(char: str) -> None:
    message = "unknown column '" + char * 20_000 + "'"
    cut = status_details(message)
    assert cut.endswith("…") and message.startswith(cut[:-1])
    assert MAX_DETAILS_BYTES - 12 <= encoded_size(cut) <= MAX_DETAILS_BYTES


def test_a_message_that_fits_is_unchanged() -> None:
    message = "queries[0].aggregate: unknown column 'é' " + "y" * 3_000
    assert status_details(message) == message


class RecordingContext:
    """The part of a servicer context ErrorMappingInterceptor uses: abort, recorded."""

    def __init__(self) -> None:
        self.aborted: tuple[grpc.StatusCode, str] | None = None

    async def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.aborted = (code, details)
        raise aio.AbortError()


@pytest.mark.parametrize(
    ("raised", "code"),
    [
        (NotImplementedError(), grpc.StatusCode.UNIMPLEMENTED),
        (pa.ArrowNotImplementedError("Integers with more than 64 bits"), grpc.StatusCode.INTERNAL),
        (InvalidArgument("x" * 20_000), grpc.StatusCode.INVALID_ARGUMENT),
    ],
    ids=["ours", "pyarrow's", "domain error"],
)
def test_errors_map_to_their_codes(raised: Exception, code: grpc.StatusCode) -> None:
    """pyarrow's ArrowNotImplementedError is a NotImplementedError: it was answered
    UNIMPLEMENTED, "… is not implemented yet", for a method that is."""
    context = RecordingContext()

    async def handle() -> None:
        async with ErrorMappingInterceptor().scope("/depictio.v1.DataService/WriteTable", context):  # type: ignore[arg-type]
            raise raised

    with pytest.raises(aio.AbortError):
        asyncio.run(handle())
    assert context.aborted is not None and context.aborted[0] == code
    assert encoded_size(context.aborted[1]) <= MAX_DETAILS_BYTES
