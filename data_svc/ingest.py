"""Incoming tables: decoding a spooled IPC stream, provenance columns and the schema rules."""

from __future__ import annotations

import queue
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa

from depictio.arrow_ipc import chunk_stream
from depictio.arrow_types import (
    UnstorableColumn,
    check_field_names,
    holds_only_nulls,
    storable_type,
    stored_column,
    widens_to,
    written_type,
)
from depictio.errors import FailedPrecondition, InvalidArgument

RUN_ID_COLUMN = "depictio_run_id"
FILE_COLUMN = "depictio_file"
# 1–200 characters, none a control character (C0, DEL, C1) or a line or paragraph separator.
RUN_ID = re.compile(r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]{1,200}")


class Mode(StrEnum):
    """How a write combines with the table."""

    APPEND = "append"
    OVERWRITE = "overwrite"
    REPLACE_RUN = "replace_run"
    REPLACE_RUNS = "replace_runs"


def check_run_id(run_id: str, where: str) -> None:
    """InvalidArgument unless `run_id` is 1–200 characters, none a control character or a
    line break."""
    if not RUN_ID.fullmatch(run_id):
        raise InvalidArgument(
            f"{where}: expected 1–200 characters without control characters or line breaks, "
            f"got {run_id[:50]!r}"
        )


@dataclass(frozen=True)
class WriteSpec:
    """What a WriteTable header asks for. An empty run_id: the rows carry depictio_run_id."""

    run_id: str
    mode: Mode
    file: str = ""
    run_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.run_id or self.mode is Mode.REPLACE_RUN:
            check_run_id(self.run_id, "header.run_id")
        for index, run_id in enumerate(self.run_ids):
            check_run_id(run_id, f"header.run_ids[{index}]")
        if self.run_ids and self.run_id:
            raise InvalidArgument("header.run_ids: only when header.run_id is empty")
        if self.mode is Mode.REPLACE_RUNS and self.run_id:
            raise InvalidArgument("header.run_id: must be empty with mode REPLACE_RUNS")

    @property
    def runs(self) -> list[str]:
        """The runs the write may name (and, replacing, replaces), sorted."""
        return [self.run_id] if self.run_id else sorted(set(self.run_ids))


def open_stream(
    chunks: Iterable[bytes | memoryview], where: str = "arrow_ipc"
) -> pa.RecordBatchReader:
    """A reader of an Arrow IPC stream arriving in chunks (its schema read already).

    Its batches end only once the chunks have ended too: bytes after the stream's end are
    refused, and chunks that end in error after it (a request stream that broke, or carried a
    wrong message, after the IPC stream was complete) raise that error, so that such a write
    commits nothing.
    """
    stream = chunk_stream(chunks)
    try:
        reader = pa.ipc.open_stream(pa.PythonFile(stream, mode="r"))
    except pa.ArrowMemoryError:
        raise
    except (pa.ArrowException, OSError, StopIteration) as exc:  # ArrowNotImplementedError too
        raise InvalidArgument(f"{where}: not a complete Arrow IPC stream ({exc})") from exc

    def batches_then_end() -> Iterator[pa.RecordBatch]:
        yield from reader
        trailing = stream.read()
        if trailing:
            raise InvalidArgument(
                f"{where}: {len(trailing)} bytes after the end of the Arrow IPC stream"
            )

    return pa.RecordBatchReader.from_batches(reader.schema, batches_then_end())


def with_provenance(table: pa.Table, spec: WriteSpec) -> pa.Table:
    """`table` with depictio_run_id (the header's, else the rows' own) and depictio_file
    (unless given)."""
    where = spec.file or "the stream"
    if table.num_columns == 0:
        raise InvalidArgument(f"{where}: the table has no columns")
    names = table.column_names
    rows = table.num_rows
    if spec.run_id:
        if RUN_ID_COLUMN in names:
            table = table.drop_columns([RUN_ID_COLUMN])
        table = table.append_column(RUN_ID_COLUMN, constant_text(spec.run_id, rows))
    else:
        table = table.set_column(
            names.index(RUN_ID_COLUMN) if RUN_ID_COLUMN in names else table.num_columns,
            RUN_ID_COLUMN,
            rows_run_ids(table, spec, where),
        )
    if FILE_COLUMN not in names:
        table = table.append_column(FILE_COLUMN, constant_text(spec.file, rows))
    try:  # the provenance columns too, beside the file's own (`DEPICTIO_FILE`…)
        check_field_names(table.schema, where)
    except UnstorableColumn as exc:
        raise InvalidArgument(str(exc)) from exc
    return table


