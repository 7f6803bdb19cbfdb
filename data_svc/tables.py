"""The Delta tables of data collections: atomic writes, versions, specs and maintenance.

Every method blocks (delta-rs, polars): the servicer runs them in a thread pool.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pa_dataset
import pyarrow.fs as pa_fs
from deltalake import (
    ColumnProperties,
    CommitProperties,
    DeltaTable,
    WriterProperties,
    write_deltalake,
)
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError
from google.protobuf.message import DecodeError

from data_svc.encoding import decoded, load_encoded
from data_svc.hot_tables import HotTables
from data_svc.ingest import RUN_ID_COLUMN, Mode, WriteSpec, conform, with_provenance
from data_svc.specs import arrow_type_name, compute_specs
from data_svc.storage import Storage, TableRef
from depictio.arrow_types import storable_type
from depictio.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from depictio.v1 import data_pb2

RUN_ID_KEY = "depictio.run_id"
RUN_IDS_KEY = "depictio.run_ids"
MODE_KEY = "depictio.mode"
# Commits that leave the rows of the version before them as they were (for their specs).
SAME_ROWS_OPERATIONS = frozenset({"OPTIMIZE", "VACUUM START", "VACUUM END"})
# How far back Describe looks for the specs of the same rows.
SAME_ROWS_LOOKBACK = 20
# Files no version lists are vacuumed once this old (see DeltaTables.vacuum).
ORPHAN_MIN_AGE_HOURS = 1
# How long the deletion of a project's tables is remembered: longer than a write stream may
# last (depictio.clients.data.STREAM_TIMEOUT_SECONDS), so that a write already under way when
# they were deleted cannot bring its table back.
DELETED_PROJECT_SECONDS = 900.0


@dataclass(frozen=True)
class WriteResult:
    """What one WriteTable committed."""

    version: int
    rows: int


@dataclass(frozen=True)
class VersionInfo:
    """One entry of a table's history."""

    version: int
    timestamp_ms: int
    operation: str
    rows: int
    run_ids: list[str] = field(default_factory=list)
    mode: str = ""


def sql_string(text: str) -> str:
    """A SQL string literal (single quotes doubled) for a delta-rs predicate."""
    return "'" + text.replace("'", "''") + "'"


def writer_properties(schema: pa.Schema) -> WriterProperties:
    """Parquet dictionary encoding for text columns only: numbers with millions of distinct
    values gain nothing from a dictionary and cost four times the encoding time with one.
    LZ4 compression: its files are about 30 % smaller than uncompressed ones, which costs
    less time than writing (and reading) the bytes it saves."""
    stored = {field.name: storable_type(field.type) for field in schema}
    text = [name for name, dtype in stored.items() if dtype in (pa.string(), pa.binary())]
    return WriterProperties(
        compression="LZ4_RAW",
        default_column_properties=ColumnProperties(dictionary_enabled=False),
        column_properties={name: ColumnProperties(dictionary_enabled=True) for name in text},
    )


def release_unused_memory() -> None:
    """Hands the memory Arrow's allocator keeps for reuse back to the system: after a write,
    the whole upload's worth of it, which would otherwise stay resident next to hot tables."""
    pa.default_memory_pool().release_unused()


def require_version(ref: TableRef, table: DeltaTable, version: int) -> None:
    """NotFound unless `version` is one of the table's versions."""
    if not 0 <= version <= table.version():
        raise NotFound(
            f"data collection {ref.data_collection_id!r} has no version {version} "
            f"(versions 0–{table.version()})"
        )


def concurrent_commit(exc: CommitFailedError) -> Aborted:
    """A commit another writer's commit (another data_svc process) got in the way of."""
    return Aborted(
        f"another change to the table was committed at the same time ({exc}): nothing was "
        "changed by this request; make it again"
    )


