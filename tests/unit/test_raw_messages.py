"""Pre-framed single-bytes-field messages equal what protobuf writes and reads."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from data_svc.servicer import write_table_request
from depictio.rpc.raw_messages import (
    field_one_view,
    frame_bytes_field,
    frame_field_one,
    framed_field_view,
    varint,
)
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


@given(st.lists(st.binary(max_size=300), min_size=1, max_size=5).filter(lambda p: any(p)))
def test_a_framed_write_chunk_is_the_protobuf_serialization_and_reads_back_as_a_view(
    parts: list[bytes],
) -> None:
    payload = b"".join(parts)
    expected = data_pb2.WriteTableRequest(arrow_ipc=payload).SerializeToString()
    framed = frame_bytes_field(2, parts)
    assert framed == expected
    received = write_table_request(framed)
    assert isinstance(received, memoryview)
    assert bytes(received) == payload


def test_other_write_messages_are_parsed_by_protobuf() -> None:
    header = data_pb2.WriteTableRequest(
        header=data_pb2.WriteHeader(data_collection_id="dc", run_id="r1")
    ).SerializeToString()
    parsed = write_table_request(header)
    assert isinstance(parsed, data_pb2.WriteTableRequest)
    assert parsed.header.data_collection_id == "dc"
    # A chunk written twice in one message: protobuf keeps the last one.
    twice = frame_bytes_field(2, [b"first"]) + frame_bytes_field(2, [b"second"])
    parsed = write_table_request(twice)
    assert isinstance(parsed, data_pb2.WriteTableRequest)
    assert parsed.arrow_ipc == b"second"
    assert framed_field_view(frame_bytes_field(1, [b"x"]), 2) is None
