"""`depictio data process`: changed runs' files checked, streamed to the gateway, committed
together, and only then registered.

"Nothing changes on bad input" with streaming: first every file's head is read and the
columns aligned and checked (across files and against the table on the server); then every
data collection's upload streams while its files are read in full, one file ahead of the
upload. No upload body is finished, so no commit made, until every file of every data
collection has been read: a bad row anywhere aborts every upload and the server commits
nothing. Each data collection is one commit (`replace_runs`: the rows of exactly the
affected runs are swapped); runs and files are registered after every commit succeeded, so a
failure in between makes the next run repeat the same idempotent replacements.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pyarrow as pa

from depictio.arrow_types import (
    UnstorableColumn,
    check_column_names,
    parse_type_name,
    storable_table,
    storable_type,
    widens_to,
)
from depictio.cli.failures import CliFailure
from depictio.cli.gateway_api import GatewayApi
from depictio.cli.local_scan import FileChange, FileStatus, ScannedFile, ScannedRun
from depictio.cli.project_files import DataCollectionPlan, ProjectPlan
from depictio.cli.reporting import ProgressBars
from depictio.cli.table_reading import (
    FILE_COLUMN,
    RUN_ID_COLUMN,
    aligned_schema,
    conformed_frame,
    first_unparsable,
    polars_type,
    prepared_frame,
    read_source,
    settled_schema,
    valueless_as_null,
)

# Rows read from each file to align the columns before anything is sent.
HEAD_ROWS = 1000
# Rows per Arrow record batch on the wire.
BATCH_ROWS = 512 * 1024


@dataclass
class DataCollectionWork:
    """One data collection's commit: the runs it replaces and the files it reads."""

    dc: DataCollectionPlan
    runs: list[str]
    files: list[ScannedFile]
    schema: dict[str, pl.DataType] = field(default_factory=dict)
    file_columns: dict[str, list[str]] = field(default_factory=dict)
    rows: int = 0
    written: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    # Written anew from all its files (its reading settings changed), whatever --overwrite.
    rewrite: bool = False


def plan_work(
    plan: ProjectPlan,
    runs: list[ScannedRun],
    changes: list[FileChange],
    overwrite: bool,
    reread: Collection[str] = (),
) -> list[DataCollectionWork]:
    """The commits to make: per data collection, the runs with an added, changed or removed
    file (every run with `--overwrite`, or when the data collection is in `reread`), and all
    current files of those runs."""
    work = []
    for dc in plan.data_collections():
        if dc.source != "native":
            continue
        touched = {
            change.run_tag
            for change in changes
            if change.data_collection.label == dc.label
            and change.status is not FileStatus.UNCHANGED
        }
        current = [f for run in runs for f in run.files if f.data_collection.label == dc.label]
        rewrite = dc.label in reread
        if overwrite or rewrite:
            touched |= {file.run_tag for file in current}
        if not touched:
            continue
        files = [file for file in current if file.run_tag in touched]
        work.append(DataCollectionWork(dc, sorted(touched), files, rewrite=rewrite))
    return work


def align_work(work: list[DataCollectionWork]) -> None:
    """Reads the head of every file and fixes each data collection's columns and types (a
    column no head gives a value stays Null until check_against_server types it)."""
    for item in work:
        heads = [
            (file, valueless_as_null(file, read_source(file, HEAD_ROWS))) for file in item.files
        ]
        for file, head in heads:
            check_storable_columns(file, head)
        item.schema = aligned_schema([(file, prepared_frame(file, head)) for file, head in heads])
        item.file_columns = {
            str(file.path): [name for name in head.columns if name in item.schema]
            for file, head in heads
        }


