"""IPC chunks decoded as they arrive, a bounded number ahead of their consumer; and the
gateway's Parquet export sent a row group at a time."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_svc.scanning import packed
from depictio.arrow_ipc import MAX_CHUNK_BYTES, ipc_messages
from depictio.clients.data import CHUNKS_AHEAD, decoded_batches
from gateway.routers import datacollections

TABLE = pa.table({"id": np.arange(400_000), "x": np.arange(400_000) * 0.5})


def chunks_of(table: pa.Table, pulled: list[int] | None = None) -> AsyncIterator[memoryview]:
    """The table as Scan sends it (chunks of ≤ MAX_CHUNK_BYTES), counting those taken."""
    payloads = [
        b"".join(parts)
        for parts in packed(ipc_messages(table.schema, table.to_batches(50_000)), MAX_CHUNK_BYTES)
    ]

    async def chunks() -> AsyncIterator[memoryview]:
        for payload in payloads:
            if pulled is not None:
                pulled.append(1)
            yield memoryview(payload)

    return chunks()


def test_a_consumer_that_stops_taking_batches_stops_the_receiving() -> None:
    """The decoder queued every received chunk: a slow consumer held the whole stream."""
    table = pa.table({"id": np.arange(3_000_000)})  # about 23 chunks of 1 MiB
    many = pa.concat_tables([table] * 4)  # about 92 chunks
    pulled: list[int] = []

    async def first_batch_then_wait() -> int:
        batches = decoded_batches(chunks_of(many, pulled))
        first = await anext(batches)
        await asyncio.sleep(0.5)
        taken = len(pulled)
        await batches.aclose()
        assert first.num_rows > 0
        return taken

    taken = asyncio.run(first_batch_then_wait())
    assert CHUNKS_AHEAD <= taken <= CHUNKS_AHEAD + 4 < 90


def test_batches_decode_to_the_table_and_no_rows_to_its_schema() -> None:
    async def collect(table: pa.Table) -> list[pa.RecordBatch]:
        return [batch async for batch in decoded_batches(chunks_of(table))]

    assert pa.Table.from_batches(asyncio.run(collect(TABLE))).equals(TABLE)
    [empty] = asyncio.run(collect(TABLE.slice(0, 0)))
    assert empty.num_rows == 0 and empty.schema == TABLE.schema


@pytest.mark.parametrize("table", [TABLE, TABLE.slice(0, 0)], ids=["rows", "no rows"])
def test_a_parquet_export_is_sent_a_row_group_at_a_time(
    table: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datacollections, "ROW_GROUP_BYTES", 1_000_000)

    async def pieces() -> list[bytes]:
        return [piece async for piece in datacollections.parquet_encoded(chunks_of(table))]

    sent = asyncio.run(pieces())
    parquet = pq.ParquetFile(io.BytesIO(b"".join(sent)))
    assert parquet.read().equals(table)
    if table.num_rows:
        # 6.4 MB of rows in batches of 0.8 MB: row groups of two, each sent once written.
        assert parquet.metadata.num_row_groups == 4
        assert len([piece for piece in sent if piece]) >= parquet.metadata.num_row_groups