def constant_text(value: str, rows: int) -> pa.DictionaryArray:
    """`value` on every one of `rows` rows, as a dictionary (the text is held once, and a
    byte per row points at it)."""
    return pa.DictionaryArray.from_arrays(
        pa.repeat(pa.scalar(0, pa.int8()), rows), pa.array([value], pa.string())
    )


def rows_run_ids(table: pa.Table, spec: WriteSpec, where: str) -> pa.ChunkedArray:
    """The rows' own depictio_run_id; refused when missing, null, or naming a run the header's
    run_ids does not list."""
    if RUN_ID_COLUMN not in table.column_names:
        raise InvalidArgument(
            f"{where}: header.run_id is empty, so the rows need a {RUN_ID_COLUMN} column"
        )
    column = table.column(RUN_ID_COLUMN)
    text = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if not (pa.types.is_string(text) or pa.types.is_large_string(text)):
        raise InvalidArgument(f"{where}: {RUN_ID_COLUMN} must be strings, got {column.type}")
    # A dictionary stays one (its values are checked, not every row): conform decodes it once.
    if not pa.types.is_dictionary(column.type):
        column = column.cast(pa.string())
    if column.null_count:
        raise InvalidArgument(f"{where}: {RUN_ID_COLUMN} has {column.null_count} null values")
    unlisted = sorted(set(column.unique().to_pylist()) - set(spec.run_ids))
    if unlisted:
        raise InvalidArgument(
            f"{where}: rows name runs {unlisted[:5]} that header.run_ids does not list"
        )
    return column


def conform(
    table: pa.Table, existing: pa.Schema | None, file: str, keep_nulls: bool = False
) -> pa.Table:
    """`table` cast to the types it is stored with, checked against the table's schema.

    New columns are accepted (they are added to the table); a column whose type cannot be
    widened to the existing one is refused with the column, both types and the file. Text
    dictionaries are kept (`written_type`). A column of nulls only (an empty column of a CSV
    file), or of lists of nulls only, takes the type the table has for it, else text (lists
    of text); with `keep_nulls` it is left as it is, for the table's schema to settle later.
    """
    columns = []
    fields = []
    table_names = {name.lower(): name for name in existing.names} if existing is not None else {}
    for column_field, column in zip(table.schema, table.columns, strict=True):
        known = table_names.get(column_field.name.lower(), column_field.name)
        if known != column_field.name:
            raise FailedPrecondition(
                f"column {column_field.name!r} of {file or 'the incoming data'}: the table has "
                f"it as {known!r} (column names are compared regardless of case)"
            )
        if keep_nulls and holds_only_nulls(column_field.type):
            columns.append(column)
            fields.append(column_field)
            continue
        target = written_type(column_field.type)
        if existing is not None and column_field.name in existing.names:
            stored = existing.field(column_field.name).type
            incoming = column_field.type
            fits = widens_to(storable_type(incoming), stored) or (
                holds_only_nulls(incoming)
                and (pa.types.is_null(incoming) or pa.types.is_list(stored))
            )
            if not fits:
                raise FailedPrecondition(
                    f"type conflict in column {column_field.name!r}: the table has {stored}, "
                    f"{file or 'the incoming data'} has {column_field.type}"
                )
            if not (pa.types.is_dictionary(target) and target.value_type == stored):
                target = stored
        try:
            columns.append(
                stored_column(column_field.name, column, target, file or "the incoming data")
            )
        except UnstorableColumn as exc:
            raise InvalidArgument(str(exc)) from exc
        fields.append(pa.field(column_field.name, target))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


class StreamAborted(Exception):
    """The RPC carrying the stream ended before the stream did."""


class ChunkFeed:
    """IPC chunks handed from an RPC's event loop to the thread writing them: `put` never
    blocks the loop; iterating blocks the thread until the next chunk, the end, or an abort."""

    _END = object()

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._aborted = False

    def put(self, chunk: bytes | memoryview) -> None:
        self._queue.put(chunk)

    def close(self) -> None:
        self._queue.put(self._END)

    def abort(self) -> None:
        self._aborted = True
        self._queue.put(self._END)

    def __iter__(self) -> Iterator[bytes | memoryview]:
        while True:
            item = self._queue.get()
            if item is self._END:
                if self._aborted:
                    raise StreamAborted("the write stream ended early")
                return
            assert isinstance(item, bytes | memoryview)
            yield item
