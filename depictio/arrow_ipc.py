"""Arrow IPC streams cut into bounded chunks (for gRPC messages) and read back from chunks."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from itertools import chain

import pyarrow as pa

# Largest chunk of an IPC stream one gRPC message carries.
MAX_CHUNK_BYTES = 1024 * 1024
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


def ipc_chunks(
    schema: pa.Schema, batches: Iterable[pa.RecordBatch], max_bytes: int = MAX_CHUNK_BYTES
) -> Iterator[bytes]:
    """One Arrow IPC stream of `batches` (no dictionary columns), as chunks of ≤ `max_bytes`.

    The stream is the schema message, one message per batch and the end-of-stream marker;
    every chunk but the last is exactly `max_bytes` long, and memory holds one batch at a time.
    """
    messages = chain(
        [schema.serialize()], (batch.serialize() for batch in batches), [END_OF_STREAM]
    )
    pending = bytearray()
    for message in messages:
        view = memoryview(message)
        if pending:
            take = max_bytes - len(pending)
            pending += view[:take]
            view = view[take:]
            if len(pending) < max_bytes:
                continue
            yield bytes(pending)
            pending = bytearray()
        while len(view) >= max_bytes:
            yield bytes(view[:max_bytes])
            view = view[max_bytes:]
        pending += view
    if pending:
        yield bytes(pending)


class ChunkReader(io.RawIOBase):
    """A readable binary stream over an iterator of byte chunks (an IPC stream in pieces)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._current = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._current:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._current = memoryview(chunk)
        size = min(len(target), len(self._current))
        target[:size] = self._current[:size]
        self._current = self._current[size:]
        return size


def batches_from_chunks(chunks: Iterable[bytes]) -> pa.ipc.RecordBatchStreamReader:
    """A record batch reader over an IPC stream delivered in chunks."""
    # BufferedReader.read(n) returns n bytes unless the stream ends, as Arrow expects.
    stream = io.BufferedReader(ChunkReader(chunks), buffer_size=MAX_CHUNK_BYTES)
    return pa.ipc.open_stream(pa.PythonFile(stream, mode="r"))
