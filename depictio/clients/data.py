"""Typed client of data_svc: Arrow in (write_table), Arrow out (scan), queries, maintenance."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from typing import Any, Literal, TypeAlias

import grpc
import pyarrow as pa
import pyarrow.flight as flight
from grpc import aio

from depictio.arrow_ipc import (
    MAX_CHUNK_BYTES,
    MessagePart,
    batches_from_chunks,
    ipc_messages,
    ipc_to_table,
    pooled,
    table_from_chunks,
)
from depictio.clients.base import ServiceClient
from depictio.rpc.channels import blocking_channel
from depictio.rpc.raw_messages import (
    field_one_view,
    frame_bytes_field,
    serialize_framed_or_message,
)
from depictio.v1 import common_pb2, data_pb2, data_pb2_grpc

log = logging.getLogger(__name__)

ModeName = Literal["append", "overwrite", "replace_run", "replace_runs"]
WRITE_MODES: dict[str, data_pb2.WriteMode.ValueType] = {
    "append": data_pb2.WRITE_MODE_APPEND,
    "overwrite": data_pb2.WRITE_MODE_OVERWRITE,
    "replace_run": data_pb2.WRITE_MODE_REPLACE_RUN,
    "replace_runs": data_pb2.WRITE_MODE_REPLACE_RUNS,
}
# Writes and scans move whole tables: their deadline is longer than a unary call's.
STREAM_TIMEOUT_SECONDS = 600.0


SCAN_METHOD = "/depictio.v1.DataService/Scan"
# Scan's request encoder and response decoder, for asynchronous and blocking channels alike:
# each response is taken as a view of its IPC chunk (see depictio.rpc.raw_messages).
SCAN_CODECS: dict[str, Any] = {
    "request_serializer": data_pb2.ScanRequest.SerializeToString,
    "response_deserializer": lambda data: field_one_view(data, data_pb2.ScanResponse),
}

WRITE_METHOD = "/depictio.v1.DataService/WriteTable"
# Pieces of an Arrow IPC stream, as a write sends them, sync or async.
Chunk: TypeAlias = MessagePart
Chunks: TypeAlias = Iterable[Chunk] | AsyncIterable[Chunk]
# The field of WriteTableRequest that carries IPC chunks (framed by hand on both sides).
ARROW_IPC_FIELD = data_pb2.WriteTableRequest.DESCRIPTOR.fields_by_name["arrow_ipc"].number


async def _aiter(chunks: Chunks) -> AsyncIterator[Chunk]:
    """Sync or async chunks, as an async iterator."""
    if isinstance(chunks, AsyncIterable):
        async for chunk in chunks:
            yield chunk
    else:
        for chunk in chunks:
            yield chunk


async def write_messages(
    header: data_pb2.WriteHeader, chunks: Chunks
) -> AsyncIterator[data_pb2.WriteTableRequest | bytes]:
    """WriteTable's request stream: the header, then the IPC stream `chunks` (buffers) in
    messages of MAX_CHUNK_BYTES (small chunks are gathered, large ones cut) as they arrive."""
    # Chunk messages are framed here (serialized WriteTableRequest{arrow_ipc}): each
    # byte is copied once into its message, not three times through protobuf.
    yield data_pb2.WriteTableRequest(header=header)
    # One buffer gathers the small chunks (an HTTP body arrives in pieces of ≤ 256 KiB)
    # for every message, so memory is not allocated afresh for each.
    pending = bytearray(MAX_CHUNK_BYTES)
    filled = 0
    async for chunk in _aiter(chunks):
        view = memoryview(chunk).cast("B")
        while view:
            if not filled and len(view) >= MAX_CHUNK_BYTES:
                yield frame_bytes_field(ARROW_IPC_FIELD, [view[:MAX_CHUNK_BYTES]])
                view = view[MAX_CHUNK_BYTES:]
                continue
            take = min(MAX_CHUNK_BYTES - filled, len(view))
            pending[filled : filled + take] = view[:take]
            filled += take
            view = view[take:]
            if filled == MAX_CHUNK_BYTES:
                yield frame_bytes_field(ARROW_IPC_FIELD, [pending])
                filled = 0
    if filled:
        yield frame_bytes_field(ARROW_IPC_FIELD, [memoryview(pending)[:filled]])


def sort_keys(sort: Sequence[tuple[str, bool]]) -> list[data_pb2.SortKey]:
    """SortKeys of (column, descending) pairs."""
    return [
        data_pb2.SortKey(
            column=column,
            order=data_pb2.SORT_ORDER_DESCENDING if descending else data_pb2.SORT_ORDER_ASCENDING,
        )
        for column, descending in sort
    ]


def result_table(result: data_pb2.ComponentResult) -> pa.Table:
    """A query result's Arrow table."""
    return ipc_to_table(result.arrow_ipc)


