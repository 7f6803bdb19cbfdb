"""Delta tables on local disk and on moto S3: writes, schema rules, time travel, maintenance."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.dataset as pa_dataset
import pyarrow.fs as pa_fs
import pyarrow.parquet as pq
import pytest
from conftest import settings_from_env

from data_svc import specs as specs_module
from data_svc.hot_tables import HotTables
from data_svc.ingest import Mode, WriteSpec, open_stream
from data_svc.query_engine import run_batch
from data_svc.scanning import packed, scan_frame
from data_svc.storage import Storage, TableRef
from data_svc.tables import DeltaTables
from depictio.arrow_ipc import (
    END_OF_STREAM,
    MAX_CHUNK_BYTES,
    batches_from_chunks,
    ipc_messages,
    ipc_to_table,
    pooled,
    table_from_chunks,
    table_to_ipc,
)
from depictio.clients.data import write_messages
from depictio.errors import FailedPrecondition, InvalidArgument, NotFound
from depictio.filters import in_filter
from depictio.rpc.raw_messages import frame_field_one
from depictio.v1 import data_pb2

REF = TableRef("project-1", "dc-1")


@pytest.fixture
def tables(delta_storage: tuple[str, dict[str, str]]) -> DeltaTables:
    """A store on a fresh root (local directory, then S3 bucket created with minio)."""
    _, env = delta_storage
    storage = Storage.from_settings(settings_from_env(env))
    storage.prepare()
    return DeltaTables(storage)


def rows(tables: DeltaTables, version: int | None = None) -> pl.DataFrame:
    return pl.from_arrow(tables.open(REF, version).to_pyarrow_table())  # type: ignore[return-value]


def test_write_modes_and_provenance(tables: DeltaTables) -> None:
    first = tables.write(REF, WriteSpec("r1", Mode.APPEND, "a.csv"), pa.table({"x": [1, 2]}))
    second = tables.write(REF, WriteSpec("r2", Mode.APPEND, "b.csv"), pa.table({"x": [3]}))
    assert (first.version, first.rows, second.version) == (0, 2, 1)
    frame = rows(tables).sort("x")
    assert frame["depictio_run_id"].to_list() == ["r1", "r1", "r2"]
    assert frame["depictio_file"].to_list() == ["a.csv", "a.csv", "b.csv"]

    replaced = tables.write(REF, WriteSpec("r1", Mode.REPLACE_RUN, "a2.csv"), pa.table({"x": [9]}))
    assert replaced.version == 2
    frame = rows(tables).sort("x")
    assert frame.select("x", "depictio_run_id").rows() == [(3, "r2"), (9, "r1")]

    overwritten = tables.write(
        REF, WriteSpec("r3", Mode.OVERWRITE, "c.csv"), pa.table({"y": ["only"]})
    )
    assert overwritten.version == 3
    assert rows(tables).columns == ["y", "depictio_run_id", "depictio_file"]
    assert rows(tables, 1)["x"].sort().to_list() == [1, 2, 3]


def test_new_column_is_added_and_a_type_conflict_leaves_the_table_unchanged(
    tables: DeltaTables,
) -> None:
    tables.write(REF, WriteSpec("r1", Mode.APPEND, "a.csv"), pa.table({"x": [1], "s": ["a"]}))
    tables.write(REF, WriteSpec("r2", Mode.APPEND, "b.csv"), pa.table({"x": [2], "z": [0.5]}))
    before = rows(tables)
    assert before.sort("x")["z"].to_list() == [None, 0.5]

    with pytest.raises(FailedPrecondition) as refused:
        tables.write(REF, WriteSpec("r3", Mode.APPEND, "bad.csv"), pa.table({"x": ["text"]}))
    message = refused.value.message
    assert "'x'" in message and "int64" in message and "string" in message
    assert "bad.csv" in message
    assert tables.open(REF).version() == 1
    assert rows(tables).sort("x").equals(before.sort("x"))


@pytest.mark.parametrize(
    ("column", "said"),
    [
        (pa.array([dt.time(1, 2)], pa.time64("us")), "Delta tables cannot store times of day"),
        (pa.array([dt.timedelta(seconds=5)], pa.duration("us")), "cannot store durations"),
        (pa.array([{"at": dt.time(3)}], pa.struct([("at", pa.time32("s"))])), "times of day"),
        (pa.array([2**64 - 1], pa.uint64()), "uint64 values do not all fit int64"),
        (pa.array([1], pa.timestamp("ns")), "would lose data"),
        (
            pa.UnionArray.from_sparse(pa.array([0], pa.int8()), [pa.array([1]), pa.array(["a"])]),
            "cannot store unions of types",
        ),
        (pa.array([1], pa.decimal256(40, 2)), "cannot store decimals of over 38 digits"),
    ],
)
def test_columns_delta_cannot_hold_are_refused_naming_them(
    tables: DeltaTables, column: pa.Array, said: str
) -> None:
    tables.write(REF, WriteSpec("r1", Mode.APPEND, "a.csv"), pa.table({"x": [1]}))
    with pytest.raises(InvalidArgument) as refused:
        tables.write(
            REF, WriteSpec("r2", Mode.APPEND, "b.parquet"), pa.table({"x": [2], "c": column})
        )
    assert said in refused.value.message
    assert "column 'c' of b.parquet" in refused.value.message
    assert tables.open(REF).version() == 0


def test_instants_are_stored_in_utc_whatever_their_time_zone(tables: DeltaTables) -> None:
    paris = pa.array([0, 3_600_000_000], pa.timestamp("us", tz="Europe/Paris"))
    tables.write(REF, WriteSpec("r1", Mode.APPEND), pa.table({"t": paris}))
    # A later file in another zone adds to the same column (the same instants, in UTC).
    tokyo = pa.array([7_200_000], pa.timestamp("ms", tz="Asia/Tokyo")).cast(
        pa.timestamp("ns", tz="Asia/Tokyo")
    )
    tables.write(REF, WriteSpec("r2", Mode.APPEND), pa.table({"t": tokyo}))
    stored = rows(tables).sort("t")
    assert stored.schema["t"] == pl.Datetime("us", "UTC")
    expected = [dt.datetime(1970, 1, 1, h, tzinfo=dt.UTC) for h in (0, 1, 2)]
    assert stored["t"].to_list() == expected


def test_narrower_integers_are_widened(tables: DeltaTables) -> None:
    tables.write(REF, WriteSpec("r1", Mode.APPEND), pa.table({"x": pa.array([1], pa.int64())}))
    tables.write(REF, WriteSpec("r2", Mode.APPEND), pa.table({"x": pa.array([2], pa.int32())}))
    assert rows(tables)["x"].dtype == pl.Int64


def test_column_names_are_compared_regardless_of_case(tables: DeltaTables) -> None:
    tables.write(REF, WriteSpec("r1", Mode.APPEND, "a.csv"), pa.table({"sample": ["a"]}))
    with pytest.raises(FailedPrecondition, match="'Sample' of b.csv: the table has it as 'sample'"):
        tables.write(REF, WriteSpec("r2", Mode.APPEND, "b.csv"), pa.table({"Sample": ["b"]}))
    for names in (["gene", "GENE"], ["DEPICTIO_FILE"]):
        table = pa.table({name: ["x"] for name in names})
        with pytest.raises(InvalidArgument, match="duplicate columns .* regardless of case"):
            tables.write(REF, WriteSpec("r3", Mode.APPEND, "c.csv"), table)
    assert tables.open(REF).version() == 0
    assert rows(tables)["sample"].to_list() == ["a"]


def test_struct_fields_are_named_as_columns_are(tables: DeltaTables) -> None:
    """Fields differing only in case (or twice the same) made delta-rs fail: INTERNAL."""
    tables.write(REF, WriteSpec("r1", Mode.APPEND, "a.csv"), pa.table({"k": [1]}))

    def struct(*names: str) -> pa.StructArray:
        return pa.StructArray.from_arrays([pa.array([i]) for i in range(len(names))], names=names)

    refused = {
        "duplicate column 'st', fields \\['A', 'a'\\]": pa.table({"st": struct("a", "A")}),
        "duplicate column 'st.inner', fields": pa.table(
            {"st": pa.StructArray.from_arrays([struct("x", "x")], names=["inner"])}
        ),
        "duplicate column 'l.item', fields": pa.table(
            {
                "l": pa.array(
                    [[{"b": 1, "B": 2}]],
                    pa.list_(pa.struct([("b", pa.int64()), ("B", pa.int64())])),
                )
            }
        ),
        "column 'st', field 2 has no name": pa.table({"st": struct("a", "")}),
    }
    for message, table in refused.items():
        with pytest.raises(InvalidArgument, match=message):
            tables.write(REF, WriteSpec("r2", Mode.APPEND, "b.arrow"), table)
    assert tables.open(REF).version() == 0


def test_a_stream_whose_offsets_point_out_of_their_buffers_is_refused(
    tables: DeltaTables,
) -> None:
    """Such a batch (a corrupted or forged stream) was read as it was: a Rust panic quoted in
    a 409, or data_svc crashed."""
    table = pa.table({"l": pa.array([[1, 2], [3, 4]], pa.list_(pa.int64()))})
    body = bytearray(table_to_ipc(table))
    offsets = np.array([0, 2, 4], dtype=np.int32).tobytes()
    at = body.find(offsets)
    assert at > 0 and body.find(offsets, at + 1) == -1
    # [0, 4, 2]: the last offset within the values, the second list of length -2.
    body[at : at + 12] = np.array([0, 4, 2], dtype=np.int32).tobytes()
    reader = open_stream([bytes(body)])
    with pytest.raises(
        InvalidArgument, match="record batch 1 of the Arrow IPC stream is not valid"
    ):
        tables.write_batches(REF, WriteSpec("r1", Mode.APPEND, "a.arrow"), reader)
    assert not tables.exists(REF)


def test_a_stream_of_a_type_arrow_cannot_read_is_refused(tables: DeltaTables) -> None:
    """pyarrow's ArrowNotImplementedError (a NotImplementedError) became UNIMPLEMENTED:
    "WriteTable is not implemented yet"."""
    original = table_to_ipc(pa.table({"i": pa.array([1], pa.int64())}))

    def widened(at: int) -> bytes:
        body = bytearray(original)
        body[at] = 0x80  # the Int type's bitWidth: 64 → 128
        return bytes(body)

    def unreadable(body: bytes) -> bool:
        try:
            pa.ipc.open_stream(pa.BufferReader(body)).read_all()
        except pa.ArrowNotImplementedError:
            return True
        except pa.ArrowException:
            return False
        return False

    sixty_fours = [at for at in range(len(original)) if original[at] == 64]
    body = next(widened(at) for at in sixty_fours if unreadable(widened(at)))
    with pytest.raises(InvalidArgument, match="more than 64 bits not implemented"):
        tables.write_batches(REF, WriteSpec("r1", Mode.APPEND), open_stream([body]))
    assert not tables.exists(REF)


def test_a_batch_declaring_a_body_of_petabytes_is_refused(tables: DeltaTables) -> None:
    """Reading it asked Python for that much memory up front: MemoryError, INTERNAL."""
    original = table_to_ipc(pa.table({"i": pa.array([7], pa.int64())}))
    body_length = np.array([8], dtype=np.int64).tobytes()  # the batch's 8 bytes of values
    huge = np.array([2**53], dtype=np.int64).tobytes()

    def forged(at: int) -> bytes:
        return original[:at] + huge + original[at + 8 :]

    def declares_huge_body(body: bytes) -> bool:
        try:
            pa.ipc.open_stream(pa.BufferReader(body)).read_all()
        except (pa.ArrowInvalid, OSError) as exc:
            return "read 9007199254740992 bytes for message body" in str(exc)
        return False

    candidates = [at for at in range(len(original)) if original.startswith(body_length, at)]
    body = next(forged(at) for at in candidates if declares_huge_body(forged(at)))
    with pytest.raises(InvalidArgument, match="not a complete Arrow IPC stream"):
        tables.write_batches(REF, WriteSpec("r1", Mode.APPEND), open_stream([body]))
    assert not tables.exists(REF)


def test_a_column_name_that_is_not_utf8_is_refused(tables: DeltaTables) -> None:
    body = bytearray(table_to_ipc(pa.table({"zqzq": [1]})))
    body[body.find(b"zqzq")] = 0xFF  # a forged stream: Arrow writers write UTF-8
    reader = pa.ipc.open_stream(pa.BufferReader(bytes(body)))
    with pytest.raises(InvalidArgument, match=r"name b'\\xffqzq' is not UTF-8 text"):
        tables.write_batches(REF, WriteSpec("r1", Mode.APPEND, "a.arrow"), reader)
    assert not tables.exists(REF)


def test_a_column_of_nulls_only_joins_a_typed_column(tables: DeltaTables) -> None:
    """An empty column of a CSV file (read as type null) adds nulls to the table's column."""
    tables.write(REF, WriteSpec("r1", Mode.APPEND), pa.table({"s": ["a"], "ph": [6.5]}))
    empty = pa.table({"s": ["b"], "ph": pa.array([None], pa.null())})
    tables.write(REF, WriteSpec("r2", Mode.APPEND, "nulls.csv"), empty)
    stored = rows(tables).sort("s")
    assert stored.schema["ph"] == pl.Float64
    assert stored.select("s", "ph").rows() == [("a", 6.5), ("b", None)]