class DeltaTables:
    """Reads and writes the tables under one storage root."""

    def __init__(self, storage: Storage, hot: HotTables | None = None) -> None:
        self.storage = storage
        self.hot = hot
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        # Specs of versions just written, being computed after their write answered.
        self._specs_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="specs")
        self._specs_in_flight: dict[tuple[str, int], Future[data_pb2.DescribeResponse]] = {}
        # Projects whose tables were deleted, and when (time.monotonic()).
        self._deleted_projects: dict[str, float] = {}

    def _lock(self, ref: TableRef) -> threading.Lock:
        """The in-process write lock of a table (other processes are handled by Delta)."""
        uri = self.storage.uri(ref)
        with self._locks_guard:
            return self._locks.setdefault(uri, threading.Lock())

    def open(self, ref: TableRef, version: int | None = None) -> DeltaTable:
        """The table (at `version`, or the latest); NotFound when it or the version is missing."""
        uri = self.storage.uri(ref)
        try:
            table = DeltaTable(uri, storage_options=self.storage.options or None)
        except TableNotFoundError as exc:
            raise NotFound(
                f"data collection {ref.data_collection_id!r} has no table yet: write to it first"
            ) from exc
        if version is not None and version != table.version():
            require_version(ref, table, version)
            latest = table.version()
            latest_files = set(table.file_uris())
            try:
                table.load_as_version(version)
            except DeltaError as exc:
                raise NotFound(f"version {version} is no longer available: {exc}") from exc
            self.require_files(ref, version, latest, table.file_uris(), latest_files)
        return table

    def require_files(
        self, ref: TableRef, version: int, latest: int, files: list[str], kept: set[str]
    ) -> None:
        """NotFound when a data file of an earlier `version` is gone (a vacuum removes the
        files later versions no longer use; the log still lists the version). Only the files
        the latest version does not share are looked up."""
        others = [uri.removeprefix("s3://") for uri in files if uri not in kept]
        if not others:
            return
        infos = self.storage.filesystem().get_file_info(others)
        if any(info.type == pa_fs.FileType.NotFound for info in infos):
            raise NotFound(
                f"data collection {ref.data_collection_id!r}: version {version} can no longer "
                f"be read, its data files were removed by a vacuum (latest version: {latest})"
            )

    def exists(self, ref: TableRef) -> bool:
        """True once the table has its first commit."""
        return DeltaTable.is_deltatable(
            self.storage.uri(ref), storage_options=self.storage.options or None
        )

    def frame(self, table: DeltaTable) -> pl.LazyFrame:
        """The table's loaded version, lazily: from memory when it is hot (or fits the hot
        budget and is loaded now), else a scan of storage with projection and predicates
        pushed down. A hot version's repetitive string columns are encoded
        (data_svc.encoding): whatever leaves data_svc from it is `decoded`."""
        if self.hot is not None:
            actions = pa.table(table.get_add_actions(flatten=True))
            stored = int(pc.sum(actions.column("size_bytes")).as_py() or 0)
            key = (f"{table.table_uri}#{self.table_id(table)}", table.version())
            found = self.hot.get(key, stored, lambda: load_encoded(pl.scan_delta(table)))
            if found is not None:
                return found.lazy()
        return pl.scan_delta(table)

    @staticmethod
    def table_id(table: DeltaTable) -> str:
        """The id Delta gave the table when it was created. A data collection's table deleted
        and written again starts its versions over under a new id: (id, version), not the
        version alone, names a content for good."""
        return str(table.metadata().id)

    @staticmethod
    def arrow_schema(table: DeltaTable) -> pa.Schema:
        """The table's schema as Arrow."""
        return pa.schema(table.schema().to_arrow())

    def write(self, ref: TableRef, spec: WriteSpec, data: pa.Table) -> WriteResult:
        """Commits `data` in one atomic Delta commit; refused data leaves the table unchanged."""
        return self.write_batches(ref, spec, data.to_reader())

    def write_batches(
        self, ref: TableRef, spec: WriteSpec, reader: pa.RecordBatchReader, where: str = ""
    ) -> WriteResult:
        """Commits `reader`'s batches in one atomic Delta commit, made once the reader ended.

        Each batch gets its provenance and stored types as it arrives (so a stream is decoded
        while it is still being received); then the table is written in one call, from Arrow
        memory. (Not from a Python reader pulled by delta-rs: that reader needs the GIL on
        delta-rs's runtime threads, while another thread's delta-rs call can hold the GIL and
        wait for that runtime: a deadlock.) Refused batches (unlisted runs, broken stream) or
        a type the table cannot take end the write without a commit, leaving the table
        unchanged.
        """
        where = where or spec.file or "the stream"
        started = time.monotonic()
        parts: list[pa.Table] = []
        try:
            for number, batch in enumerate(reader, start=1):
                try:
                    # Offsets pointing out of their buffers (a corrupted or forged stream) are
                    # read as they are by what follows: out-of-bounds reads crashed data_svc.
                    batch.validate(full=True)
                except pa.ArrowInvalid as exc:
                    raise InvalidArgument(
                        f"{where}: record batch {number} of the Arrow IPC stream is not valid "
                        f"Arrow data ({exc})"
                    ) from exc
                batch_table = with_provenance(pa.Table.from_batches([batch]), spec)
                parts.append(conform(batch_table, None, spec.file, keep_nulls=True))
            if not parts:
                empty = with_provenance(reader.schema.empty_table(), spec)
                parts.append(conform(empty, None, spec.file, keep_nulls=True))
        except pa.ArrowMemoryError:
            raise
        except (pa.ArrowException, OSError) as exc:  # ArrowNotImplementedError too
            raise InvalidArgument(f"{where}: not a complete Arrow IPC stream ({exc})") from exc
        except MemoryError as exc:  # Python's: reading a message that declares terabytes
            raise InvalidArgument(
                f"{where}: not a complete Arrow IPC stream (a message declares more bytes "
                "than this service could hold)"
            ) from exc
        except UnicodeDecodeError as exc:  # names are UTF-8 in Arrow: only in a forged stream
            raise InvalidArgument(
                f"{where}: the column or field name {exc.object!r} is not UTF-8 text"
            ) from exc
        return self._commit(ref, spec, pa.concat_tables(parts), started)

    def _commit(
        self, ref: TableRef, spec: WriteSpec, data: pa.Table, started: float
    ) -> WriteResult:
        """Writes a table already in stored types, checked against the table's schema."""
        uri = self.storage.uri(ref)
        provenance = (
            {RUN_ID_KEY: spec.run_id} if spec.run_id else {RUN_IDS_KEY: json.dumps(spec.runs)}
        )
        properties = CommitProperties(custom_metadata={**provenance, MODE_KEY: spec.mode})
        with self._lock(ref):
            self._require_not_deleted(ref, started)
            table = self.open(ref) if self.exists(ref) else None
            existing = self.arrow_schema(table) if table is not None else None
            options: dict[str, Any] = {"mode": "append", "schema_mode": "merge"}
            if existing is None or spec.mode is Mode.OVERWRITE:
                # A new table, or a whole new content whose schema replaces the old one.
                existing = None
                data = conform(data, None, spec.file)
                if table is not None:
                    options = {"mode": "overwrite", "schema_mode": "overwrite"}
            else:
                data = conform(data, existing, spec.file)
                if spec.mode in (Mode.REPLACE_RUN, Mode.REPLACE_RUNS):
                    runs = ", ".join(sql_string(run) for run in spec.runs) or "NULL"
                    options["mode"] = "overwrite"
                    options["predicate"] = f"{RUN_ID_COLUMN} IN ({runs})"
            if any(column.num_chunks > 1 for column in data.columns):
                # delta-rs writes the chunks of a table side by side, in no set order: one
                # chunk keeps the rows in the order they came (a scan gives them back so).
                data = data.combine_chunks()
            try:
                write_deltalake(
                    table if table is not None else uri,
                    data,
                    storage_options=self.storage.options or None,
                    commit_properties=properties,
                    writer_properties=writer_properties(data.schema),
                    **options,
                )
            except CommitFailedError as exc:
                raise concurrent_commit(exc) from exc
            except DeltaError as exc:
                raise FailedPrecondition(f"the write was refused by the table: {exc}") from exc
        # A written DeltaTable is left at the version its own commit created (after any retries).
        version = table.version() if table is not None else self.open(ref).version()
        if existing is None:
            # The commit holds the whole table: its specs come from memory, not storage, and
            # after the write has answered (describe waits for them).
            self.compute_specs_later(ref, version, data)
        return WriteResult(version=version, rows=data.num_rows)

    def compute_specs_later(self, ref: TableRef, version: int, data: pa.Table) -> None:
        """Computes and stores a version's specs from `data` in the background."""

        held = [data]

        def compute() -> data_pb2.DescribeResponse:
            # Read a batch at a time: converting the whole table to polars first would hold
            # a second copy of it (of its text columns) beside the first while counting.
            specs = compute_specs(pl.scan_pyarrow_dataset(pa_dataset.dataset(held.pop())), version)
            release_unused_memory()
            self.store_specs(ref, specs)
            return specs

        key = (self.storage.uri(ref), version)
        with self._locks_guard:
            for done in [k for k, future in self._specs_in_flight.items() if future.done()]:
                del self._specs_in_flight[done]
            self._specs_in_flight[key] = self._specs_pool.submit(compute)

    def column_types(self, ref: TableRef, version: int) -> list[tuple[str, str]]:
        """(name, type) of the table's columns at `version`, as Describe names the types."""
        schema = pl.scan_delta(self.open(ref, version)).collect_schema()
        return [(name, arrow_type_name(dtype)) for name, dtype in schema.items()]

    @staticmethod
    def specs_name(version: int) -> str:
        return f"specs/{version:020d}.pb"

    def delete_project(self, project_id: str) -> int:
        """Deletes every table of the project; how many there were.

        Writes that started before are refused when they come to commit, and the commits
        under way are awaited: a write still streaming when the tables were deleted brought
        its table back when it committed. So are the column specs still being computed:
        written after the deletion, a spec file would bring the folder back too. A write that
        starts after the deletion makes a new table."""
        prefix = self.storage.project_uri(project_id) + "/"
        with self._locks_guard:
            now = time.monotonic()
            self._deleted_projects = {
                project: at
                for project, at in self._deleted_projects.items()
                if now - at < DELETED_PROJECT_SECONDS
            }
            self._deleted_projects[project_id] = now
            locks = [lock for uri, lock in self._locks.items() if uri.startswith(prefix)]
        for lock in locks:
            with lock:
                pass  # the commit that held it has ended
        with self._locks_guard:
            pending = [f for (uri, _), f in self._specs_in_flight.items() if uri.startswith(prefix)]
        for future in pending:
            with contextlib.suppress(Exception):  # a failed computation wrote nothing
                future.result()
        return self.storage.delete_project(project_id)

    def _require_not_deleted(self, ref: TableRef, started: float) -> None:
        """FailedPrecondition when the project's tables were deleted after the write started
        (time.monotonic())."""
        with self._locks_guard:
            deleted_at = self._deleted_projects.get(ref.project_id)
        if deleted_at is not None and deleted_at >= started:
            raise FailedPrecondition(
                f"project {ref.project_id!r} and its tables were deleted while this write ran: "
                "nothing was written"
            )

    def store_specs(self, ref: TableRef, specs: data_pb2.DescribeResponse) -> None:
        self.storage.write_side_file(ref, self.specs_name(specs.version), specs.SerializeToString())

    def describe(self, ref: TableRef, version: int | None = None) -> data_pb2.DescribeResponse:
        """Row count and column specs of a version (computed once, then read from storage).

        Concurrent calls for a version whose specs are not stored yet wait for one
        computation: each computing its own (a caller giving up after its deadline left its
        computation running) piled up computations of one version."""
        table = self.open(ref, version)
        current = table.version()
        key = (self.storage.uri(ref), current)
        mine: Future[data_pb2.DescribeResponse] = Future()
        while True:
            with self._locks_guard:
                in_flight = self._specs_in_flight.setdefault(key, mine)
            if in_flight is mine:
                break
            try:
                return in_flight.result()
            except Exception:
                # A computation that failed (storage briefly out of reach) is not the answer
                # for good: the next caller computes the specs again.
                with self._locks_guard:
                    if self._specs_in_flight.get(key) is in_flight:
                        del self._specs_in_flight[key]
        try:
            response = self._stored_specs(ref, current) or self._inherited_specs(ref, table)
            if response is None:
                response = compute_specs(decoded(self.frame(table)), current)
                self.store_specs(ref, response)
        except BaseException as exc:
            mine.set_exception(exc)
            raise
        else:
            mine.set_result(response)
        finally:
            with self._locks_guard:
                if self._specs_in_flight.get(key) is mine:
                    del self._specs_in_flight[key]
        return response

    def _inherited_specs(
        self, ref: TableRef, table: DeltaTable
    ) -> data_pb2.DescribeResponse | None:
        """The specs of the table's version taken from an earlier version of the same rows, when
        that one's are stored (and then stored for this version too): an optimize or a vacuum
        keeps the rows of the version before it, a restore brings back those of the version
        it names. None otherwise (the specs are computed)."""
        current = table.version()
        # From the latest table: delta-rs numbers the history of a table loaded at an
        # earlier version as if its latest entries were that version's.
        latest = self.open(ref)
        entries = {
            int(entry["version"]): entry
            for entry in latest.history(limit=latest.version() - current + SAME_ROWS_LOOKBACK)
        }
        version = current
        for _ in range(SAME_ROWS_LOOKBACK):
            entry = entries.get(version)
            if entry is None:
                return None
            operation = entry.get("operation")
            if operation in SAME_ROWS_OPERATIONS:
                version -= 1
            elif operation == "RESTORE":
                restored = (entry.get("operationParameters") or {}).get("version")
                if restored is None:  # restored to a timestamp: the version is not said
                    return None
                version = int(restored)
            else:
                return None
            stored = self._stored_specs(ref, version)
            if stored is not None:
                stored.version = current
                self.store_specs(ref, stored)
                return stored
        return None

    def _stored_specs(self, ref: TableRef, version: int) -> data_pb2.DescribeResponse | None:
        """The specs stored for `version`; None when missing or torn (to be recomputed)."""
        stored = self.storage.read_side_file(ref, self.specs_name(version))
        if stored is None:
            return None
        response = data_pb2.DescribeResponse()
        try:
            response.ParseFromString(stored)
        except DecodeError:
            return None
        return response if response.version == version and response.columns else None

    def history(self, ref: TableRef) -> list[VersionInfo]:
        """The table's versions, newest first."""
        versions = []
        for entry in self.open(ref).history():
            metrics = entry.get("operationMetrics") or {}
            rows = metrics.get("num_added_rows", metrics.get("numOutputRows", 0))
            run_ids = json.loads(entry[RUN_IDS_KEY]) if RUN_IDS_KEY in entry else []
            if entry.get(RUN_ID_KEY):
                run_ids = [entry[RUN_ID_KEY]]
            versions.append(
                VersionInfo(
                    version=int(entry["version"]),
                    timestamp_ms=int(entry.get("timestamp", 0)),
                    operation=str(entry.get("operation", "")),
                    rows=int(rows or 0),
                    run_ids=run_ids,
                    mode=str(entry.get(MODE_KEY, "")),
                )
            )
        return versions

    def optimize(self, ref: TableRef) -> tuple[int, int]:
        """Compacts small files: (files removed, files added)."""
        with self._lock(ref):
            try:
                metrics = self.open(ref).optimize.compact()
            except CommitFailedError as exc:
                raise concurrent_commit(exc) from exc
        return int(metrics.get("numFilesRemoved", 0)), int(metrics.get("numFilesAdded", 0))

    def vacuum(self, ref: TableRef, retention_hours: int) -> int:
        """Deletes the data files no version within `retention_hours` uses, and files no
        version ever listed (left by writes refused after writing them) once they are
        ORPHAN_MIN_AGE_HOURS old: the number of files deleted.

        A vacuum with nothing to delete commits nothing (each vacuum commits two versions, and
        delta-rs lists a file it deleted before again and again)."""
        if retention_hours < 0:
            raise InvalidArgument(f"retention_hours must be ≥ 0, got {retention_hours}")
        # Files no version lists may belong to a write in progress in another process:
        # younger than this, they are left alone whatever the retention.
        orphan_hours = max(retention_hours, ORPHAN_MIN_AGE_HOURS)
        passes = [(orphan_hours, True), (retention_hours, False)]
        deleted: set[str] = set()
        with self._lock(ref):
            table = self.open(ref)
            for hours, full in passes:

                def vacuum(dry_run: bool, hours: int = hours, full: bool = full) -> list[str]:
                    return table.vacuum(
                        retention_hours=hours,
                        dry_run=dry_run,
                        enforce_retention_duration=False,
                        full=full,
                    )

                listed = vacuum(dry_run=True)
                present = self._present_files(ref, [f for f in listed if f not in deleted])
                if present:
                    deleted |= present & set(vacuum(dry_run=False))
        return len(deleted)

    def _present_files(self, ref: TableRef, names: list[str]) -> set[str]:
        """Those of the table's files `names` (relative to the table) still in storage."""
        if not names:
            return set()
        root = self.storage.uri(ref).removeprefix("s3://")
        infos = self.storage.filesystem().get_file_info([f"{root}/{name}" for name in names])
        return {
            name
            for name, info in zip(names, infos, strict=True)
            if info.type != pa_fs.FileType.NotFound
        }

    def restore(self, ref: TableRef, version: int) -> int:
        """Restores the table's content to `version` in a new commit: the new version."""
        with self._lock(ref):
            self.open(ref, version)  # NotFound, saying why, for a version a vacuum removed
            table = self.open(ref)
            if version == table.version():
                return version  # already the content asked for: nothing to commit
            try:
                table.restore(version)
            except CommitFailedError as exc:
                raise concurrent_commit(exc) from exc
            except DeltaError as exc:
                raise FailedPrecondition(f"cannot restore version {version}: {exc}") from exc
            return self.open(ref).version()
