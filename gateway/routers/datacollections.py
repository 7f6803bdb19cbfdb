"""/api/v1/datacollections/{dc}: rows (Arrow, Parquet, CSV, JSON), queries, uploads, schema.

data_svc decides every access (through metadata_svc); rows stream through without being held.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import AsyncIterator
from enum import StrEnum
from typing import Annotated, Any

import grpc
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse
from grpc import aio

from depictio.clients.data import WRITE_MODES, ModeName, decoded_batches
from depictio.delimited_text import first_line_with, first_ragged_line, ragged_message
from depictio.errors import FailedPrecondition, InvalidArgument
from depictio.v1 import data_pb2
from gateway.backends import LabelledCalls
from gateway.data_backend import GatewayDataClient, data_as
from gateway.data_models import (
    QueryCreate,
    QueryResultsPublic,
    ResultPublic,
    SchemaPublic,
    VersionPublic,
    WrittenPublic,
)
from gateway.errors import ServiceCallError
from gateway.identity import CurrentUser, Services
from gateway.json_values import (
    TextValueError,
    csv_ready,
    from_text,
    json_default,
    json_text,
    needs_text,
)
from gateway.metadata_backend import ERRORS, Caller, require_access
from gateway.models import INT64_MAX

router = APIRouter(prefix="/api/v1/datacollections", tags=["data"], responses=ERRORS)

ARROW_STREAM = "application/vnd.apache.arrow.stream"
PARQUET = "application/vnd.apache.parquet"
UPLOAD_TYPES = {
    ARROW_STREAM: "arrow",
    PARQUET: "parquet",
    "application/x-parquet": "parquet",
    "text/csv": "csv",
}


class RowFormat(StrEnum):
    """Formats of the rows route."""

    ARROW = "arrow"
    PARQUET = "parquet"
    CSV = "csv"
    JSON = "json"


async def labelled(
    stream: AsyncIterator[memoryview], client: LabelledCalls
) -> AsyncIterator[memoryview]:
    """`stream` whose RPC failure is labelled like the unary calls' (service and address)."""
    try:
        async for chunk in stream:
            yield chunk
    except aio.AioRpcError as exc:
        raise ServiceCallError(client.service_label, client.target, exc) from exc


async def started(stream: AsyncIterator[memoryview]) -> AsyncIterator[memoryview]:
    """`stream` with its first item already fetched, so that a refusal is an HTTP error."""
    first = await anext(stream, None)

    async def rest() -> AsyncIterator[memoryview]:
        if first is not None:
            yield first
        async for chunk in stream:
            yield chunk

    return rest()


def csv_bytes(batch: pa.RecordBatch | pa.Table, header: bool) -> bytes:
    """A batch as CSV (with the header line when asked); bytes as base64 and nested values
    as JSON text."""
    sink = io.BytesIO()
    pa_csv.write_csv(csv_ready(batch), sink, pa_csv.WriteOptions(include_header=header))
    return sink.getvalue()


def json_row(row: dict[str, Any]) -> str:
    """One row as a JSON object."""
    try:
        return json.dumps(row, default=json_default, allow_nan=False)
    except ValueError:  # a NaN or an infinity
        return json_text(row)


def json_rows(batch: pa.RecordBatch, first: bool) -> bytes:
    """A batch's rows as members of a JSON array."""
    rows = [json_row(row) for row in batch.to_pylist()]
    if not rows:
        return b""
    return (("" if first else ",") + ",".join(rows)).encode()


async def encoded(chunks: AsyncIterator[memoryview], row_format: RowFormat) -> AsyncIterator[bytes]:
    """IPC chunks re-encoded batch by batch as CSV or JSON (decoding in a worker thread)."""
    first = True
    if row_format is RowFormat.JSON:
        yield b"["
    async for batch in decoded_batches(chunks):
        if row_format is RowFormat.CSV:
            yield csv_bytes(batch, header=first)  # the header alone for no rows
            first = False
        else:
            yield json_rows(batch, first)
            first = first and batch.num_rows == 0
    if row_format is RowFormat.JSON:
        yield b"]"


# Rows of a Parquet export gathered into one row group (bytes of Arrow data): the memory an
# export holds at a time.
ROW_GROUP_BYTES = 64 * 1024 * 1024


class _CopiedWrites:
    """A write-only file keeping copies of what is written to it, until taken."""

    closed = False

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        return len(self.parts[-1])

    def flush(self) -> None:
        """Nothing is buffered."""

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        parts, self.parts = self.parts, []
        return b"".join(parts)