def test_the_same_nested_data_is_appended_again_whatever_its_flavour(tables: DeltaTables) -> None:
    """polars hands over large lists and large strings; Delta reads back lists and strings."""
    nested = pl.DataFrame({"l": [[1, 2]], "st": [{"k": "a"}], "ls": [["x", "y"]]}).to_arrow()
    assert pa.types.is_large_list(nested.schema.field("l").type)
    for run_id in ("r1", "r2"):
        tables.write(REF, WriteSpec(run_id, Mode.APPEND, f"{run_id}.parquet"), nested)
    stored = rows(tables)
    assert stored.select("l", "st", "ls").rows() == [([1, 2], {"k": "a"}, ["x", "y"])] * 2


def test_list_views_and_lists_of_nulls_are_stored(tables: DeltaTables) -> None:
    views = pa.array([[1, 2], None, [3]], pa.list_view(pa.int64()))
    nested = pa.array([{"a": [1]}, {"a": None}, {"a": [2, 3]}], pa.struct([("a", views.type)]))
    tables.write(REF, WriteSpec("r1", Mode.APPEND, "v.arrow"), pa.table({"l": views, "s": nested}))
    # polars' lists that are all empty are lists of nulls: they join the list column.
    empty_lists = pa.array([[], []], pa.large_list(pa.null()))
    tables.write(REF, WriteSpec("r2", Mode.APPEND, "e.arrow"), pa.table({"l": empty_lists}))
    stored = rows(tables).sort("depictio_run_id", maintain_order=True)
    assert stored.schema["l"] == pl.List(pl.Int64)
    types = {spec.name: spec.type for spec in tables.describe(REF).columns}
    assert types["l"] == "list<item: int64>"
    assert types["s"] == "struct<a: list<item: int64>>"
    assert stored["l"].to_list() == [[1, 2], None, [3], [], []]
    assert stored["s"].to_list()[:3] == [{"a": [1]}, {"a": None}, {"a": [2, 3]}]