def check_against_server(api: GatewayApi, work: list[DataCollectionWork], overwrite: bool) -> None:
    """Types the columns no file gives a value as the existing table does (else as text), and
    refuses, before any commit, a column whose type the existing table cannot take."""
    for item in work:
        schema = api.schema(item.dc.id) if item.schema and not (overwrite or item.rewrite) else None
        stored = {column["name"]: column["type"] for column in (schema or {}).get("columns", [])}
        item.schema = settled_schema(item.schema, polars_types(stored))
        if schema is None:
            continue
        for column in pl.DataFrame(schema=item.schema).to_arrow().schema:
            existing = stored.get(column.name)
            incoming = storable_type(column.type)
            if existing is None or existing == str(incoming):
                continue
            existing_type = parse_type_name(existing)
            if existing_type is not None and widens_to(incoming, existing_type):
                continue
            unparsable = (
                first_unparsable(item.files, column.name, existing_type)
                if existing_type is not None
                else None
            )
            if unparsable is not None:
                path, line, value = unparsable
                at = f", line {line}" if line is not None else ""
                raise CliFailure(
                    f"{path}{at}, column {column.name!r} of {item.dc.label!r}: {value!r} does "
                    f"not parse as {existing}, the column's type in the table"
                    + widening_hint(existing_type, is_number(value))
                )
            sources = sorted({str(file.path) for file in item.files})
            raise CliFailure(
                f"type conflict in column {column.name!r} of {item.dc.label!r}: the table has "
                f"{existing}, the files {', '.join(sources)} give {incoming}"
                + widening_hint(existing_type, pa.types.is_floating(incoming))
            )


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def widening_hint(existing: pa.DataType | None, incoming_is_float: bool) -> str:
    """What to do when floats come for a table's integer column: a table keeps its types, but
    `--overwrite` writes it anew from every file, with the types they give together."""
    if existing is not None and pa.types.is_integer(existing) and incoming_is_float:
        return (
            "; run again with --overwrite to rewrite the table from all its files "
            "(the column then holds floats)"
        )
    return ""


class UploadsAborted(Exception):
    """Another data collection's files failed: this upload stops without finishing."""


@dataclass
class StreamState:
    """What the uploads of one `process` share: the reading progress and the first failure."""

    pending: int
    bars: ProgressBars
    read_task: Any
    lock: threading.Lock = field(default_factory=threading.Lock)
    all_read: threading.Event = field(default_factory=threading.Event)
    failure: BaseException | None = None
    files_read: int = 0
    rows_read: int = 0

    def fail(self, exc: BaseException) -> None:
        with self.lock:
            if self.failure is None:
                self.failure = exc
        self.all_read.set()

    def data_collection_read(self) -> None:
        with self.lock:
            self.pending -= 1
            if self.pending == 0:
                self.all_read.set()

    def file_read(self, file: ScannedFile, rows: int) -> None:
        with self.lock:
            self.files_read += 1
            self.rows_read += rows
            detail = f"{self.files_read} files, {self.rows_read:,} rows"
        self.bars.advance(self.read_task, file.size, detail)


def polars_types(stored: dict[str, str]) -> dict[str, pl.DataType]:
    """The polars types of a table's columns named as Describe names them (those polars
    cannot hold are left out)."""
    arrow_types = {name: parse_type_name(type_name) for name, type_name in stored.items()}
    return {name: polars_type(t) for name, t in arrow_types.items() if t is not None}


def read_for_upload(item: DataCollectionWork, file: ScannedFile) -> pa.Table:
    """One file read in full with its data collection's columns, as Arrow, checked as
    data_svc checks what it stores: a value it would refuse fails the whole command here,
    before any table commits (a refusal from the server comes only once every upload ended,
    when the other tables may have committed)."""
    types = {name: item.schema[name] for name in item.file_columns[str(file.path)]}
    frame = conformed_frame(prepared_frame(file, read_source(file, schema=types)), item.schema)
    try:
        return storable_table(frame.to_arrow(), str(file.path))
    except UnstorableColumn as exc:
        raise CliFailure(str(exc)) from exc