async def parquet_encoded(chunks: AsyncIterator[memoryview]) -> AsyncIterator[bytes]:
    """IPC chunks re-encoded as one Parquet file, sent a row group at a time (of about
    ROW_GROUP_BYTES): the whole table was held, three times over, before the first byte."""
    sink = _CopiedWrites()
    writer: pq.ParquetWriter | None = None
    group: list[pa.RecordBatch] = []
    group_bytes = 0
    async for batch in decoded_batches(chunks):
        if writer is None:
            writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), batch.schema)
        group.append(batch)
        group_bytes += batch.nbytes
        if group_bytes >= ROW_GROUP_BYTES:
            await asyncio.to_thread(writer.write_table, pa.Table.from_batches(group))
            group, group_bytes = [], 0
            yield sink.take()
    if writer is not None:
        if group:
            await asyncio.to_thread(writer.write_table, pa.Table.from_batches(group))
        await asyncio.to_thread(writer.close)
    yield sink.take()


@router.get(
    "/{dc}/rows",
    response_class=Response,
    responses={
        200: {
            "description": "The rows, streamed.",
            "content": {ARROW_STREAM: {}, PARQUET: {}, "text/csv": {}, "application/json": {}},
        }
    },
)
async def read_rows(
    dc: str,
    caller: Caller,
    services: Services,
    format: Annotated[RowFormat, Query(description="arrow, parquet, csv or json.")] = (
        RowFormat.ARROW
    ),
    columns: Annotated[str, Query(description="Comma-separated columns; empty: all.")] = "",
    column: Annotated[
        list[str] | None,
        Query(description="One column, named as it is (commas, spaces); repeatable."),
    ] = None,
    limit: Annotated[int, Query(ge=0, le=INT64_MAX, description="0: all rows.")] = 0,
    offset: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
    version: Annotated[int | None, Query(ge=0, le=INT64_MAX, description="Time travel.")] = None,
) -> Response:
    """A data collection's rows as an Arrow IPC stream, Parquet, CSV or a JSON array."""
    client = data_as(services, caller)
    names = [name.strip() for name in columns.split(",") if name.strip()] + (column or [])
    request = client.scan_request(dc, columns=names, limit=limit, offset=offset, version=version)
    idle = services.settings.stream_idle_seconds
    chunks = await started(labelled(client.scan_chunks(request, idle), client))
    if format is RowFormat.ARROW:
        return StreamingResponse(chunks, media_type=ARROW_STREAM)
    if format is RowFormat.PARQUET:
        return StreamingResponse(parquet_encoded(chunks), media_type=PARQUET)
    media_type = "text/csv" if format is RowFormat.CSV else "application/json"
    return StreamingResponse(encoded(chunks, format), media_type=media_type)


@router.post("/{dc}/query", response_model=QueryResultsPublic)
async def query(
    dc: str, body: QueryCreate, caller: Caller, services: Services
) -> QueryResultsPublic:
    """Answers a batch of component queries (see depictio.v1.QueryRequest) in one request."""
    request = body.to_pb(dc)
    client = data_as(services, caller)
    response: data_pb2.QueryResponse = await client.call(client.stub.Query, request)
    return QueryResultsPublic(results=[ResultPublic.from_pb(r) for r in response.results])


@router.post(
    "/{dc}/upload",
    response_model=WrittenPublic,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "An Arrow IPC stream, a Parquet file or CSV (by Content-Type).",
            "content": {ARROW_STREAM: {}, PARQUET: {}, "text/csv": {}},
        }
    },
)
async def upload(
    dc: str,
    request: Request,
    user: CurrentUser,
    services: Services,
    run_id: Annotated[
        str, Query(max_length=200, description="Empty: the rows carry depictio_run_id.")
    ] = "",
    mode: Annotated[
        ModeName, Query(description="append, overwrite, replace_run or replace_runs.")
    ] = "append",
    file: Annotated[str, Query(max_length=500, description="Source file name.")] = "",
    run_ids: Annotated[
        list[str] | None,
        Query(
            description="Without run_id: every run the rows may name; with replace_runs, the "
            "runs whose rows are replaced."
        ),
    ] = None,
) -> WrittenPublic:
    """Writes the body into the data collection's table in one commit (editors)."""
    # Before the body is looked at: a caller who may not write learns nothing from it.
    await require_access(services, user, "write", dc=dc)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    kind = UPLOAD_TYPES.get(media_type)
    if kind is None:
        expected = ", ".join(sorted(UPLOAD_TYPES))
        raise InvalidArgument(f"content-type: expected one of {expected}, got {media_type!r}")
    refuse_content_coding(request.headers.get("content-encoding", ""))
    client = data_as(services, user)
    header = data_pb2.WriteHeader(
        data_collection_id=dc,
        run_id=run_id,
        mode=WRITE_MODES[mode],
        file=file,
        run_ids=run_ids or [],
    )
    if kind == "arrow":
        # Streamed through as it arrives: a body cut short cancels the write, committing nothing.
        written = await _labelled_write(client, client.write_ipc_chunks(header, request.stream()))
    else:
        body = await request.body()
        # An overwrite replaces the schema too: the table's types do not apply.
        types = await stored_types(client, dc) if kind == "csv" and mode != "overwrite" else {}
        table = await asyncio.to_thread(_read_table, body, kind, file, types)
        written = await _labelled_write(
            client,
            client.write_table(
                dc,
                table,
                run_id=run_id,
                mode=mode,
                file=file,
                run_ids=run_ids or [],
            ),
        )
    return WrittenPublic(version=written.version, rows=written.rows, bytes=written.bytes)