class DataClient(ServiceClient):
    """DataService RPCs as typed methods.

    With `flight_target` (data_svc's Arrow Flight address, DEPICTIO_DATA_FLIGHT_ADDR), `scan`
    reads through Flight (see data_svc.flight_scans), falling back to the Scan RPC when
    nothing answers there.
    """

    def __init__(
        self, target: str, token: str = "", timeout: float = 10.0, flight_target: str = ""
    ) -> None:
        super().__init__(target, token, timeout)
        self.flight_target = flight_target

    @property
    def stub(self) -> data_pb2_grpc.DataServiceStub:
        return data_pb2_grpc.DataServiceStub(self.channel)

    async def write_table(
        self,
        data_collection_id: str,
        batches: Iterable[pa.RecordBatch] | pa.Table,
        run_id: str,
        mode: ModeName = "append",
        file: str = "",
        schema: pa.Schema | None = None,
        run_ids: Sequence[str] = (),
    ) -> data_pb2.WriteTableResponse:
        """Streams Arrow batches into one commit (`schema` needed for a bare batch iterator).

        An empty `run_id`: the rows carry their own depictio_run_id."""
        if isinstance(batches, pa.Table):
            schema = batches.schema
            batches = batches.to_batches()
        header = data_pb2.WriteHeader(
            data_collection_id=data_collection_id,
            run_id=run_id,
            mode=WRITE_MODES[mode],
            file=file,
            run_ids=list(run_ids),
        )
        batch_iter = iter(batches)
        if schema is None:
            first = next(batch_iter, None)
            if first is None:
                raise ValueError("an empty batch iterator needs its schema")
            schema = first.schema
            batch_iter = _prepend(first, batch_iter)
        chunks = chain.from_iterable(ipc_messages(schema, batch_iter))
        return await self.write_ipc_chunks(header, chunks)

    async def write_ipc_chunks(
        self, header: data_pb2.WriteHeader, chunks: Chunks
    ) -> data_pb2.WriteTableResponse:
        """Sends an Arrow IPC stream, already encoded, after the header (`write_messages`)."""

        write = self.channel.stream_unary(
            WRITE_METHOD,
            request_serializer=serialize_framed_or_message,
            response_deserializer=data_pb2.WriteTableResponse.FromString,
        )
        response: data_pb2.WriteTableResponse = await write(
            write_messages(header, chunks),
            timeout=STREAM_TIMEOUT_SECONDS,
            metadata=self.metadata() or None,
        )
        return response

    def scan_request(
        self,
        data_collection_id: str,
        columns: Sequence[str] = (),
        filter: common_pb2.Filter | None = None,
        sort: Sequence[tuple[str, bool]] = (),
        limit: int = 0,
        offset: int = 0,
        version: int | None = None,
    ) -> data_pb2.ScanRequest:
        """A ScanRequest; `sort` holds (column, descending) pairs."""
        request = data_pb2.ScanRequest(
            data_collection_id=data_collection_id,
            columns=list(columns),
            sort=sort_keys(sort),
            limit=limit,
            offset=offset,
        )
        if filter is not None:
            request.filter.CopyFrom(filter)
        if version is not None:
            request.version = version
        return request

    async def scan_chunks(
        self, request: data_pb2.ScanRequest, idle_seconds: float | None = None
    ) -> AsyncIterator[memoryview]:
        """The raw IPC stream chunks of a scan (views of the received messages, no copies).

        With `idle_seconds`, a message that takes longer to come (a stalled data_svc) ends
        the call with DEADLINE_EXCEEDED rather than after the whole stream's deadline.
        """
        scan = self.channel.unary_stream(SCAN_METHOD, **SCAN_CODECS)
        call = scan(request, timeout=STREAM_TIMEOUT_SECONDS, metadata=self.metadata() or None)
        try:
            while True:
                try:
                    chunk = await asyncio.wait_for(call.read(), idle_seconds)
                except TimeoutError:
                    raise aio.AioRpcError(
                        grpc.StatusCode.DEADLINE_EXCEEDED,
                        aio.Metadata(),
                        aio.Metadata(),
                        f"Scan sent nothing for {idle_seconds:g} s",
                    ) from None
                if chunk is aio.EOF:
                    return
                yield chunk
        finally:
            call.cancel()

    async def scan(self, data_collection_id: str, **options: object) -> pa.Table:
        """The scanned rows as one table (see scan_request for the options).

        Through data_svc's Flight endpoint when the client has its address; else (or when
        nothing answers there) the Scan RPC's stream, received whole in a worker thread on a
        blocking channel: the event loop is not woken for each of its messages. Failures are
        raised as AioRpcError, with Scan's codes, either way. Cancelling the await cancels
        the call.
        """
        request = self.scan_request(data_collection_id, **options)  # type: ignore[arg-type]
        if self.flight_target:
            try:
                return await self._flight_scan(request)
            except FlightUnreachable as exc:
                log.warning(
                    "Flight endpoint unreachable, scanning over gRPC",
                    extra={"target": self.flight_target, "error": str(exc)[:200]},
                )
        scan = blocking_channel(self.target).unary_stream(SCAN_METHOD, **SCAN_CODECS)
        call = scan(request, timeout=STREAM_TIMEOUT_SECONDS, metadata=self.metadata() or None)
        try:
            return await asyncio.to_thread(_table_of_call, call)
        except asyncio.CancelledError:
            call.cancel()
            raise

    async def _flight_scan(self, request: data_pb2.ScanRequest) -> pa.Table:
        options = flight.FlightCallOptions(
            headers=[(key.encode(), value.encode()) for key, value in self.metadata()],
            timeout=STREAM_TIMEOUT_SECONDS,
        )
        call = _FlightCall()

        def read() -> pa.Table:
            ticket = flight.Ticket(request.SerializeToString())
            try:
                reader = call.started(flight_client(self.flight_target).do_get(ticket, options))
                return read_whole(reader)
            except flight.FlightError as exc:
                raise flight_failure(exc) from None

        try:
            return await asyncio.get_running_loop().run_in_executor(flight_readers(), read)
        except asyncio.CancelledError:
            call.cancel()
            raise

    async def scan_batches(
        self, data_collection_id: str, **options: object
    ) -> AsyncIterator[pa.RecordBatch]:
        """The scanned rows batch by batch, decoded (in a worker thread) as the chunks arrive;
        one empty batch, of the table's schema, when no row matched."""
        request = self.scan_request(data_collection_id, **options)  # type: ignore[arg-type]
        async for batch in decoded_batches(self.scan_chunks(request)):
            yield batch

    async def describe(
        self, data_collection_id: str, version: int | None = None
    ) -> data_pb2.DescribeResponse:
        request = data_pb2.DescribeRequest(data_collection_id=data_collection_id)
        if version is not None:
            request.version = version
        response: data_pb2.DescribeResponse = await self.call(self.stub.Describe, request)
        return response

    async def history(self, data_collection_id: str) -> list[data_pb2.TableVersion]:
        request = data_pb2.HistoryRequest(data_collection_id=data_collection_id)
        return list((await self.call(self.stub.History, request)).versions)

    async def query(
        self,
        queries: Sequence[data_pb2.ComponentQuery],
        data_collection_id: str = "",
        filters: Mapping[str, common_pb2.Filter] | None = None,
    ) -> list[data_pb2.ComponentResult]:
        """Results of a batch of component queries, in order."""
        request = data_pb2.QueryRequest(
            data_collection_id=data_collection_id, queries=list(queries)
        )
        for dc, node in (filters or {}).items():
            request.filters[dc].CopyFrom(node)
        return list((await self.call(self.stub.Query, request)).results)

    async def optimize(self, data_collection_id: str) -> data_pb2.OptimizeResponse:
        request = data_pb2.OptimizeRequest(data_collection_id=data_collection_id)
        response: data_pb2.OptimizeResponse = await self.call(self.stub.Optimize, request)
        return response

    async def vacuum(self, data_collection_id: str, retention_hours: int) -> int:
        request = data_pb2.VacuumRequest(
            data_collection_id=data_collection_id, retention_hours=retention_hours
        )
        return int((await self.call(self.stub.Vacuum, request)).files_deleted)

    async def delete_project_tables(self, project_id: str) -> int:
        """Deletes every table of the project (owners); how many there were."""
        request = data_pb2.DeleteProjectTablesRequest(project_id=project_id)
        return int((await self.call(self.stub.DeleteProjectTables, request)).tables_deleted)

    async def restore(self, data_collection_id: str, version: int) -> int:
        request = data_pb2.RestoreRequest(data_collection_id=data_collection_id, version=version)
        return int((await self.call(self.stub.Restore, request)).version)