def check_storable_columns(file: ScannedFile, head: pl.DataFrame) -> None:
    """CliFailure for a file whose columns no table holds, found in its first rows: an unnamed
    column, a name with a NUL character, integers wider than 64 bits (polars reads them, Arrow
    cannot carry them)."""
    where = str(file.path)
    try:
        check_column_names(head.columns, where)
    except UnstorableColumn as exc:
        raise CliFailure(str(exc)) from exc
    wide = [name for name, dtype in head.schema.items() if dtype in WIDER_THAN_64_BITS]
    if wide:
        raise CliFailure(
            f"column {wide[0]!r} of {where}: integers wider than 64 bits cannot be stored "
            "(a value has more than 19 digits); give them as text or as floats"
        )


# polars types no Arrow (and so no Delta) integer holds.
WIDER_THAN_64_BITS = (pl.Int128, pl.UInt128)


class DrainedSink(io.RawIOBase):
    """A writable stream whose written bytes are taken out as they come (for IPC chunks).

    Arrow hands a batch's column data over as `pyarrow.Buffer`s: they are kept by reference,
    not copied. Its small writes (message headers, padding) are copied and gathered.
    """

    def __init__(self) -> None:
        self.parts: list[memoryview] = []
        self.small = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if isinstance(data, pa.Buffer):
            self._gather_small()
            self.parts.append(memoryview(data).cast("B"))
        else:
            self.small += data
        return len(data)

    def _gather_small(self) -> None:
        if self.small:
            self.parts.append(memoryview(bytes(self.small)))
            self.small.clear()

    def drain(self) -> list[memoryview]:
        """What was written since the last drain, in order."""
        self._gather_small()
        parts, self.parts = self.parts, []
        return parts


EMPTY_SCHEMA = pa.schema([(RUN_ID_COLUMN, pa.string()), (FILE_COLUMN, pa.string())])


def wire_type(dtype: pa.DataType) -> pa.DataType:
    """`dtype` with large text or binary (also a dictionary's values) as data_svc stores it,
    with 32-bit offsets."""
    if pa.types.is_dictionary(dtype):
        return pa.dictionary(dtype.index_type, wire_type(dtype.value_type), dtype.ordered)
    if pa.types.is_large_string(dtype) or pa.types.is_large_binary(dtype):
        return storable_type(dtype)
    return dtype


def wire_schema(schema: pa.Schema) -> pa.Schema:
    """`schema` with the types data_svc stores: 4 bytes less per text value to send, and
    nothing for data_svc to convert (a converted column's received message stays alive beside
    the converted copy until the write ends: the large offsets are dead weight)."""
    return pa.schema([field.with_type(wire_type(field.type)) for field in schema])