def refuse_content_coding(header: str) -> None:
    """Refuses (415) a body sent with a content coding (gzip…): it is read as it comes, so a
    coded body would be read as the table itself."""
    codings = [coding.strip().lower() for coding in header.split(",") if coding.strip()]
    coded = [coding for coding in codings if coding != "identity"]
    if coded:
        raise HTTPException(
            status_code=415,
            detail=f"content-encoding {', '.join(coded)}: not supported; send the body as it "
            "is (identity)",
            headers={"Accept-Encoding": "identity"},
        )


async def _labelled_write(client: LabelledCalls, call: Any) -> data_pb2.WriteTableResponse:
    try:
        response: data_pb2.WriteTableResponse = await call
    except aio.AioRpcError as exc:
        error = ServiceCallError(client.service_label, client.target, exc)
        error.details = WRITE_HEADER_FIELD.sub("", error.details)
        raise error from exc
    return response


# data_svc names the fields of the write's header (`header.run_id`, `header.run_ids[0]`); the
# upload's query parameters carry the same names without the prefix.
WRITE_HEADER_FIELD = re.compile(r"\bheader\.(?=(?:run_ids?|file|mode)\b)")


async def stored_types(client: GatewayDataClient, dc: str) -> dict[str, pa.DataType]:
    """The types of the table's columns (none before its first write)."""
    try:
        table = await client.scan(dc, limit=1)
    except aio.AioRpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            return {}
        raise ServiceCallError(client.service_label, client.target, exc) from exc
    return {column.name: column.type for column in table.schema}


def _read_table(body: bytes, kind: str, file: str, types: dict[str, pa.DataType]) -> pa.Table:
    """The table a Parquet or CSV body holds; unreadable bodies are refused naming the file.

    A CSV's columns that the table has are read as the table types them (a column of digits
    stays text in a text column); the others are inferred (`_read_csv`)."""
    where = file or "body"
    try:
        if kind == "parquet":
            return pq.read_table(pa.BufferReader(body))
        return _read_csv(body, types, where)
    except pa.ArrowMemoryError:
        raise
    except (pa.ArrowException, OSError) as exc:
        # Every pyarrow error reading a body (not only ArrowInvalid: ArrowNotImplementedError,
        # ArrowTypeError…) is the body's fault.
        named = _csv_error(body, where, str(exc)) if kind == "csv" else None
        if named is not None:
            raise named from exc
        raise InvalidArgument(f"{where}: not a readable {kind} file ({exc})") from exc


# pyarrow's messages for a CSV row (a data row, the header) longer than its reading block.
LONGER_THAN_A_BLOCK = (
    "straddles two block boundaries",
    "Empty CSV file or block: cannot infer number of columns",
)


