"""The DataService servicer: authorization first, then the Delta work in worker threads."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import polars as pl
from google.protobuf.timestamp_pb2 import Timestamp
from grpc import aio

from data_svc.access import AccessGuard, relayed_error
from data_svc.ingest import ChunkFeed, Mode, WriteSpec, open_stream
from data_svc.links import LinkSpec, project_links
from data_svc.querying import QueryRunner
from data_svc.scanning import prefetched, scan_chunks, scan_frame
from data_svc.storage import TableRef
from data_svc.tables import DeltaTables, WriteResult, release_unused_memory
from depictio.clients.data import ARROW_IPC_FIELD
from depictio.clients.metadata import ActionName, MetadataClient
from depictio.errors import InvalidArgument, PermissionDenied
from depictio.rpc.context import current_identity, require_identity
from depictio.rpc.raw_messages import framed_field_view
from depictio.tokens import Identity
from depictio.v1 import data_pb2, data_pb2_grpc

log = logging.getLogger("data_svc")

MODES = {
    data_pb2.WRITE_MODE_APPEND: Mode.APPEND,
    data_pb2.WRITE_MODE_OVERWRITE: Mode.OVERWRITE,
    data_pb2.WRITE_MODE_REPLACE_RUN: Mode.REPLACE_RUN,
    data_pb2.WRITE_MODE_REPLACE_RUNS: Mode.REPLACE_RUNS,
}


ReceivedWrite = data_pb2.WriteTableRequest | memoryview


def write_table_request(data: bytes) -> ReceivedWrite:
    """A received WriteTableRequest: an IPC chunk alone (as clients frame it) as a view of the
    received bytes, anything else parsed (a message that does not decode is refused by the
    RequestDecodingInterceptor)."""
    chunk = framed_field_view(data, ARROW_IPC_FIELD)
    if chunk is not None:
        return chunk
    return data_pb2.WriteTableRequest.FromString(data)


def ipc_chunk(message: ReceivedWrite) -> bytes | memoryview:
    """The IPC chunk a WriteTableRequest after the first carries."""
    if isinstance(message, memoryview):
        return message
    if message.WhichOneof("part") != "arrow_ipc":
        raise InvalidArgument("only the first WriteTableRequest may carry a header")
    return message.arrow_ipc


# Largest Arrow stream one WriteTable accepts.
MAX_WRITE_BYTES = 4 * 1024**3


class DataServicer(data_pb2_grpc.DataServiceServicer):
    """Implements DataService over a DeltaTables store."""

    def __init__(
        self,
        tables: DeltaTables,
        guard: AccessGuard,
        queries: QueryRunner,
        metadata_addr: str,
        timeout: float,
    ) -> None:
        self.tables = tables
        self.guard = guard
        self.queries = queries
        self.metadata_addr = metadata_addr
        self.timeout = timeout
        # Each WriteTable writes in a thread of its own while its stream arrives.
        self.writers = ThreadPoolExecutor(max_workers=32, thread_name_prefix="write")
        # Scans produce their messages here, apart from the loop's default threads that
        # Describe, History and the start of every call use (see scanning.prefetched).
        self.scanners = ThreadPoolExecutor(max_workers=32, thread_name_prefix="scan")

    def metadata(self, identity: Identity) -> MetadataClient:
        """A metadata_svc client acting as the caller."""
        return MetadataClient(self.metadata_addr, token=identity.token, timeout=self.timeout)

    async def authorize(self, dc: str, action: ActionName) -> tuple[Identity, TableRef]:
        """The caller and the table, once CheckAccess allowed `action` on the data collection."""
        if not dc:
            raise InvalidArgument("data_collection_id: required")
        identity = require_identity() if action != "read" else current_identity()
        grant = await self.guard.require(identity, dc, action)
        return identity, TableRef(grant.project_id, dc)

    async def record_schema(self, identity: Identity, ref: TableRef, version: int) -> None:
        """Tells metadata_svc the table's columns at `version`, as the writer."""
        columns = await asyncio.to_thread(self.tables.column_types, ref, version)
        try:
            await self.metadata(identity).record_table_schema(
                ref.data_collection_id, columns, version
            )
        except aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.UNIMPLEMENTED:
                log.error(
                    "metadata_svc does not implement RecordTableSchema",
                    extra={"data_collection_id": ref.data_collection_id, "version": version},
                )
                return
            raise relayed_error(
                exc,
                "RecordTableSchema",
                f"the table was written (version {version}) but metadata_svc did not record "
                "its schema: ",
            ) from exc

    async def WriteTable(
        self,
        request_iterator: AsyncIterator[ReceivedWrite],
        context: Any,
    ) -> data_pb2.WriteTableResponse:
        # Messages come through write_table_request: IPC chunks arrive as memoryviews.
        first = await anext(aiter(request_iterator), None)
        if not isinstance(first, data_pb2.WriteTableRequest) or not first.HasField("header"):
            raise InvalidArgument("the first WriteTableRequest must carry the header")
        header = first.header
        identity, ref = await self.authorize(header.data_collection_id, "write")
        if header.mode not in MODES:
            raise InvalidArgument(
                "header.mode: expected APPEND, OVERWRITE, REPLACE_RUN or REPLACE_RUNS"
            )
        spec = WriteSpec(
            run_id=header.run_id,
            mode=MODES[header.mode],
            file=header.file,
            run_ids=tuple(header.run_ids),
        )
        # Written while it arrives, committed only at its end: a broken, refused or cancelled
        # stream commits nothing.
        where = f"{spec.file or 'the stream'} (arrow_ipc)"
        feed = ChunkFeed()

        def write() -> WriteResult:
            try:
                return self.tables.write_batches(ref, spec, open_stream(feed, where), where)
            finally:
                release_unused_memory()

        writing = asyncio.get_running_loop().run_in_executor(self.writers, write)
        received = 0
        try:
            async for message in request_iterator:
                chunk = ipc_chunk(message)
                received += len(chunk)
                if received > MAX_WRITE_BYTES:
                    raise InvalidArgument(f"the stream exceeds {MAX_WRITE_BYTES} bytes")
                if writing.done():
                    break  # refused already: its error is raised below
                feed.put(chunk)
        except BaseException:
            feed.abort()
            with contextlib.suppress(Exception):
                await writing
            raise
        feed.close()
        result = await writing
        await self.record_schema(identity, ref, result.version)
        return data_pb2.WriteTableResponse(version=result.version, rows=result.rows, bytes=received)

    # Yields serialized ScanResponse messages: the handler is registered with a serializer
    # that passes them through (depictio.rpc.raw_messages).
    async def Scan(  # type: ignore[override]
        self, request: data_pb2.ScanRequest, context: Any
    ) -> AsyncIterator[bytes]:
        _, ref = await self.authorize(request.data_collection_id, "read")
        groups = await asyncio.to_thread(lambda: scan_chunks(self.scan_plan(ref, request)))
        async for group in prefetched(groups, self.scanners):
            for message in group:
                yield message

    def scan_plan(self, ref: TableRef, request: data_pb2.ScanRequest) -> pl.LazyFrame:
        """The lazy plan of a Scan request, on the table version it names (the latest when
        none)."""
        version = request.version if request.HasField("version") else None
        table = self.tables.open(ref, version)
        return scan_frame(self.tables.frame(table), request)

    async def DeleteProjectTables(
        self, request: data_pb2.DeleteProjectTablesRequest, context: Any
    ) -> data_pb2.DeleteProjectTablesResponse:
        if not request.project_id:
            raise InvalidArgument("project_id: required")
        identity = require_identity()
        try:
            decision = await self.metadata(identity).check_access(
                "manage", project_id=request.project_id
            )
        except aio.AioRpcError as exc:
            raise relayed_error(exc, "CheckAccess") from exc
        if not decision.allowed:
            raise PermissionDenied(decision.reason or "only the project's owners delete its tables")
        deleted = await asyncio.to_thread(self.tables.delete_project, request.project_id)
        log.info(
            "project tables deleted",
            extra={"project_id": request.project_id, "tables": deleted, "user": identity.user_id},
        )
        return data_pb2.DeleteProjectTablesResponse(tables_deleted=deleted)

    async def Describe(
        self, request: data_pb2.DescribeRequest, context: Any
    ) -> data_pb2.DescribeResponse:
        _, ref = await self.authorize(request.data_collection_id, "read")
        version = request.version if request.HasField("version") else None
        return await asyncio.to_thread(self.tables.describe, ref, version)

    async def History(
        self, request: data_pb2.HistoryRequest, context: Any
    ) -> data_pb2.HistoryResponse:
        _, ref = await self.authorize(request.data_collection_id, "read")
        versions = await asyncio.to_thread(self.tables.history, ref)
        response = data_pb2.HistoryResponse()
        for entry in versions:
            stamp = Timestamp()
            stamp.FromMilliseconds(entry.timestamp_ms)
            response.versions.add(
                version=entry.version,
                time=stamp,
                operation=entry.operation,
                rows=entry.rows,
                run_ids=entry.run_ids,
                mode=entry.mode,
            )
        return response

    async def Query(self, request: data_pb2.QueryRequest, context: Any) -> data_pb2.QueryResponse:
        identity = current_identity()
        involved = {q.data_collection_id or request.data_collection_id for q in request.queries}
        involved |= set(request.filters)
        involved.discard("")
        if not request.queries:
            raise InvalidArgument("queries: at least one query is needed")
        if "" in request.filters:
            raise InvalidArgument("filters: each filter is keyed by a data collection id, not ''")
        # Every table read (queried or filtering through a link) is authorized before the cache.
        grants = await asyncio.gather(
            *(self.guard.require(identity, dc, "read") for dc in sorted(involved))
        )
        projects = {
            dc: grant.project_id for dc, grant in zip(sorted(involved), grants, strict=True)
        }

        async def links_of(project_id: str) -> list[LinkSpec]:
            try:
                project = await self.metadata(identity).get_project(project_id)
            except aio.AioRpcError as exc:
                raise relayed_error(exc, "GetProject", "cannot read the project's links: ") from exc
            links = project_links(project)
            # A filter two links away passes through a table nobody queried or filtered: it is
            # read (its linking column's values), so it is authorized like the others.
            between = sorted(
                {dc for link in links for dc in (link.source, link.target)} - {*projects}
            )
            granted = await asyncio.gather(
                *(self.guard.require(identity, dc, "read") for dc in between)
            )
            projects.update(
                {dc: grant.project_id for dc, grant in zip(between, granted, strict=True)}
            )
            return links

        return await self.queries.answer(request, projects, links_of)

    async def Optimize(
        self, request: data_pb2.OptimizeRequest, context: Any
    ) -> data_pb2.OptimizeResponse:
        _, ref = await self.authorize(request.data_collection_id, "manage")
        removed, added = await asyncio.to_thread(self.tables.optimize, ref)
        return data_pb2.OptimizeResponse(files_removed=removed, files_added=added)

    async def Vacuum(
        self, request: data_pb2.VacuumRequest, context: Any
    ) -> data_pb2.VacuumResponse:
        _, ref = await self.authorize(request.data_collection_id, "manage")
        deleted = await asyncio.to_thread(self.tables.vacuum, ref, request.retention_hours)
        return data_pb2.VacuumResponse(files_deleted=deleted)

    async def Restore(
        self, request: data_pb2.RestoreRequest, context: Any
    ) -> data_pb2.RestoreResponse:
        identity, ref = await self.authorize(request.data_collection_id, "manage")
        version = await asyncio.to_thread(self.tables.restore, ref, request.version)
        await self.record_schema(identity, ref, version)
        return data_pb2.RestoreResponse(version=version)
