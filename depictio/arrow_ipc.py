"""Arrow IPC streams cut into bounded chunks (for gRPC messages) and read back from chunks."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import TypeAlias

import pyarrow as pa

# Largest chunk of an IPC stream one gRPC message carries: the message, the chunk framed by a
# field tag (1 byte) and its length (3 bytes), stays within 1 MiB.
MAX_CHUNK_BYTES = 1024 * 1024 - 4
# Target size of one record batch message: a little under a gRPC message's 1 MiB.
MESSAGE_BYTES = 960 * 1024
# The IPC end-of-stream marker: continuation token, then a zero message length.
END_OF_STREAM = b"\xff\xff\xff\xff\x00\x00\x00\x00"


def table_to_ipc(table: pa.Table) -> bytes:
    """A whole table as one Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def ipc_to_table(data: bytes | pa.Buffer) -> pa.Table:
    """The table an Arrow IPC stream holds."""
    return pa.ipc.open_stream(pa.BufferReader(data)).read_all()


# A piece of an IPC message: bytes an Arrow writer built (message headers, padding), a Buffer
# (a batch's own memory, or offsets rebased for a sliced batch), or a view of either.
MessagePart: TypeAlias = bytes | memoryview | pa.Buffer


class _KeptWrites:
    """A write-only file keeping what is written to it, uncopied: the parts of the IPC
    messages an Arrow stream writer writes, the batches' bodies as views of their memory."""

    closed = False

    def __init__(self) -> None:
        self.parts: list[MessagePart] = []

    def write(self, data: MessagePart) -> None:
        self.parts.append(data)

    def flush(self) -> None:
        """Nothing is buffered."""

    def close(self) -> None:
        self.closed = True

    def take(self) -> list[MessagePart]:
        """The parts written since the last take."""
        parts, self.parts = self.parts, []
        return parts


def part_bytes(part: MessagePart) -> int:
    """The size of a message part in bytes."""
    return memoryview(part).nbytes


def _after(parts: list[MessagePart], skipped: int) -> list[MessagePart]:
    """`parts` without their first `skipped` bytes."""
    rest: list[MessagePart] = []
    for part in parts:
        size = part_bytes(part)
        if skipped >= size:
            skipped -= size
            continue
        rest.append(memoryview(part).cast("B")[skipped:] if skipped else part)
        skipped = 0
    return rest


def ipc_messages(
    schema: pa.Schema, batches: Iterable[pa.RecordBatch]
) -> Iterator[list[MessagePart]]:
    """The IPC stream of `batches` (no dictionary columns) as its messages, each as the parts
    it is written from, not joined: the schema, the batches sliced to about MESSAGE_BYTES each,
    the end-of-stream marker.

    A batch's body is handed over as views of its own buffers: whoever frames a message (for
    gRPC) copies its bytes once, straight from the batch (`batch.serialize()` would copy them
    into a buffer of its own first).
    """
    schema_message = schema.serialize()
    yield [schema_message]
    kept = _KeptWrites()
    # The writer writes the schema again, before its first batch (or on closing): left out.
    schema_left = schema_message.size

    def written() -> list[MessagePart]:
        nonlocal schema_left
        parts = _after(kept.take(), schema_left)
        schema_left = 0
        return parts

    with pa.ipc.new_stream(pa.PythonFile(kept, mode="w"), schema) as writer:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            if not batch.schema.equals(schema):
                # The writer takes only batches of its schema: the same columns as declared
                # (a column nullable in the batch, not in the schema, is written as before).
                batch = pa.RecordBatch.from_arrays(batch.columns, schema=schema)
            for piece in bounded_slices(batch, MESSAGE_BYTES):
                writer.write_batch(piece)
                yield written()
    yield written()