def _read_csv(body: bytes, types: dict[str, pa.DataType], where: str = "body") -> pa.Table:
    """A CSV body as a table. Only an empty field is a null: "NA", "null", "N/A"… are text
    (sample and gene names), and a quoted empty field is the empty text (as /rows writes it).
    A row longer than pyarrow's block (1 MiB) is read in one block of the whole body.

    Columns the table holds as bytes or nested values are read as the text /rows writes for
    them (base64, JSON) and turned back into their type; a value that is not is refused
    (409) naming its line and column."""
    as_text = {name: dtype for name, dtype in types.items() if needs_text(dtype)}
    options = pa_csv.ConvertOptions(
        column_types={**types, **dict.fromkeys(as_text, pa.string())},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    try:
        table = pa_csv.read_csv(pa.BufferReader(body), convert_options=options)
    except pa.ArrowInvalid as exc:
        # A row (or the header) longer than a block: read again, in one block.
        if not any(said in str(exc) for said in LONGER_THAN_A_BLOCK):
            raise
        whole = pa_csv.ReadOptions(block_size=len(body) + 1)
        table = pa_csv.read_csv(pa.BufferReader(body), read_options=whole, convert_options=options)
    try:
        names = table.column_names
    except UnicodeDecodeError as exc:
        raise InvalidArgument(f"{where}, line 1: the header is not UTF-8 text") from exc
    for index, name in enumerate(names):
        if name in as_text:
            typed = _from_csv_text(body, where, name, table.column(index), as_text[name])
            table = table.set_column(index, pa.field(name, as_text[name]), typed)
    return table


def _from_csv_text(
    body: bytes, where: str, name: str, column: pa.ChunkedArray, dtype: pa.DataType
) -> pa.Array:
    """A CSV column of base64 or JSON text as `dtype`, the type the table gives it."""
    try:
        return from_text(column, dtype)
    except TextValueError as exc:
        detail = f": {exc.detail}" if exc.detail else ""
        raise _conflict(body, where, name, exc.text, f"{exc.problem} {dtype}", detail) from exc


# pyarrow's messages for a CSV value of the wrong type (the column's position, the type, the
# value), for a value that is not UTF-8 text (the column's position), for a row of the wrong
# number of fields.
UNPARSABLE_CSV = re.compile(
    r"In CSV column #(\d+): CSV conversion error to (.+?): invalid value '(.*)'"
)
NOT_UTF8_CSV = re.compile(r"In CSV column #(\d+): CSV conversion error to .*invalid UTF8 data")
RAGGED_CSV = re.compile(r"CSV parse error: Expected \d+ columns, got \d+")


def _csv_error(body: bytes, where: str, message: str) -> Exception | None:
    """The refusal of a CSV body that pyarrow refused with `message`, naming the line (and
    the column) at fault when pyarrow does not; None when it is none of those."""
    unparsable = UNPARSABLE_CSV.search(message)
    if unparsable is not None:
        position, dtype, value = unparsable.groups()
        column = _header_name(body, int(position))
        return _conflict(body, where, column, value, f"does not parse as {dtype}")
    not_utf8 = NOT_UTF8_CSV.search(message)
    if not_utf8 is not None:
        position = int(not_utf8.group(1))
        line = _first_line_not_utf8(body, position)
        at = f", line {line}" if line is not None else ""
        column = _header_name(body, position)
        return InvalidArgument(f"{where}{at}, column {column!r}: the value is not UTF-8 text")
    if RAGGED_CSV.search(message):
        lines = io.StringIO(body.decode("utf-8", errors="replace"), newline="")
        ragged = first_ragged_line(lines, ",")
        if ragged is not None:
            return InvalidArgument(ragged_message(where, ragged))
    return None


def _csv_rows(body: bytes, errors: str = "replace") -> Any:
    """A csv.reader of the body (its undecodable bytes replaced, or as lone surrogates)."""
    return csv.reader(io.StringIO(body.decode("utf-8", errors=errors), newline=""))


def _header_name(body: bytes, position: int) -> str:
    """The name the CSV header gives the column at `position` (from 0)."""
    header: list[str]
    try:
        header = next(_csv_rows(body), [])
    except csv.Error:
        header = []
    return header[position] if position < len(header) else f"#{position}"


def _first_line_not_utf8(body: bytes, position: int) -> int | None:
    """The line of the first row whose field at `position` is not UTF-8 text."""
    rows = _csv_rows(body, errors="surrogateescape")
    try:
        next(rows, None)
        for row in rows:
            if len(row) > position and not _is_utf8(row[position]):
                return rows.line_num
    except csv.Error:
        return None
    return None


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _conflict(
    body: bytes, where: str, column: str, value: str, problem: str, detail: str = ""
) -> Exception:
    """The refusal of a CSV value that is not of its column's type in the table (`problem`:
    "does not parse as double"…), naming the line and the column."""
    text = io.StringIO(body.decode("utf-8", errors="replace"), newline="")
    line = first_line_with(text, ",", column, value)
    at = f", line {line}" if line is not None else ""
    shown = value if len(value) <= 200 else value[:200] + "…"
    return FailedPrecondition(
        f"{where}{at}, column {column!r}: {shown!r} {problem}, the type of the table's "
        f"column{detail}"
    )


@router.get("/{dc}/schema", response_model=SchemaPublic)
async def schema(
    dc: str,
    caller: Caller,
    services: Services,
    version: Annotated[int | None, Query(ge=0, le=INT64_MAX)] = None,
) -> SchemaPublic:
    """The table's columns with their precomputed statistics."""
    return SchemaPublic.from_pb(await data_as(services, caller).describe(dc, version))


@router.get("/{dc}/versions", response_model=list[VersionPublic])
async def versions(dc: str, caller: Caller, services: Services) -> list[VersionPublic]:
    """The table's versions, newest first."""
    return [VersionPublic.from_pb(v) for v in await data_as(services, caller).history(dc)]
