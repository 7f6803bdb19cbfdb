"""Pre-framed single-bytes-field messages equal what protobuf writes and reads."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from depictio.rpc.raw_messages import field_one_view, frame_field_one, varint
from depictio.v1 import data_pb2


@given(st.lists(st.binary(max_size=300), max_size=5))
def test_framed_message_is_the_protobuf_serialization(parts: list[bytes]) -> None:
    expected = data_pb2.ScanResponse(arrow_ipc=b"".join(parts)).SerializeToString()
    assert frame_field_one(parts) == expected


@given(st.binary(max_size=70_000))
def test_view_reads_back_protobuf_messages(payload: bytes) -> None:
    serialized = data_pb2.ScanResponse(arrow_ipc=payload).SerializeToString()
    assert bytes(field_one_view(serialized, data_pb2.ScanResponse)) == payload


@pytest.mark.parametrize("size", [1, 127, 128, 300, 16_383, 16_384, 1 << 20])
def test_varint_is_the_length_prefix_protobuf_writes(size: int) -> None:
    serialized = data_pb2.ScanResponse(arrow_ipc=b"x" * size).SerializeToString()
    prefix = varint(size)
    assert serialized[1 : 1 + len(prefix)] == prefix
    assert len(serialized) == 1 + len(prefix) + size


def test_unframed_input_falls_back_to_protobuf() -> None:
    # Field 1 written twice: protobuf keeps the last value; the view must not take a shortcut.
    twice = (
        data_pb2.ScanResponse(arrow_ipc=b"first").SerializeToString()
        + data_pb2.ScanResponse(arrow_ipc=b"second").SerializeToString()
    )
    assert bytes(field_one_view(twice, data_pb2.ScanResponse)) == b"second"
    assert bytes(field_one_view(b"", data_pb2.ScanResponse)) == b""