def bounded_slices(batch: pa.RecordBatch, max_bytes: int) -> Iterator[pa.RecordBatch]:
    """`batch` as consecutive slices of at most `max_bytes` of data each (a single row larger
    than that stays whole): sized by the batch's average row, and a slice still too large
    (its rows wider than the average) halved until it fits."""
    if batch.num_rows == 0:
        return
    rows = max(1, max_bytes // max(1, batch.nbytes // batch.num_rows))
    pending = [batch.slice(start, rows) for start in range(0, batch.num_rows, rows)][::-1]
    while pending:
        piece = pending.pop()
        if piece.num_rows > 1 and piece.nbytes > max_bytes:
            half = piece.num_rows // 2
            pending += [piece.slice(half), piece.slice(0, half)]
            continue
        yield piece


class ChunkReader(io.RawIOBase):
    """A readable binary stream over an iterator of byte chunks (an IPC stream in pieces)."""

    def __init__(self, chunks: Iterable[bytes | memoryview]) -> None:
        self._chunks = iter(chunks)
        self._current = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._current:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._current = memoryview(chunk).cast("B")  # a pa.Buffer's view is signed
        size = min(len(target), len(self._current))
        target[:size] = self._current[:size]
        self._current = self._current[size:]
        return size


def chunk_stream(chunks: Iterable[bytes | memoryview]) -> io.BufferedReader:
    """The chunks as one binary stream, whose read(n) returns n bytes unless the stream ends,
    as Arrow expects."""
    return io.BufferedReader(ChunkReader(chunks), buffer_size=MAX_CHUNK_BYTES)


def batches_from_chunks(chunks: Iterable[bytes | memoryview]) -> pa.ipc.RecordBatchStreamReader:
    """A record batch reader over an IPC stream delivered in chunks."""
    return pa.ipc.open_stream(pa.PythonFile(chunk_stream(chunks), mode="r"))


def pooled(chunk: bytes | memoryview) -> pa.Buffer:
    """A copy of `chunk` in Arrow's memory pool.

    A table decoded in place from received messages keeps every message alive: hundreds of
    fresh 1 MiB allocations, whose pages the kernel maps one fault at a time and unmaps when
    the table goes (most of a Scan client's time here went to those faults). Copied into
    Arrow's pool, which keeps freed pages for reuse, each message can be freed at once and
    the next one reuses its memory.
    """
    view = memoryview(chunk).cast("B")
    buffer = pa.allocate_buffer(len(view))
    memoryview(buffer).cast("B")[:] = view
    return buffer


def table_from_chunks(chunks: Iterable[bytes | memoryview | pa.Buffer]) -> pa.Table:
    """The table of an IPC stream delivered in chunks.

    Chunks holding whole IPC messages (as data_svc sends them) are decoded in place, without
    copying; from the first message cut across chunks on, the rest is read as a byte stream.
    """
    schema: pa.Schema | None = None
    batches: list[pa.RecordBatch] = []
    remaining = iter(chunks)
    for chunk in remaining:
        data = pa.py_buffer(chunk)
        reader = pa.BufferReader(data)
        while (position := reader.tell()) < data.size:
            try:
                message = pa.ipc.read_message(reader)
            except (pa.ArrowInvalid, EOFError, OSError):
                rest = data.slice(position)
                if rest.slice(0, len(END_OF_STREAM)).to_pybytes() == END_OF_STREAM:
                    break
                rest_stream = pa.ipc.MessageReader.open_stream(
                    pa.PythonFile(
                        io.BufferedReader(
                            ChunkReader(chain([memoryview(rest).cast("B")], remaining))
                        ),
                        mode="r",
                    )
                )
                return _finish_table(schema, batches, rest_stream)
            schema = _add_message(message, schema, batches)
    return _finish_table(schema, batches, None)


def _add_message(
    message: pa.ipc.Message, schema: pa.Schema | None, batches: list[pa.RecordBatch]
) -> pa.Schema:
    """Decodes one IPC message: the schema, or a batch appended to `batches`."""
    if message.type == "schema":
        return pa.ipc.read_schema(message)
    if schema is None:
        raise pa.ArrowInvalid(f"IPC stream: a {message.type} message before the schema")
    batches.append(pa.ipc.read_record_batch(message, schema))
    return schema


def _finish_table(
    schema: pa.Schema | None, batches: list[pa.RecordBatch], rest: pa.ipc.MessageReader | None
) -> pa.Table:
    while rest is not None:
        try:
            message = rest.read_next_message()
        except StopIteration:
            break
        schema = _add_message(message, schema, batches)
    if schema is None:
        raise pa.ArrowInvalid("IPC stream: no schema message")
    return pa.Table.from_batches(batches, schema)