@pytest.mark.parametrize(
    ("column", "stored_as", "value"),
    [
        (pa.array([1.5], pa.float16()), pl.Float32, 1.5),
        (pa.array([dt.date(2020, 1, 2)], pa.date64()), pl.Date, dt.date(2020, 1, 2)),
        (pa.array([b"ab"], pa.binary(2)), pl.Binary, b"ab"),
        (pa.array([Decimal("1.25")], pa.decimal256(20, 2)), pl.Decimal(20, 2), Decimal("1.25")),
    ],
)
def test_types_without_a_delta_counterpart_are_stored_in_one_that_holds_them(
    tables: DeltaTables, column: pa.Array, stored_as: pl.DataType, value: object
) -> None:
    for run_id in ("r1", "r2"):  # a new table, then an append to it
        tables.write(REF, WriteSpec(run_id, Mode.APPEND, "a.parquet"), pa.table({"c": column}))
    stored = rows(tables)
    assert stored.schema["c"] == stored_as
    assert stored["c"].to_list() == [value, value]


def test_text_dictionaries_are_stored_as_strings(tables: DeltaTables) -> None:
    """Dictionary columns (and the provenance columns, written as dictionaries) are stored as
    plain strings, whatever mode adds them; a string column takes dictionary rows."""
    categories = pa.array(["b", "a", "b", None]).dictionary_encode()
    tables.write(REF, WriteSpec("r1", Mode.APPEND, "a.csv"), pa.table({"c": categories}))
    # The first version's specs come from the written batches, dictionaries included.
    first = {c.name: c for c in tables.describe(REF, 0).columns}
    assert [first[name].type for name in ("c", "depictio_run_id", "depictio_file")] == [
        "string"
    ] * 3
    assert (first["c"].min.string_value, first["c"].max.string_value) == ("a", "b")
    assert [(v.value.string_value, v.count) for v in first["c"].top_values] == [("b", 2), ("a", 1)]
    more = pa.table({"c": pa.array(["a", "c"], pa.large_string()).dictionary_encode()})
    tables.write(REF, WriteSpec("r2", Mode.APPEND, "b.csv"), more)
    replaced = pa.table({"c": pa.array(["d"]).dictionary_encode()})
    tables.write(REF, WriteSpec("r1", Mode.REPLACE_RUN, "a2.csv"), replaced)
    schema = tables.arrow_schema(tables.open(REF))
    assert {name: str(schema.field(name).type) for name in schema.names} == {
        "c": "string",
        "depictio_run_id": "string",
        "depictio_file": "string",
    }
    frame = rows(tables).sort("c")
    assert frame.rows() == [("a", "r2", "b.csv"), ("c", "r2", "b.csv"), ("d", "r1", "a2.csv")]
    described = {c.name: c for c in tables.describe(REF).columns}
    assert described["depictio_file"].type == "string"
    assert [(v.value.string_value, v.count) for v in described["c"].top_values] == [
        ("a", 1),
        ("c", 1),
        ("d", 1),
    ]


def test_data_files_are_lz4_compressed_with_dictionaries_for_text_only(
    tables: DeltaTables,
) -> None:
    data = pa.table({"n": list(range(1000)), "s": [f"v{i % 7}" for i in range(1000)]})
    tables.write(REF, WriteSpec("r1", Mode.APPEND, "a.csv"), data)
    (uri,) = tables.open(REF).file_uris()
    filesystem = tables.storage.filesystem()
    with filesystem.open_input_file(uri.removeprefix("s3://")) as handle:
        metadata = pq.ParquetFile(handle).metadata
    chunks = {
        metadata.schema.column(i).name: metadata.row_group(0).column(i)
        for i in range(metadata.num_columns)
    }
    assert {name: chunk.compression for name, chunk in chunks.items()} == dict.fromkeys(
        ["n", "s", "depictio_run_id", "depictio_file"], "LZ4"
    )
    dictionary = {name: chunk.dictionary_page_offset is not None for name, chunk in chunks.items()}
    assert dictionary == {"n": False, "s": True, "depictio_run_id": True, "depictio_file": True}


