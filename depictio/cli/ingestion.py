"""`depictio data process`: changed runs' files read, checked, streamed to the gateway, and
only then registered.

Order matters for "nothing changes on bad input": every file is read and every schema checked
before the first byte is sent; each data collection is one commit (`replace_runs`: the rows of
exactly the affected runs are swapped); runs and files are registered only after every commit
succeeded. A failure between commits leaves nothing registered, so the next run repeats the
same idempotent replacements.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from depictio.arrow_ipc import ipc_chunks
from depictio.cli.failures import CliFailure
from depictio.cli.gateway_api import GatewayApi
from depictio.cli.local_scan import FileChange, FileStatus, ScannedFile, ScannedRun
from depictio.cli.project_files import DataCollectionPlan, ProjectPlan
from depictio.cli.reporting import ProgressBars
from depictio.cli.table_reading import (
    FILE_COLUMN,
    RUN_ID_COLUMN,
    aligned_table,
    prepared_frame,
    read_source,
)

UPLOAD_CHUNK_BYTES = 4 * 1024 * 1024
# Type names (as the schema route gives them) of the same kind: a column may move within one.
NUMERIC_TYPES = {
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "halffloat", "float", "double",
}  # fmt: skip


@dataclass
class DataCollectionWork:
    """One data collection's commit: the runs it replaces and the files it reads."""

    dc: DataCollectionPlan
    runs: list[str]
    files: list[ScannedFile]
    table: pa.Table | None = None
    written: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def plan_work(
    plan: ProjectPlan, runs: list[ScannedRun], changes: list[FileChange], overwrite: bool
) -> list[DataCollectionWork]:
    """The commits to make: per data collection, the runs with an added, changed or removed
    file (every run with `--overwrite`), and all current files of those runs."""
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
        if overwrite:
            touched |= {file.run_tag for file in current}
        if not touched:
            continue
        files = [file for file in current if file.run_tag in touched]
        work.append(DataCollectionWork(dc, sorted(touched), files))
    return work


def read_work(work: list[DataCollectionWork], bars: ProgressBars) -> None:
    """Reads every file of every commit; a bad file stops everything before any upload."""
    total = sum(file.size for item in work for file in item.files)
    task = bars.add("reading files", total, "")
    files = rows = 0
    for item in work:
        frames = []
        for file in item.files:
            frame = prepared_frame(file, read_source(file))
            frames.append((file, frame))
            files += 1
            rows += frame.height
            bars.advance(task, file.size, f"{files} files, {rows:,} rows")
        item.table = aligned_table(frames) if frames else None


def check_against_server(api: GatewayApi, work: list[DataCollectionWork], overwrite: bool) -> None:
    """Refuses, before any commit, a column whose type the existing table cannot take."""
    if overwrite:
        return
    for item in work:
        if item.table is None:
            continue
        schema = api.schema(item.dc.id)
        if schema is None:
            continue
        stored = {column["name"]: column["type"] for column in schema["columns"]}
        for column in item.table.schema:
            existing = stored.get(column.name)
            incoming = outgoing_type_name(column.type)
            if existing is None or existing == incoming:
                continue
            if incoming in NUMERIC_TYPES and existing == "double":
                continue
            if incoming.startswith("int") and existing == "int64":
                continue
            sources = sorted({str(file.path) for file in item.files})
            raise CliFailure(
                f"type conflict in column {column.name!r} of {item.dc.label!r}: the table has "
                f"{existing}, the files {', '.join(sources)} give {incoming}"
            )


def outgoing_type_name(dtype: pa.DataType) -> str:
    """The type name the server will store a column under (one string flavour, no nulls)."""
    if pa.types.is_dictionary(dtype):
        dtype = dtype.value_type
    if pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype) or pa.types.is_null(dtype):
        return "string"
    return str(dtype)


def upload_body(table: pa.Table, bars: ProgressBars, task: Any) -> Iterator[bytes]:
    """The table as Arrow IPC chunks, advancing the upload bar as they go."""
    for chunk in ipc_chunks(table.schema, table.to_batches(), UPLOAD_CHUNK_BYTES):
        bars.advance(task, len(chunk))
        yield chunk


def upload_work(
    api: GatewayApi, work: list[DataCollectionWork], overwrite: bool, bars: ProgressBars
) -> None:
    """One commit per data collection."""
    for item in work:
        table = item.table
        if table is None:
            # Every file of the affected runs is gone: their rows go too.
            table = pa.table(
                {RUN_ID_COLUMN: pa.array([], pa.string()), FILE_COLUMN: pa.array([], pa.string())}
            )
        task = bars.add(f"uploading {item.dc.label}", table.nbytes, f"{table.num_rows:,} rows")
        params: dict[str, Any] = {"mode": "overwrite" if overwrite else "replace_runs"}
        if not overwrite:
            params["replace_run_ids"] = item.runs
        started = time.perf_counter()
        item.written = api.upload(item.dc.id, upload_body(table, bars, task), params)
        item.seconds = time.perf_counter() - started
        bars.finish(task, f"{table.num_rows:,} rows → version {item.written['version']}")


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