class _FlightCall:
    """Cancels one Flight scan whenever its caller gives up: do_get returns its reader only
    once data_svc has planned the scan (a sort can take seconds), and a scan cancelled before
    that has its reader cancelled as soon as it exists (it was read whole, for nobody)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._reader: flight.FlightStreamReader | None = None
        self._cancelled = False

    def started(self, reader: flight.FlightStreamReader) -> flight.FlightStreamReader:
        with self._guard:
            self._reader = reader
            if self._cancelled:
                reader.cancel()
        return reader

    def cancel(self) -> None:
        with self._guard:
            self._cancelled = True
            if self._reader is not None:
                self._reader.cancel()


def read_whole(reader: flight.FlightStreamReader) -> pa.Table:
    """The table a Flight stream carries, read batch by batch.

    Not `reader.read_all()`: a read_all that ends cancelled (its reader cancelled from another
    thread) makes pyarrow raise KeyboardInterrupt in the process's main thread, as if Ctrl-C
    had been pressed.
    """
    batches = []
    while True:
        try:
            batches.append(reader.read_chunk().data)
        except StopIteration:
            return pa.Table.from_batches(batches, schema=reader.schema)


class FlightUnreachable(Exception):
    """Nothing answered at a Flight address (not an error data_svc sent)."""


_flight_clients: dict[str, flight.FlightClient] = {}
_flight_guard = threading.Lock()
_flight_readers: list[ThreadPoolExecutor] = []
# Flight scans received at once, per process.
FLIGHT_READERS = 8


def flight_readers() -> ThreadPoolExecutor:
    """The process's threads that receive Flight scans, kept across event loops.

    A table is received into memory its receiving thread's allocator heap provides: in a
    thread that lives on, the pages a previous scan freed serve the next one; in a fresh
    thread (asyncio.to_thread's, under a new event loop) every page is faulted in again, which
    took longer than the transfer itself.
    """
    with _flight_guard:
        if not _flight_readers:
            _flight_readers.append(
                ThreadPoolExecutor(max_workers=FLIGHT_READERS, thread_name_prefix="flight-scan")
            )
        return _flight_readers[0]


def flight_client(target: str) -> flight.FlightClient:
    """The process's Flight client of `target` (host:port; created on first use)."""
    with _flight_guard:
        client = _flight_clients.get(target)
        if client is None:
            client = flight.connect(target if "://" in target else f"grpc://{target}")
            _flight_clients[target] = client
        return client


def flight_failure(exc: flight.FlightError) -> Exception:
    """A Flight scan's failure as the Scan RPC would have raised it: an AioRpcError with the
    code and message data_svc sent (data_svc.flight_scans), or FlightUnreachable."""
    try:
        sent = json.loads(exc.extra_info or b"{}")
        code = grpc.StatusCode[sent["code"]]
        message = str(sent["message"])
    except (ValueError, KeyError, TypeError):
        if isinstance(exc, flight.FlightUnavailableError):
            return FlightUnreachable(str(exc))
        code, message = FLIGHT_CODES.get(type(exc), grpc.StatusCode.UNKNOWN), str(exc)
    return aio.AioRpcError(code, aio.Metadata(), aio.Metadata(), message)


# Codes of Flight errors that carry none of data_svc's details (raised by Flight itself).
FLIGHT_CODES: dict[type[flight.FlightError], grpc.StatusCode] = {
    flight.FlightTimedOutError: grpc.StatusCode.DEADLINE_EXCEEDED,
    flight.FlightCancelledError: grpc.StatusCode.CANCELLED,
    flight.FlightUnauthenticatedError: grpc.StatusCode.UNAUTHENTICATED,
    flight.FlightUnauthorizedError: grpc.StatusCode.PERMISSION_DENIED,
    flight.FlightInternalError: grpc.StatusCode.INTERNAL,
}


def _table_of_call(call: Any) -> pa.Table:
    """The table a blocking Scan call streams; its failure raised as an asynchronous call's
    would be (AioRpcError, with its code and details), for callers handling one kind.

    Only the code and details are read: a call cancelled by its caller never gets its debug
    string or initial metadata, and waiting for them would hold this thread for good.
    """
    try:
        chunks = [pooled(chunk) for chunk in call]
    except grpc.RpcError:
        raise aio.AioRpcError(call.code(), aio.Metadata(), aio.Metadata(), call.details()) from None
    return table_from_chunks(chunks)


def _next_batch(reader: pa.ipc.RecordBatchStreamReader) -> pa.RecordBatch | None:
    try:
        return reader.read_next_batch()
    except StopIteration:
        return None


def _prepend(first: pa.RecordBatch, rest: Iterable[pa.RecordBatch]) -> Iterable[pa.RecordBatch]:
    yield first
    yield from rest


# Received chunks a batch decoder may be behind by: a consumer that stops taking batches
# stops the receiving too (the stream's flow control then holds the sender).
CHUNKS_AHEAD = 64


async def decoded_batches(chunks: AsyncIterator[memoryview]) -> AsyncIterator[pa.RecordBatch]:
    """The record batches of an IPC stream arriving in `chunks`, decoded in a worker thread
    as they arrive, at most CHUNKS_AHEAD chunks ahead of the consumer; one empty batch (of the
    stream's schema) for a stream of none. A failure of `chunks` (an RpcError) is raised as
    it is, not as the truncated stream it leaves."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Queue[memoryview | None] = asyncio.Queue(maxsize=CHUNKS_AHEAD)

    def received() -> Iterator[memoryview]:
        while (chunk := asyncio.run_coroutine_threadsafe(ready.get(), loop).result()) is not None:
            yield chunk

    async def feed() -> None:
        try:
            async for chunk in chunks:
                await ready.put(chunk)
        except asyncio.CancelledError:  # the consumer stopped: nobody waits for the end
            with contextlib.suppress(asyncio.QueueFull):
                ready.put_nowait(None)
            raise
        except BaseException:
            await ready.put(None)  # the decoder ends (the failure is raised below)
            raise
        await ready.put(None)

    feeder = asyncio.create_task(feed())
    try:
        reader = await asyncio.to_thread(batches_from_chunks, received())
        any_batch = False
        while (batch := await asyncio.to_thread(_next_batch, reader)) is not None:
            any_batch = True
            yield batch
        if not any_batch:
            yield pa.RecordBatch.from_pylist([], schema=reader.schema)
        await feeder
    except (pa.ArrowInvalid, OSError):
        failure = feeder.exception() if feeder.done() else None
        if failure is not None:
            raise failure from None
        raise
    finally:
        feeder.cancel()