def wire_batches(batch: pa.RecordBatch, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """`batch` cast to the wire `schema` (its characters are shared, not copied), in halves
    while a column holds more text than 32-bit offsets reach."""
    try:
        yield batch.cast(schema)
    except pa.ArrowInvalid:
        if batch.num_rows < 2:
            raise
        half = batch.num_rows // 2
        yield from wire_batches(batch.slice(0, half), schema)
        yield from wire_batches(batch.slice(half), schema)


def upload_body(
    item: DataCollectionWork, state: StreamState, upload_task: Any
) -> Iterator[memoryview]:
    """The data collection's rows as one Arrow IPC stream, read a file ahead of the upload;
    its end is held back until every data collection's files were read without error."""
    sink = DrainedSink()
    writer: pa.ipc.RecordBatchStreamWriter | None = None
    schema = EMPTY_SCHEMA
    with ThreadPoolExecutor(max_workers=1) as reader:
        upcoming = reader.submit(read_for_upload, item, item.files[0]) if item.files else None
        for index, file in enumerate(item.files):
            assert upcoming is not None
            table = upcoming.result()
            if index + 1 < len(item.files):
                upcoming = reader.submit(read_for_upload, item, item.files[index + 1])
            state.file_read(file, table.num_rows)
            item.rows += table.num_rows
            if writer is None:
                schema = wire_schema(table.schema)
                writer = pa.ipc.new_stream(pa.PythonFile(sink, mode="w"), schema)
            for batch in table.to_batches(max_chunksize=BATCH_ROWS):
                if state.failure is not None:
                    raise UploadsAborted
                for part in wire_batches(batch, schema):
                    writer.write_batch(part)
                parts = sink.drain()
                state.bars.advance(upload_task, sum(len(part) for part in parts))
                yield from parts
    if writer is None:
        # Every file of the affected runs is gone: their rows go too.
        writer = pa.ipc.new_stream(pa.PythonFile(sink, mode="w"), EMPTY_SCHEMA)
    state.data_collection_read()
    state.all_read.wait()
    if state.failure is not None:
        raise UploadsAborted
    writer.close()
    yield from sink.drain()


def upload_one(
    connect: Callable[[], GatewayApi],
    item: DataCollectionWork,
    overwrite: bool,
    state: StreamState,
) -> None:
    """One data collection's upload (in its own thread, with its own HTTP client)."""
    task = state.bars.add(f"uploading {item.dc.label}", 0)
    params = {
        "mode": "overwrite" if overwrite or item.rewrite else "replace_runs",
        "run_ids": item.runs,
    }
    started = time.perf_counter()
    try:
        with connect() as api:
            item.written = api.upload(item.dc.id, upload_body(item, state, task), params)
    except BaseException as exc:
        state.fail(exc)
        raise
    item.seconds = time.perf_counter() - started
    state.bars.finish(task, f"{item.rows:,} rows → version {item.written['version']}")


def stream_work(
    connect: Callable[[], GatewayApi],
    work: list[DataCollectionWork],
    overwrite: bool,
    bars: ProgressBars,
) -> None:
    """Uploads every data collection at once, each committing only once all were read."""
    total = sum(file.size for item in work for file in item.files)
    state = StreamState(pending=len(work), bars=bars, read_task=bars.add("reading files", total))
    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        uploads = [pool.submit(upload_one, connect, item, overwrite, state) for item in work]
        for upload in uploads:
            upload.exception()
    if state.failure is not None:
        committed = [item.dc.label for item in work if item.written]
        if committed:
            # Only a failure after the bodies were complete (a commit refused by the server)
            # can get here: say which tables did change.
            raise CliFailure(f"{failure_message(state.failure)} (committed anyway: {committed})")
        raise CliFailure(failure_message(state.failure))


def failure_message(exc: BaseException) -> str:
    if isinstance(exc, CliFailure):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def register_runs(
    api: GatewayApi, plan: ProjectPlan, runs: list[ScannedRun], changes: list[FileChange]
) -> list[str]:
    """Registers every run with a change, with its whole current file set (a run folder that
    disappeared is registered with no files): the run tags."""
    changed = {
        (workflow_of(plan, c.data_collection), c.run_tag)
        for c in changes
        if c.status is not FileStatus.UNCHANGED
    }
    bodies = {(run.workflow.id, run.run_tag): run_body(run) for run in runs}
    registered = []
    for workflow_id, run_tag in sorted(changed):
        body = bodies.get((workflow_id, run_tag)) or {
            "workflow_id": workflow_id,
            "run_tag": run_tag,
            "files": [],
            "replace_files": True,
        }
        api.register_run(plan.id, body)
        registered.append(run_tag)
    return registered


def workflow_of(plan: ProjectPlan, dc: DataCollectionPlan) -> str:
    """The id of the workflow a data collection belongs to ('' in a basic project)."""
    return next(w.id for w in plan.workflows if dc in w.data_collections)


def run_body(run: ScannedRun) -> dict[str, Any]:
    """The RunRegister body of a scanned run."""
    return {
        "workflow_id": run.workflow.id,
        "run_tag": run.run_tag,
        "location": str(run.location),
        "hash": run.content_hash,
        "replace_files": True,
        "files": [
            {
                "data_collection_id": file.data_collection.id,
                "path": file.relative,
                "size": file.size,
                "mtime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(file.mtime)),
                "sha256": file.sha256,
            }
            for file in run.files
        ],
    }