def test_a_broken_stream_is_refused_before_any_commit(tables: DeltaTables) -> None:
    tables.write(REF, WriteSpec("r1", Mode.APPEND), pa.table({"x": [1]}))
    payload = table_to_ipc(pa.table({"x": list(range(1000))}))
    spec = WriteSpec("r2", Mode.APPEND)

    def write_stream(chunks: list[bytes], where: str) -> None:
        tables.write_batches(REF, spec, open_stream(chunks, where), where)

    with pytest.raises(InvalidArgument, match="half.arrow: not a complete Arrow IPC stream"):
        write_stream([payload[: len(payload) // 2]], "half.arrow")
    with pytest.raises(InvalidArgument, match="junk: not a complete Arrow IPC stream"):
        write_stream([b"not arrow at all"], "junk")
    assert tables.open(REF).version() == 0
    assert rows(tables)["x"].to_list() == [1]


def test_a_stream_refused_after_some_batches_were_written_leaves_the_table_as_it_was(
    tables: DeltaTables,
) -> None:
    """A refusal in a late batch (a run the header does not list) ends the write with that
    error once every batch before it was taken, and nothing is committed."""
    tables.write(REF, WriteSpec("r1", Mode.APPEND, "a.csv"), pa.table({"x": [1, 2]}))
    schema = pa.schema([("x", pa.int64()), ("depictio_run_id", pa.string())])
    pulled = []

    def batches() -> Iterator[pa.RecordBatch]:
        for index in range(4):
            pulled.append(index)
            runs = ["r1"] * 99_999 + (["r9"] if index == 3 else ["r1"])
            yield pa.record_batch([pa.array(range(100_000)), pa.array(runs)], schema=schema)

    spec = WriteSpec("", Mode.REPLACE_RUNS, "late.csv", run_ids=("r1",))
    with pytest.raises(InvalidArgument, match=r"late.csv: rows name runs \['r9'\]"):
        tables.write_batches(REF, spec, pa.RecordBatchReader.from_batches(schema, batches()))
    assert pulled == [0, 1, 2, 3]
    assert tables.open(REF).version() == 0
    assert rows(tables)["x"].to_list() == [1, 2]


def test_run_ids_must_be_printable() -> None:
    with pytest.raises(InvalidArgument, match="run_id"):
        WriteSpec("", Mode.REPLACE_RUN)
    with pytest.raises(InvalidArgument, match="run_id"):
        WriteSpec("a\nb", Mode.APPEND)
    # A final newline too (a regular expression's `$` matches before one).
    with pytest.raises(InvalidArgument, match="run_id"):
        WriteSpec("r1\n", Mode.REPLACE_RUN)
    for control in ("\x7f", "\x85", "\u2028"):  # DEL, a C1 control, a line separator
        with pytest.raises(InvalidArgument, match="without control characters or line breaks"):
            WriteSpec(f"r{control}1", Mode.APPEND)
    assert WriteSpec("échantillon 1 — ☃", Mode.APPEND).run_id == "échantillon 1 — ☃"
    with pytest.raises(InvalidArgument, match=r"run_ids\[1\]"):
        WriteSpec("", Mode.REPLACE_RUNS, run_ids=("ok", "bad\tid"))
    with pytest.raises(InvalidArgument, match="only when header.run_id is empty"):
        WriteSpec("r0", Mode.APPEND, run_ids=("r1",))


def test_rows_carry_their_own_run_ids_when_the_header_has_none(tables: DeltaTables) -> None:
    spec = WriteSpec("", Mode.APPEND, "many.csv", run_ids=("r1", "r2"))
    with pytest.raises(InvalidArgument, match=r"rows name runs \['r3'\] that header.run_ids"):
        tables.write(REF, spec, pa.table({"x": [1, 2], "depictio_run_id": ["r1", "r3"]}))
    with pytest.raises(InvalidArgument, match="need a depictio_run_id column"):
        tables.write(REF, spec, pa.table({"x": [1]}))
    with pytest.raises(InvalidArgument, match="1 null values"):
        tables.write(REF, spec, pa.table({"x": [1, 2], "depictio_run_id": ["r1", None]}))
    assert not tables.exists(REF)
    tables.write(REF, spec, pa.table({"x": [1, 2, 3], "depictio_run_id": ["r1", "r2", "r2"]}))
    frame = rows(tables).sort("x")
    assert frame["depictio_run_id"].to_list() == ["r1", "r2", "r2"]
    assert frame["depictio_file"].to_list() == ["many.csv"] * 3


def test_replace_runs_swaps_several_runs_in_one_commit(tables: DeltaTables) -> None:
    def write(table: pa.Table, mode: Mode, replace: tuple[str, ...] = ()) -> int:
        return tables.write(REF, WriteSpec("", mode, run_ids=replace), table).version

    write(
        pa.table({"x": [1, 2, 3], "depictio_run_id": ["a", "b", "c"]}), Mode.APPEND, ("a", "b", "c")
    )
    # b's rows are replaced, c named without rows loses its rows, d is new, a is untouched.
    version = write(
        pa.table({"x": [20, 21, 40], "depictio_run_id": ["b", "b", "d"]}),
        Mode.REPLACE_RUNS,
        ("b", "c", "d"),
    )
    assert version == 1
    frame = rows(tables).sort("x")
    assert list(zip(frame["depictio_run_id"], frame["x"], strict=True)) == [
        ("a", 1),
        ("b", 20),
        ("b", 21),
        ("d", 40),
    ]
    assert tables.history(REF)[0].run_ids == ["b", "c", "d"]


def test_a_run_id_with_quotes_replaces_only_its_rows(tables: DeltaTables) -> None:
    tables.write(REF, WriteSpec("it's", Mode.APPEND), pa.table({"x": [1]}))
    tables.write(REF, WriteSpec("other", Mode.APPEND), pa.table({"x": [2]}))
    tables.write(REF, WriteSpec("it's", Mode.REPLACE_RUN), pa.table({"x": [3]}))
    assert sorted(rows(tables)["x"].to_list()) == [2, 3]


def test_time_travel_history_and_missing_versions(tables: DeltaTables) -> None:
    with pytest.raises(NotFound, match="no table yet"):
        tables.open(REF)
    tables.write(REF, WriteSpec("r1", Mode.APPEND), pa.table({"x": [1]}))
    tables.write(REF, WriteSpec("r2", Mode.APPEND), pa.table({"x": [2, 3]}))
    assert rows(tables, 0)["x"].to_list() == [1]
    with pytest.raises(NotFound, match="no version 5"):
        tables.open(REF, 5)
    tables.write(REF, WriteSpec("r1", Mode.REPLACE_RUN), pa.table({"x": [4]}))
    tables.write(REF, WriteSpec("r3", Mode.OVERWRITE), pa.table({"x": [5]}))
    tables.optimize(REF)  # one file: nothing to compact, no version
    tables.restore(REF, 1)
    history = tables.history(REF)
    # Every write is a WRITE to Delta: the mode tells them apart.
    assert [(h.version, h.operation, h.rows, h.run_ids, h.mode) for h in history] == [
        (4, "RESTORE", 0, [], ""),
        (3, "WRITE", 1, ["r3"], "overwrite"),
        (2, "WRITE", 1, ["r1"], "replace_run"),
        (1, "WRITE", 2, ["r2"], "append"),
        (0, "WRITE", 1, ["r1"], "append"),
    ]
    assert history[0].timestamp_ms >= history[-1].timestamp_ms > 0


@pytest.fixture(params=["in memory", "lazily", "in column chunks"])
def counted(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """How specs are counted: small tables in memory, long ones by lazy scans of storage,
    wide ones so many columns at a time in memory (here: 500 columns of 40 rows)."""
    if request.param == "lazily":
        monkeypatch.setattr(specs_module, "SMALL_TABLE_CELLS", 0)
        monkeypatch.setattr(specs_module, "WIDE_COLUMNS", 10**6)
    if request.param == "in column chunks":
        monkeypatch.setattr(specs_module, "SMALL_TABLE_CELLS", 40 * 500)
        monkeypatch.setattr(specs_module, "WIDE_COLUMNS", 2)
    return str(request.param)


def test_describe_matches_polars(tables: DeltaTables, counted: str) -> None:
    data = pa.table(
        {
            "n": [3, 1, None, 3, 7],
            "f": [0.5, None, 2.5, 0.5, 4.0],
            "s": ["b", "a", "b", None, "b"],
        }
    )
    tables.write(REF, WriteSpec("r1", Mode.APPEND, "a.csv"), data)
    described = tables.describe(REF)
    frame = pl.from_arrow(data)
    assert described.rows == 5 and described.version == 0
    specs = {spec.name: spec for spec in described.columns}
    assert [spec.name for spec in described.columns] == [
        *data.column_names,
        "depictio_run_id",
        "depictio_file",
    ]
    for name in data.column_names:
        column = frame[name]
        spec = specs[name]
        assert spec.count == column.count()
        assert spec.nulls == column.null_count()
        assert spec.nunique == column.drop_nulls().n_unique()
    assert specs["n"].type == "int64" and specs["s"].type == "string"
    assert (specs["n"].min.int_value, specs["n"].max.int_value) == (1, 7)
    assert specs["f"].mean == pytest.approx(frame["f"].mean())
    assert [(v.value.string_value, v.count) for v in specs["s"].top_values] == [("b", 3), ("a", 1)]
    assert not specs["s"].HasField("mean")
    # The specs are stored beside the table and read back unchanged.
    assert tables.describe(REF) == described


def test_describe_leaves_long_text_out_of_min_max_and_top_values(
    tables: DeltaTables, counted: str
) -> None:
    """A 3 MB value listed in a column's min, max and top values made every Describe larger
    than a gRPC message: values over MAX_LISTED_CHARS are counted but not listed."""
    long_value = "A" * 3_000_000
    data = pa.table({"seq": [long_value, "C", "C", "G"], "name": ["a", "b", "c", long_value]})
    tables.write(REF, WriteSpec("r1", Mode.APPEND, "a.parquet"), data)
    specs = {spec.name: spec for spec in tables.describe(REF).columns}
    assert specs["seq"].nunique == 3 and specs["name"].nunique == 4
    assert [(v.value.string_value, v.count) for v in specs["seq"].top_values] == [
        ("C", 2),
        ("G", 1),
    ]
    # min and max of the values short enough to be listed
    assert (specs["seq"].min.string_value, specs["seq"].max.string_value) == ("C", "G")
    assert (specs["name"].min.string_value, specs["name"].max.string_value) == ("a", "c")
    assert specs["seq"].ByteSize() < 10_000


def test_describe_of_columns_named_value_and_count(tables: DeltaTables, counted: str) -> None:
    data = pa.table({"gene": ["a", "b", "a"], "count": [3, 4, 3], "value": [1.0, 1.0, 2.0]})
    tables.write(REF, WriteSpec("r1", Mode.APPEND, "a.csv"), data)
    specs = {spec.name: spec for spec in tables.describe(REF).columns}
    assert [(v.value.int_value, v.count) for v in specs["count"].top_values] == [(3, 2), (4, 1)]
    assert [(v.value.double_value, v.count) for v in specs["value"].top_values] == [
        (1.0, 2),
        (2.0, 1),
    ]


def test_long_text_is_left_out_of_the_top_values_of_a_dictionary_column() -> None:
    """Specs after a write read the written batches: text dictionaries there are polars
    Categoricals, whose long values are left out as text values are."""
    long_values = ["ACGT" * 500 + str(i) for i in range(2)]
    codes = pa.array(np.arange(30) % 3, pa.int32())
    column = pa.DictionaryArray.from_arrays(codes, pa.array([*long_values, "short"]))
    frame = pl.scan_pyarrow_dataset(pa_dataset.dataset(pa.table({"seq": column})))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(specs_module, "SMALL_TABLE_CELLS", 0)  # counted lazily
        [spec] = specs_module.compute_specs(frame, 0).columns
    assert [(v.value.string_value, v.count) for v in spec.top_values] == [("short", 10)]
    assert spec.nunique == 3


# Counted lazily, 1,500 columns take a minute (the reason for the other two ways).
@pytest.mark.parametrize("counted", ["in memory", "in column chunks"], indirect=True)
def test_describe_of_a_wide_table_matches_polars(tables: DeltaTables, counted: str) -> None:
    rng = np.random.default_rng(4)
    data = pa.table({f"g{i}": rng.integers(0, 5, 40) for i in range(1_500)})
    tables.write(REF, WriteSpec("r1", Mode.APPEND, "wide.csv"), data)
    specs = {spec.name: spec for spec in tables.describe(REF).columns}
    frame = pl.from_arrow(data)
    for name in ("g0", "g777", "g1499"):
        counts = frame[name].value_counts(name="n").sort(["n", name], descending=[True, False])
        assert specs[name].nunique == frame[name].n_unique()
        assert [(v.value.int_value, v.count) for v in specs[name].top_values] == counts.rows()
        assert specs[name].mean == pytest.approx(frame[name].mean())


def test_describe_counts_nested_columns(tables: DeltaTables, counted: str) -> None:
    data = pa.table(
        {
            "l": pa.array([[1], [2, 3], [1], None]),
            "st": pa.array([{"x": 1}, {"x": 2}, {"x": 1}, {"x": 1}]),
            "m": pa.array(
                [[("a", 1)], [("a", 1)], None, [("b", 2)]], pa.map_(pa.string(), pa.int64())
            ),
        }
    )
    tables.write(REF, WriteSpec("r1", Mode.APPEND, "a.parquet"), data)
    specs = {spec.name: spec for spec in tables.describe(REF).columns}
    frame = pl.from_arrow(data)
    for name in data.column_names:
        assert specs[name].count == frame[name].count()
        assert specs[name].nulls == frame[name].null_count()
        assert specs[name].nunique == frame[name].drop_nulls().n_unique(), name


def test_optimize_vacuum_restore(tables: DeltaTables) -> None:
    for run in range(4):
        tables.write(REF, WriteSpec(f"r{run}", Mode.APPEND), pa.table({"x": [run]}))
    removed, added = tables.optimize(REF)
    assert (removed, added) == (4, 1)
    assert sorted(rows(tables)["x"].to_list()) == [0, 1, 2, 3]
    restored = tables.restore(REF, 1)
    assert restored == 5
    assert sorted(rows(tables)["x"].to_list()) == [0, 1]
    with pytest.raises(InvalidArgument):
        tables.vacuum(REF, -1)
    assert tables.vacuum(REF, 0) >= 1
    assert sorted(rows(tables)["x"].to_list()) == [0, 1]
    with pytest.raises(NotFound):
        tables.restore(REF, 99)
    # Version 3's files (before the optimize) are gone with the vacuum: said so, nothing done.
    with pytest.raises(NotFound, match="version 3 can no longer be read.*removed by a vacuum"):
        tables.restore(REF, 3)
    assert sorted(rows(tables)["x"].to_list()) == [0, 1]


@pytest.mark.parametrize("shared_lock", [True, False], ids=["one-store", "eight-stores"])
def test_eight_concurrent_appends_make_contiguous_versions(
    tables: DeltaTables, shared_lock: bool
) -> None:
    """Appends from 8 threads; with eight stores nothing in-process serialises them."""
    tables.write(REF, WriteSpec("seed", Mode.APPEND), pa.table({"x": [0]}))
    stores = [tables if shared_lock else DeltaTables(tables.storage) for _ in range(8)]

    def append(index: int) -> int:
        data = pa.table({"x": list(range(1, 11))})
        return stores[index].write(REF, WriteSpec(f"run-{index}", Mode.APPEND), data).version

    with ThreadPoolExecutor(8) as pool:
        versions = sorted(pool.map(append, range(8)))
    assert versions == list(range(1, 9))
    assert tables.open(REF).version() == 8
    frame = rows(tables)
    assert frame.height == 81
    assert frame.group_by("depictio_run_id").len().filter(pl.col("len") == 10).height == 8


def test_write_messages_carry_the_stream_in_bounded_messages() -> None:
    table = pa.table({"a": list(range(300_000)), "s": [str(i) for i in range(300_000)]})
    header = data_pb2.WriteHeader(data_collection_id="dc-1", run_id="r1")
    messages = itertools.chain.from_iterable(ipc_messages(table.schema, table.to_batches(70_000)))

    async def framed() -> list[data_pb2.WriteTableRequest]:
        requests = [
            message
            if isinstance(message, data_pb2.WriteTableRequest)
            else data_pb2.WriteTableRequest.FromString(message)
            async for message in write_messages(header, messages)
        ]
        return requests

    first, *rest = asyncio.run(framed())
    assert first.header == header
    payloads = [request.arrow_ipc for request in rest]
    # Every message but the last carries exactly MAX_CHUNK_BYTES of the stream.
    assert len(payloads) > 3
    assert {len(payload) for payload in payloads[:-1]} == {MAX_CHUNK_BYTES}
    assert 0 < len(payloads[-1]) <= MAX_CHUNK_BYTES
    assert batches_from_chunks(payloads).read_all().equals(table)


@pytest.mark.parametrize("limit", [1024 * 1024, 4096, 100])
def test_packed_payloads_are_bounded_and_keep_whole_messages_together(limit: int) -> None:
    table = pa.table({"n": np.arange(50_000), "x": np.linspace(0.0, 1.0, 50_000)})
    batches = table.to_batches(max_chunksize=2_000)
    messages = [b"".join(parts) for parts in ipc_messages(table.schema, batches)]
    # The messages are the stream Arrow's own writer writes.
    assert b"".join(messages) == table_to_ipc(pa.Table.from_batches(batches))
    payloads = [b"".join(parts) for parts in packed(([m] for m in messages), limit)]
    assert all(0 < len(payload) <= limit for payload in payloads)
    assert b"".join(payloads) == b"".join(messages)
    assert table_from_chunks(payloads).equals(table)
    sizes = [len(message) for message in messages]
    if max(sizes) <= limit:
        # No message cut: each payload ends where a message ends.
        ends = set(itertools.accumulate(sizes))
        assert set(itertools.accumulate(len(p) for p in payloads)) <= ends


def test_ipc_messages_hand_over_the_batches_own_memory() -> None:
    """Each message comes as its parts: the body's columns are views of the batch's buffers
    (framing a message is its only copy), and the parts make Arrow's own stream."""
    values = np.arange(1_000, dtype=np.int64)
    table = pa.table({"n": values, "s": [f"v{i}" for i in range(1_000)]})
    batch = table.to_batches()[0].slice(10, 500)
    schema_parts, body_parts, end_parts = list(ipc_messages(table.schema, [batch]))
    assert b"".join(schema_parts) == table.schema.serialize().to_pybytes()
    assert b"".join(body_parts) == batch.serialize().to_pybytes()
    assert b"".join(end_parts) == END_OF_STREAM
    n_data = batch.column("n").buffers()[1]
    first_value = n_data.address + batch.column("n").offset * 8
    addresses = {part.address for part in body_parts if isinstance(part, pa.Buffer)}
    assert first_value in addresses


def test_ipc_messages_take_batches_declared_not_nullable() -> None:
    schema = pa.schema([pa.field("x", pa.int64(), nullable=False)])
    messages = [b"".join(parts) for parts in ipc_messages(schema, [pa.record_batch({"x": [1, 2]})])]
    assert table_from_chunks(messages).column("x").to_pylist() == [1, 2]


def test_ipc_messages_of_no_batches_are_the_schema_and_the_end() -> None:
    schema = pa.schema([("n", pa.int64()), ("s", pa.string())])
    messages = [b"".join(parts) for parts in ipc_messages(schema, [])]
    assert messages == [schema.serialize().to_pybytes(), END_OF_STREAM]
    assert table_from_chunks(messages).equals(schema.empty_table())


@pytest.mark.parametrize("piece", [None, 3000, 70_000])
def test_table_from_chunks_decodes_whole_and_cut_messages(piece: int | None) -> None:
    """Whole messages per chunk (as data_svc sends them) and arbitrary cuts give the table."""
    rng = np.random.default_rng(3)
    table = pa.table(
        {"n": rng.integers(0, 1000, 50_000), "s": [f"v{i % 97}" for i in range(50_000)]}
    )
    whole = table_to_ipc(table)
    if piece is None:
        # One chunk per IPC message: the stream re-serialized message by message.
        batches = table.to_batches(max_chunksize=4_000)
        chunks: list[bytes] = [table.schema.serialize().to_pybytes()]
        chunks += [batch.serialize().to_pybytes() for batch in batches]
        chunks.append(END_OF_STREAM)
    else:
        chunks = [whole[i : i + piece] for i in range(0, len(whole), piece)]
    assert table_from_chunks(chunks).equals(table)


def test_pooled_chunks_decode_to_the_table_without_holding_the_received_messages() -> None:
    table = pa.table({"n": np.arange(20_000), "x": np.linspace(0.0, 1.0, 20_000)})
    received = [bytearray(table.schema.serialize().to_pybytes())]
    received += [
        bytearray(b.serialize().to_pybytes()) for b in table.to_batches(max_chunksize=3_000)
    ]
    received.append(bytearray(END_OF_STREAM))
    decoded = table_from_chunks([pooled(chunk) for chunk in received])
    # The received messages are reused for the next ones: the table holds copies.
    for chunk in received:
        chunk[:] = bytes(len(chunk))
    assert decoded.equals(table)


def test_a_row_wider_than_a_message_decodes_from_pooled_chunks() -> None:
    """A 3 MiB value is cut across messages as data_svc cuts it; the client's copies of the
    received messages (Arrow buffers) still read back as the table."""
    table = pa.table({"sample": ["small", "big", "after"], "w": ["x", "y" * (3 << 20), "z"]})
    messages = ipc_messages(table.schema, table.to_batches(max_chunksize=1))
    payloads = [b"".join(parts) for parts in packed(messages, MAX_CHUNK_BYTES)]
    assert max(len(payload) for payload in payloads) == MAX_CHUNK_BYTES
    # Framed as a ScanResponse, each is a message of at most 1 MiB (4 bytes over, once).
    assert max(len(frame_field_one([payload])) for payload in payloads) == 1024 * 1024
    assert table_from_chunks([pooled(payload) for payload in payloads]).equals(table)


def test_table_from_chunks_refuses_a_truncated_stream() -> None:
    whole = table_to_ipc(pa.table({"n": list(range(10_000))}))
    with pytest.raises((pa.ArrowInvalid, EOFError, OSError)):
        table_from_chunks([whole[: len(whole) // 2]])


def test_specs_count_exactly_up_to_ten_thousand_distinct_values(tables: DeltaTables) -> None:
    rows = 30_000
    data = pa.table({"many": np.arange(rows), "few": np.arange(rows) % 7})
    tables.write(REF, WriteSpec("r", Mode.APPEND), data)
    specs = {column.name: column for column in tables.describe(REF).columns}
    assert (specs["few"].nunique, specs["few"].nunique_estimated) == (7, False)
    assert sorted(v.value.int_value for v in specs["few"].top_values) == list(range(7))
    assert specs["many"].nunique_estimated
    assert abs(specs["many"].nunique - rows) / rows < 0.05
    assert not specs["many"].top_values
    assert (specs["many"].min.int_value, specs["many"].max.int_value) == (0, rows - 1)


def test_a_hot_version_holds_repetitive_strings_encoded_and_answers_with_strings(
    delta_storage: tuple[str, dict[str, str]],
) -> None:
    _, env = delta_storage
    storage = Storage.from_settings(settings_from_env(env))
    storage.prepare()
    tables = DeltaTables(storage, HotTables(64 * 1024 * 1024))
    taxa = ["Nostoc", "Bacillus", "Vibrio"]
    data = pa.table(
        {
            "taxon": [taxa[i % 3] for i in range(300)],
            "label": [f"read-{i}" for i in range(300)],
            "n": list(range(300)),
        }
    )
    tables.write(REF, WriteSpec("r1", Mode.APPEND, "a.tsv"), data)
    table = tables.open(REF)
    hot = tables.frame(table).collect_schema()
    # Three taxa (and one run, one file) repeat; 300 distinct labels do not.
    encoded_columns = {name for name, dtype in hot.items() if isinstance(dtype, pl.Categorical)}
    assert encoded_columns == {"taxon", "depictio_run_id", "depictio_file"}

    scan = scan_frame(tables.frame(table), data_pb2.ScanRequest()).collect()
    assert scan.schema["taxon"] == pl.String and scan.schema["label"] == pl.String
    assert scan["taxon"].to_list() == data.column("taxon").to_pylist()
    types = {column.name: column.type for column in tables.describe(REF).columns}
    assert types["taxon"] == "string" and types["depictio_run_id"] == "string"

    query = data_pb2.ComponentQuery(
        aggregate=data_pb2.AggregateQuery(
            columns=["n", "taxon"],
            aggregations=[data_pb2.AGGREGATION_MAX],
            group_by=["taxon"],
        )
    )
    only = in_filter("taxon", ["Vibrio", "Nostoc", "Absent"])
    [result] = run_batch(tables.frame(table), only, [("queries[0]", query)], 0)
    answer = ipc_to_table(result.arrow_ipc)
    assert answer.schema.field("taxon").type == pa.large_string()
    # Hand-checked: Nostoc rows are n = 0, 3, …, 297; Vibrio rows n = 2, 5, …, 299.
    assert answer.to_pydict() == {
        "taxon": ["Nostoc", "Vibrio"],
        "max(n)": [297, 299],
        "max(taxon)": ["Nostoc", "Vibrio"],
    }


def test_a_hot_version_of_several_files_keeps_every_row_whole(
    delta_storage: tuple[str, dict[str, str]],
) -> None:
    """Loaded a column at a time, a version written in several commits has its rows as
    stored: each value beside the others of its row."""
    _, env = delta_storage
    storage = Storage.from_settings(settings_from_env(env))
    storage.prepare()
    tables = DeltaTables(storage, HotTables(64 * 1024 * 1024))
    rng = np.random.default_rng(9)
    for run in range(4):
        n = 5_000 + 1_000 * run
        ids = np.arange(n) + 100_000 * run
        tables.write(
            REF,
            WriteSpec(f"r{run}", Mode.APPEND, f"{run}.csv"),
            pa.table(
                {
                    "id": ids,
                    "label": [f"L{i % 7}" for i in ids],
                    "x": rng.normal(size=n),
                    "tag": [f"t{i}" for i in ids],
                }
            ),
        )
    table = tables.open(REF)
    hot = tables.frame(table).collect()
    assert hot.n_chunks("all") == [1] * hot.width
    assert isinstance(hot.schema["label"], pl.Categorical)
    stored = pl.from_arrow(table.to_pyarrow_table())
    assert isinstance(stored, pl.DataFrame)
    key = ["depictio_file", "id"]
    # Each row's values belong together: the id names its label and its tag.
    decoded_hot = hot.with_columns(pl.col(pl.Categorical).cast(pl.String))
    assert decoded_hot.sort(key).equals(stored.select(decoded_hot.columns).sort(key))
    assert (decoded_hot["label"] == ("L" + (decoded_hot["id"] % 7).cast(pl.String))).all()
    assert (decoded_hot["tag"] == ("t" + decoded_hot["id"].cast(pl.String))).all()


def test_a_projects_tables_are_deleted_after_the_specs_being_computed(
    tables: DeltaTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The specs of a version just written are computed in the background and stored beside
    the table: stored after the deletion, they brought the project's folder back."""
    from data_svc import tables as tables_module

    release = threading.Event()
    real = tables_module.compute_specs

    def held_specs(*args: Any, **kwargs: Any) -> data_pb2.DescribeResponse:
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(tables_module, "compute_specs", held_specs)
    other = TableRef("project-1", "dc-2")
    tables.write(REF, WriteSpec("r1", Mode.APPEND, "a.csv"), pa.table({"x": [1, 2]}))
    tables.write(other, WriteSpec("r1", Mode.APPEND, "b.csv"), pa.table({"y": ["a"]}))
    with ThreadPoolExecutor(1) as pool:
        deleting = pool.submit(tables.delete_project, "project-1")
        time.sleep(0.3)
        assert not deleting.done()  # waits for the specs
        release.set()
        assert deleting.result(timeout=30) == 2
    listed = tables.storage.filesystem().get_file_info(
        pa_fs.FileSelector(
            tables.storage.project_uri("project-1").removeprefix("s3://"), allow_not_found=True
        )
    )
    assert listed == []
    with pytest.raises(NotFound):
        tables.open(REF)


def test_concurrent_describes_of_a_version_without_specs_compute_them_once(
    tables: DeltaTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version made by an optimize has no specs yet: four callers at once wait for one
    computation (each computed its own, and a caller past its deadline left it running)."""
    from data_svc import tables as tables_module

    for run in range(3):
        tables.write(REF, WriteSpec(f"r{run}", Mode.APPEND), pa.table({"x": [run, run + 10]}))
    tables.describe(REF)  # the specs of the last write, computed in the background
    tables.optimize(REF)
    # Without them, the optimized version's specs cannot be taken over from version 2.
    tables.storage.filesystem().delete_file(tables.storage.side_path(REF, tables.specs_name(2)))
    computed: list[int] = []
    real = tables_module.compute_specs

    def counted_specs(frame: pl.LazyFrame, version: int) -> data_pb2.DescribeResponse:
        computed.append(version)
        time.sleep(0.5)  # long enough for the other callers to arrive
        return real(frame, version)

    monkeypatch.setattr(tables_module, "compute_specs", counted_specs)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: tables.describe(REF), range(4)))
    assert computed == [3]
    assert all(answer == answers[0] for answer in answers)
    assert answers[0].rows == 6 and answers[0].columns[0].nunique == 6
    assert tables.describe(REF) == answers[0]  # stored: not computed again
    assert computed == [3]


def test_a_failed_specs_computation_is_tried_again(
    tables: DeltaTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The specs of a write are stored in the background: when storing them failed once
    (storage briefly out of reach), every later Describe of that version raised that error."""
    real = tables.store_specs
    failures = [OSError("storage out of reach")]

    def store_once_failing(ref: TableRef, specs: data_pb2.DescribeResponse) -> None:
        if failures:
            raise failures.pop()
        real(ref, specs)

    monkeypatch.setattr(tables, "store_specs", store_once_failing)
    tables.write(REF, WriteSpec("r1", Mode.APPEND), pa.table({"x": [1, 2, 2]}))
    described = tables.describe(REF)
    assert not failures
    assert (described.rows, described.columns[0].nunique) == (3, 2)
    assert tables.describe(REF) == described


def test_vacuum_deletes_each_file_once_and_files_no_version_lists_once_old(
    tables: DeltaTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second vacuum counted the files the first had deleted again and committed two more
    versions; files written by a write refused after writing them were never deleted."""
    from data_svc import tables as tables_module

    for run in range(3):
        tables.write(REF, WriteSpec(f"r{run}", Mode.OVERWRITE), pa.table({"x": [run]}))
    described = tables.describe(REF)  # stored beside the table (not a Delta file)
    filesystem = tables.storage.filesystem()
    orphan = tables.storage.uri(REF).removeprefix("s3://") + "/part-refused-write.parquet"
    with filesystem.open_output_stream(orphan) as out:
        out.write(b"written by a write whose commit was refused")
    before = tables.open(REF).version()
    # The two overwritten files; the orphan is younger than ORPHAN_MIN_AGE_HOURS.
    assert tables.vacuum(REF, 0) == 2
    assert filesystem.get_file_info(orphan).type == pa_fs.FileType.File
    vacuumed = tables.open(REF).version()
    assert vacuumed == before + 2  # VACUUM START and VACUUM END
    assert tables.vacuum(REF, 0) == 0
    assert tables.open(REF).version() == vacuumed
    monkeypatch.setattr(tables_module, "ORPHAN_MIN_AGE_HOURS", 0)
    assert tables.vacuum(REF, 0) == 1
    assert filesystem.get_file_info(orphan).type == pa_fs.FileType.NotFound
    assert rows(tables)["x"].to_list() == [2]
    assert tables.storage.read_side_file(REF, tables.specs_name(described.version)) is not None


def test_restoring_the_current_version_commits_nothing(tables: DeltaTables) -> None:
    tables.write(REF, WriteSpec("r1", Mode.APPEND), pa.table({"x": [1]}))
    tables.write(REF, WriteSpec("r2", Mode.APPEND), pa.table({"x": [2]}))
    assert tables.restore(REF, 1) == 1
    assert tables.open(REF).version() == 1
    assert sorted(rows(tables)["x"].to_list()) == [1, 2]


def test_a_write_still_streaming_when_its_project_is_deleted_writes_nothing(
    tables: DeltaTables,
) -> None:
    """Its commit, made after the deletion, brought the table back (orphaned: the project's
    metadata is deleted next)."""
    tables.write(REF, WriteSpec("r1", Mode.APPEND), pa.table({"x": [1, 2]}))
    schema = pa.schema([("x", pa.int64())])
    streaming, deleted = threading.Event(), threading.Event()

    def batches() -> Iterator[pa.RecordBatch]:
        yield pa.record_batch([pa.array([3])], schema=schema)
        streaming.set()
        deleted.wait(30)
        yield pa.record_batch([pa.array([4])], schema=schema)

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    with ThreadPoolExecutor(1) as pool:
        writing = pool.submit(tables.write_batches, REF, WriteSpec("r2", Mode.APPEND), reader)
        assert streaming.wait(30)
        assert tables.delete_project(REF.project_id) == 1
        deleted.set()
        with pytest.raises(FailedPrecondition, match="deleted while this write ran"):
            writing.result(timeout=30)
    project = tables.storage.project_uri(REF.project_id).removeprefix("s3://")
    listed = tables.storage.filesystem().get_file_info(
        pa_fs.FileSelector(project, allow_not_found=True)
    )
    assert listed == []
    with pytest.raises(NotFound):
        tables.open(REF)
    # A write that starts after the deletion makes a new table.
    written = tables.write(REF, WriteSpec("r3", Mode.APPEND), pa.table({"x": [5]}))
    assert written.version == 0 and rows(tables)["x"].to_list() == [5]


def test_versions_of_the_same_rows_take_over_their_specs(
    tables: DeltaTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An optimize, a vacuum and a restore keep (or bring back) rows whose specs are stored:
    they were computed again from the whole table."""
    from data_svc import tables as tables_module

    for run in range(3):
        tables.write(REF, WriteSpec(f"r{run}", Mode.APPEND), pa.table({"x": [run, run + 10]}))
    at_two = tables.describe(REF)
    tables.write(REF, WriteSpec("r3", Mode.APPEND), pa.table({"x": [99]}))
    computed: list[int] = []
    real = tables_module.compute_specs

    def counted_specs(frame: pl.LazyFrame, version: int) -> data_pb2.DescribeResponse:
        computed.append(version)
        return real(frame, version)

    monkeypatch.setattr(tables_module, "compute_specs", counted_specs)
    tables.restore(REF, 2)  # version 4: the rows of version 2
    tables.optimize(REF)  # version 5
    # Version 3 (the append) is computed, as it must be.
    assert tables.describe(REF, 3).rows == 7 and computed == [3]
    tables.vacuum(REF, 0)  # versions 6 and 7
    assert tables.open(REF).version() == 7
    latest = tables.describe(REF)
    assert computed == [3]
    assert latest.version == 7 and latest.rows == 6
    assert list(latest.columns) == list(at_two.columns)
    expected = pl.from_arrow(tables.open(REF).to_pyarrow_table())
    x = next(spec for spec in latest.columns if spec.name == "x")
    assert (x.count, x.nunique, x.min.int_value, x.max.int_value) == (
        expected["x"].count(),
        expected["x"].n_unique(),
        expected["x"].min(),
        expected["x"].max(),
    )


def test_a_write_of_many_batches_keeps_their_rows_in_order(tables: DeltaTables) -> None:
    """delta-rs wrote the chunks of one table side by side: an unsorted scan gave the rows of
    an upload of several messages back shuffled."""
    schema = pa.schema([("id", pa.int64())])
    batches = [
        pa.record_batch([pa.array(range(start, start + 1_000))], schema=schema)
        for start in range(0, 50_000, 1_000)
    ]
    reader = pa.RecordBatchReader.from_batches(schema, iter(batches))
    tables.write_batches(REF, WriteSpec("r1", Mode.APPEND), reader)
    assert rows(tables)["id"].to_list() == list(range(50_000))
    more = pa.RecordBatchReader.from_batches(schema, iter(batches[:3]))
    tables.write_batches(REF, WriteSpec("r2", Mode.REPLACE_RUN), more)
    # Each write's rows in order (the order of the files of several writes is Delta's).
    second = rows(tables).filter(pl.col("depictio_run_id") == "r2")
    assert second["id"].to_list() == list(range(3_000))
