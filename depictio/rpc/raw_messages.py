"""Messages holding one bytes field, framed and read without protobuf copies.

Scan streams hundreds of megabytes as `ScanResponse{arrow_ipc = 1}`, and WriteTable receives
them as `WriteTableRequest{arrow_ipc = 2}`: building each message with protobuf copies the
payload twice on the sender and once more on the receiver. The wire form of such a message is
just a tag, a length and the bytes, so the sender frames it itself (one copy, from the
payload's buffers straight into the message) and the receiver reads the payload as a view of
the received bytes. Both sides still speak the proto contract exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import grpc
from google.protobuf.message import Message

# Wire type 2: length-delimited (bytes, strings, messages).
LENGTH_DELIMITED = 2
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


def field_tag(number: int) -> bytes:
    """The tag of bytes field `number` (1–15: one byte)."""
    return varint(number << 3 | LENGTH_DELIMITED)


def frame_bytes_field(number: int, parts: Sequence[Any]) -> bytes:
    """The serialized message whose bytes field `number` holds the concatenation of `parts`
    (buffers); empty when they are (proto3 leaves an empty bytes field out)."""
    size = sum(memoryview(part).nbytes for part in parts)
    if size == 0:
        return b""
    return b"".join([field_tag(number), varint(size), *parts])


def frame_field_one(parts: Sequence[Any]) -> bytes:
    """The serialized message whose field 1 holds the concatenation of `parts` (buffers)."""
    return frame_bytes_field(1, parts)


def framed_field_view(data: bytes, number: int) -> memoryview | None:
    """Field `number`'s bytes as a view of `data` when `data` is exactly that field framed as
    `frame_bytes_field` frames it, else None."""
    tag = field_tag(number)
    if data[: len(tag)] != tag:
        return None
    size, position, shift = 0, len(tag), 0
    while position < len(data) and position <= len(tag) + 9:
        byte = data[position]
        size |= (byte & 0x7F) << shift
        position += 1
        shift += 7
        if not byte & 0x80:
            return memoryview(data)[position:] if position + size == len(data) else None
    return None


def field_one_view(data: bytes, message_type: type[Message]) -> memoryview:
    """Field 1's bytes of a serialized `message_type`, as a view of `data` when it is framed as
    `frame_field_one` frames it (it always is from our servers), else parsed by protobuf."""
    view = framed_field_view(data, 1)
    if view is not None:
        return view
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


def add_servicer_with_raw_messages(
    add_to_server: Callable[[Any, Any], None],
    servicer: Any,
    server: grpc.aio.Server,
    framed_responses: Sequence[str] = (),
    request_deserializers: Mapping[str, Callable[[bytes], Any]] | None = None,
) -> None:
    """Registers `servicer` like the generated `add_to_server`, except that the methods of
    `framed_responses` may yield pre-framed bytes (`frame_bytes_field`) as well as response
    messages, and the methods of `request_deserializers` receive what those make of each
    request's bytes."""
    recorder = _HandlerRecorder()
    add_to_server(servicer, recorder)
    for name in framed_responses:
        handler = recorder.handlers[name]
        recorder.handlers[name] = handler._replace(response_serializer=serialize_framed_or_message)
    for name, deserializer in (request_deserializers or {}).items():
        handler = recorder.handlers[name]
        recorder.handlers[name] = handler._replace(request_deserializer=deserializer)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(recorder.service, recorder.handlers),)
    )
    server.add_registered_method_handlers(recorder.service, recorder.handlers)
