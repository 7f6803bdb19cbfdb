"""Scan: a table (projected, filtered, sorted, sliced, at a version) as bounded IPC chunks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Executor

import polars as pl
import pyarrow as pa

from data_svc.encoding import decoded
from data_svc.query_engine import filtered
from data_svc.query_plans import check_columns, check_distinct, sort_frame
from depictio.arrow_ipc import MAX_CHUNK_BYTES, MessagePart, ipc_messages, part_bytes
from depictio.errors import InvalidArgument
from depictio.rpc.raw_messages import frame_field_one
from depictio.v1 import data_pb2

# The most rows a polars frame holds (its row index is 32-bit).
MAX_ROWS = 2**32 - 1
# Chunks handed from the worker thread to the event loop at a time.
CHUNKS_PER_HOP = 4


def scan_frame(frame: pl.LazyFrame, request: data_pb2.ScanRequest) -> pl.LazyFrame:
    """The lazy plan of a Scan request."""
    schema = frame.collect_schema()
    columns = list(request.columns) or list(schema)
    check_columns(columns, schema, "columns")
    check_distinct(columns, "columns")
    check_columns([key.column for key in request.sort], schema, "sort")
    if request.limit < 0 or request.offset < 0:
        raise InvalidArgument(
            f"limit and offset must be ≥ 0, got limit={request.limit} offset={request.offset}"
        )
    needed = {*columns, *(key.column for key in request.sort)}
    node = request.filter if request.HasField("filter") else None
    plan = sort_frame(filtered(frame, node, needed, "filter"), request.sort)
    if request.offset or request.limit:
        # polars counts rows in 32 bits: a longer slice is every row there is.
        plan = plan.slice(request.offset, min(request.limit, MAX_ROWS) or None)
    return decoded(plan.select(columns))


def plan_batches(plan: pl.LazyFrame) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """The plan's schema and its rows as Arrow record batches, computed as they are taken."""
    batches = (
        batch.to_arrow(compat_level=pl.CompatLevel.oldest()) for batch in plan.collect_batches()
    )
    first = next(batches, None)
    if first is None:
        schema = plan.clear().collect().to_arrow(compat_level=pl.CompatLevel.oldest()).schema
        return schema, iter(())
    return first.schema, _chain_batches(first, batches)


def scan_chunks(plan: pl.LazyFrame) -> Generator[list[bytes], None, None]:
    """The plan's rows as one IPC stream cut into serialized ScanResponse messages carrying
    ≤ 1 MiB each, in groups.

    Batches are sliced so that each IPC message fits one gRPC message, which is then framed
    straight from the batches' buffers: each byte is copied once, into its gRPC message (see
    depictio.arrow_ipc.ipc_messages and depictio.rpc.raw_messages).
    """
    messages = ipc_messages(*plan_batches(plan))
    group: list[bytes] = []
    for parts in packed(messages, MAX_CHUNK_BYTES):
        group.append(frame_field_one(parts))
        if len(group) >= CHUNKS_PER_HOP:
            yield group
            group = []
    if group:
        yield group


def packed(
    messages: Iterable[Sequence[MessagePart]], max_bytes: int
) -> Iterator[list[MessagePart]]:
    """`messages` (each a list of parts) in order, as payloads of ≤ `max_bytes`: whole messages
    packed together while they fit, a message larger than `max_bytes` cut in pieces."""
    pending: list[MessagePart] = []
    size = 0
    for parts in messages:
        length = sum(part_bytes(part) for part in parts)
        if size + length > max_bytes and pending:
            yield pending
            pending, size = [], 0
        if length > max_bytes:  # a row wider than a message: rare enough to join first
            view = memoryview(b"".join(parts))
            while len(view) > max_bytes:
                yield [view[:max_bytes]]
                view = view[max_bytes:]
            parts, length = [view], len(view)
        if length:
            pending.extend(parts)
            size += length
    if pending:
        yield pending


def _chain_batches(first: pa.Table, rest: Iterator[pa.Table]) -> Iterator[pa.RecordBatch]:
    yield from first.to_batches()
    for table in rest:
        yield from table.to_batches()


async def prefetched(
    groups: Generator[list[bytes], None, None], executor: Executor | None = None
) -> AsyncIterator[list[bytes]]:
    """`groups`, each produced in a worker thread of `executor` (the loop's default when
    None) while the consumer sends the one before: producing (decoding Parquet, encoding IPC)
    overlaps with sending.

    A thread is held only while a group is being produced: a consumer that stalls (a client
    that stopped reading, gRPC flow control holding its messages) leaves one finished group
    waiting, not a thread — stalled Scans holding threads (and 16 groups each) froze every
    other call that needed one. When the consumer stops early, `groups` is closed.
    """
    loop = asyncio.get_running_loop()

    def produce() -> list[bytes] | None:
        return next(groups, None)

    pending = loop.run_in_executor(executor, produce)
    try:
        while (group := await pending) is not None:
            pending = loop.run_in_executor(executor, produce)
            yield group
    finally:
        if not pending.done():
            with contextlib.suppress(BaseException):
                await asyncio.shield(pending)
        with contextlib.suppress(BaseException):
            await loop.run_in_executor(executor, groups.close)
