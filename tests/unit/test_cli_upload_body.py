"""The CLI's upload body: an Arrow IPC stream taken out of the writer without copying the
column data, and handed to the HTTP client in bounded pieces."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from depictio.cli.gateway_api import bounded_pieces
from depictio.cli.ingestion import DrainedSink, wire_batches, wire_schema


def sample_table(rows: int) -> pa.Table:
    rng = np.random.default_rng(3)
    return pa.table(
        {
            "count": pa.array(rng.integers(0, 1_000, rows)),
            "score": pa.array(rng.normal(size=rows)),
            "name": pa.array([f"s{i % 37}" for i in range(rows)]),
            "run": pa.array(["run_1", "run_2"] * (rows // 2)).dictionary_encode(),
        }
    )


def test_the_drained_stream_reads_back_as_the_table_and_keeps_column_data_uncopied() -> None:
    table = sample_table(200_000)
    sink = DrainedSink()
    parts: list[memoryview] = []
    with pa.ipc.new_stream(pa.PythonFile(sink, mode="w"), table.schema) as writer:
        for batch in table.to_batches(max_chunksize=50_000):
            writer.write_batch(batch)
            parts += sink.drain()
    parts += sink.drain()

    assert pa.ipc.open_stream(pa.py_buffer(b"".join(parts))).read_all().equals(table)
    # The float column's values are sent straight from the table's memory.
    values = {
        batch.column(1).buffers()[1].address + 8 * batch.column(1).offset
        for batch in table.to_batches(max_chunksize=50_000)
    }
    sent = {pa.py_buffer(part).address for part in parts}
    assert values <= sent


def test_pieces_are_bounded_views_that_join_back_to_the_chunks() -> None:
    chunks = [b"a" * 10, b"", bytes(range(256)) * 9, memoryview(b"xyz" * 700)]
    pieces = list(bounded_pieces(chunks, 1000))

    assert b"".join(pieces) == b"".join(bytes(chunk) for chunk in chunks)
    assert max(len(piece) for piece in pieces) == 1000
    assert [len(piece) for piece in pieces] == [10, 1000, 1000, 304, 1000, 1000, 100]


def test_large_text_and_binary_go_on_the_wire_with_32_bit_offsets() -> None:
    large = pa.table(
        {
            "name": pa.array(["alpha", None, "γδ", ""] * 250, pa.large_string()),
            "blob": pa.array([b"\x00\x01", b"", None, b"xyz"] * 250, pa.large_binary()),
            "count": pa.array(np.arange(1_000)),
            "run": pa.array(["run_1", "run_2"] * 500, pa.large_string()).dictionary_encode(),
        }
    )
    schema = wire_schema(large.schema)
    assert [str(field.type) for field in schema] == [
        "string",
        "binary",
        "int64",
        "dictionary<values=string, indices=int32, ordered=0>",
    ]
    [batch] = large.to_batches()
    [sent] = list(wire_batches(batch, schema))
    assert sent.schema == schema
    # The same values, checked in Python rather than through the cast.
    assert sent.to_pylist() == batch.to_pylist()
