"""Status messages are cut to fit a gRPC trailer, measured as gRPC percent-encodes them."""

from __future__ import annotations

import urllib.parse

import pytest

from depictio.rpc.interceptors import MAX_DETAILS_BYTES, status_details


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
