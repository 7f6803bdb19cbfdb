"""Messages whose only field is `bytes payload = 1`, framed and read without protobuf copies.

Scan streams hundreds of megabytes as `ScanResponse{arrow_ipc}`: building each message with
protobuf copies the payload twice on the server and once more on the client. The wire form of
such a message is just a tag, a length and the bytes, so the server sends it pre-framed (one
copy, from Arrow buffers straight into the message) and the client reads the payload as a view
of the received bytes. Both sides still speak the proto contract exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import grpc
from google.protobuf.message import Message

# Field 1, wire type 2 (length-delimited).
FIELD_ONE_TAG = b"\x0a"
Buffer = bytes | bytearray | memoryview


def varint(value: int) -> bytes:
    """`value` (≥ 0) as a protobuf base-128 varint."""
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def frame_field_one(parts: Sequence[Any]) -> bytes:
    """The serialized message whose field 1 holds the concatenation of `parts` (buffers)."""
    size = sum(memoryview(part).nbytes for part in parts)
    if size == 0:
        return b""  # proto3 leaves an empty bytes field out
    return b"".join([FIELD_ONE_TAG, varint(size), *parts])


def field_one_view(data: bytes, message_type: type[Message]) -> memoryview:
    """Field 1's bytes of a serialized `message_type`, as a view of `data` when it is framed as
    `frame_field_one` frames it (it always is from our servers), else parsed by protobuf."""
    if data[:1] == FIELD_ONE_TAG:
        size, position, shift = 0, 1, 0
        while position < len(data) and position <= 10:
            byte = data[position]
            size |= (byte & 0x7F) << shift
            position += 1
            shift += 7
            if not byte & 0x80:
                if position + size == len(data):
                    return memoryview(data)[position:]
                break
    message = message_type.FromString(data)
    descriptor = message.DESCRIPTOR.fields_by_number[1]
    return memoryview(getattr(message, descriptor.name))


def serialize_framed_or_message(response: bytes | Message) -> bytes:
    """A response serializer accepting pre-framed bytes as well as messages."""
    if isinstance(response, bytes):
        return response
    return response.SerializeToString()


class _HandlerRecorder:
    """Stands in for a server to capture what a generated `add_…_to_server` registers."""

    def __init__(self) -> None:
        self.service = ""
        self.handlers: dict[str, grpc.RpcMethodHandler] = {}

    def add_generic_rpc_handlers(self, handlers: Iterable[grpc.GenericRpcHandler]) -> None:
        """Ignored: the registered method handlers are rebuilt from `handlers` below."""

    def add_registered_method_handlers(
        self, service: str, handlers: dict[str, grpc.RpcMethodHandler]
    ) -> None:
        self.service = service
        self.handlers = dict(handlers)


def add_servicer_with_framed_responses(
    add_to_server: Callable[[Any, Any], None],
    servicer: Any,
    server: grpc.aio.Server,
    framed_methods: Sequence[str],
) -> None:
    """Registers `servicer` like the generated `add_to_server`, except that `framed_methods`
    may yield pre-framed bytes (`frame_field_one`) as well as response messages."""
    recorder = _HandlerRecorder()
    add_to_server(servicer, recorder)
    for name in framed_methods:
        handler = recorder.handlers[name]
        recorder.handlers[name] = handler._replace(response_serializer=serialize_framed_or_message)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(recorder.service, recorder.handlers),)
    )
    server.add_registered_method_handlers(recorder.service, recorder.handlers)
