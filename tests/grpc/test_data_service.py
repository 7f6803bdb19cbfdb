"""data_svc over gRPC with real auth_svc, metadata_svc and Redis: roles, streams, refused writes."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import yaml
from conftest import MakeStack
from data_support import (
    ABUNDANCE,
    BIG_ROWS,
    DIRECT_LINK,
    SAMPLES,
    LinkedProject,
    data,
    linked_project,
    project_with_a_big_table,
)
from grpc import aio
from metadata_support import metadata, new_user, run, unique_config

from depictio.arrow_ipc import table_to_ipc
from depictio.clients import data as data_client
from depictio.clients.data import result_table
from depictio.filters import in_filter, python_to_value
from depictio.v1 import common_pb2, data_pb2, data_pb2_grpc

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module", params=["file", "s3"])
def data_stack(
    request: pytest.FixtureRequest, make_stack: MakeStack, redis_url: str
) -> Iterator[Any]:
    """A public-mode stack whose data_svc caches query results in Redis, with its tables on
    local disk, then in a bucket of a moto S3 server."""
    storage = {}
    if request.param == "s3":
        storage = request.getfixturevalue("s3_server").env(f"grpc-{secrets.token_hex(4)}")
    with make_stack(
        DEPICTIO_AUTH_MODE="public", DEPICTIO_REDIS_URL=redis_url, **storage
    ) as running:
        yield running


@pytest.fixture(scope="module")
def project(data_stack: Any) -> LinkedProject:
    """The linked project, its two tables written by the editor."""
    linked = linked_project(data_stack)

    async def fill() -> None:
        client = data(data_stack, linked.people.editor)
        await client.write_table(linked.samples, SAMPLES, run_id="run-1", file="samples.tsv")
        await client.write_table(linked.abundance, ABUNDANCE, run_id="run-1", file="abund.tsv")

    run(fill)
    return linked


def code_of(call: Any) -> grpc.StatusCode:
    """The status code a coroutine factory's call fails with."""
    with pytest.raises(aio.AioRpcError) as caught:
        run(call)
    return caught.value.code()


def test_viewer_reads_but_cannot_write_and_outsiders_get_nothing(
    data_stack: Any, project: LinkedProject
) -> None:
    viewer = data(data_stack, project.people.viewer)
    table = run(lambda: viewer.scan(project.samples, columns=["sample", "ph"]))
    assert table.to_pydict() == SAMPLES.select(["sample", "ph"]).to_pydict()
    refused = code_of(lambda: viewer.write_table(project.samples, SAMPLES, run_id="r9"))
    assert refused == grpc.StatusCode.PERMISSION_DENIED
    for token, expected in (
        (project.people.outsider, grpc.StatusCode.PERMISSION_DENIED),
        ("", grpc.StatusCode.UNAUTHENTICATED),
    ):
        outsider = data(data_stack, token)
        assert code_of(lambda c=outsider: c.scan(project.samples)) == expected
        assert code_of(lambda c=outsider: c.describe(project.samples)) == expected
        assert code_of(lambda c=outsider: c.history(project.samples)) == expected
    maintenance = data(data_stack, project.people.editor)
    assert code_of(lambda: maintenance.optimize(project.samples)) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    assert code_of(lambda: data(data_stack, project.people.owner).scan("no-such-dc")) == (
        grpc.StatusCode.NOT_FOUND
    )


def distinct_taxa() -> data_pb2.ComponentQuery:
    return data_pb2.ComponentQuery(id="taxa", distinct=data_pb2.DistinctQuery(column="taxon"))


def test_a_cached_result_is_never_served_to_a_non_member(
    data_stack: Any, project: LinkedProject
) -> None:
    queries = [distinct_taxa()]
    member = data(data_stack, project.people.viewer)
    first = run(lambda: member.query(queries, project.abundance))
    again = run(lambda: member.query(queries, project.abundance))
    assert first == again
    outsider = data(data_stack, project.people.outsider)
    assert code_of(lambda: outsider.query(queries, project.abundance)) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    assert code_of(lambda: data(data_stack).query(queries, project.abundance)) == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    # A filter on a table the caller may not read is refused too.
    filters = {project.samples: in_filter("site", ["north"])}
    assert code_of(lambda: outsider.query(queries, project.abundance, filters)) == (
        grpc.StatusCode.PERMISSION_DENIED
    )


def test_query_follows_links_and_matches_polars(data_stack: Any, project: LinkedProject) -> None:
    client = data(data_stack, project.people.viewer)
    queries = [
        data_pb2.ComponentQuery(
            id="mean",
            aggregate=data_pb2.AggregateQuery(
                columns=["abundance"],
                aggregations=[data_pb2.AGGREGATION_MEAN, data_pb2.AGGREGATION_COUNT],
                group_by=["taxon"],
            ),
        ),
        data_pb2.ComponentQuery(
            id="ph",
            data_collection_id=project.samples,
            aggregate=data_pb2.AggregateQuery(
                columns=["ph"], aggregations=[data_pb2.AGGREGATION_MAX]
            ),
        ),
    ]
    filters = {project.samples: in_filter("site", ["north"])}
    results = run(lambda: client.query(queries, project.abundance, filters))
    north = pl.from_arrow(SAMPLES).filter(pl.col("site") == "north")
    expected = (
        pl.from_arrow(ABUNDANCE)
        .filter(pl.col("sample").is_in(north["sample"].implode()))
        .group_by("taxon")
        .agg(pl.col("abundance").mean().alias("mean(abundance)"), pl.len().alias("count"))
        .sort("taxon")
    )
    got = pl.from_arrow(result_table(results[0]))
    assert got["taxon"].to_list() == expected["taxon"].to_list()
    assert got["mean(abundance)"].to_list() == pytest.approx(expected["mean(abundance)"].to_list())
    assert results[0].total_rows == 3
    assert result_table(results[1]).to_pydict() == {"max(ph)": [north["ph"].max()]}
    # A filter keyed by no data collection applied to none: refused rather than ignored.
    with pytest.raises(aio.AioRpcError) as unkeyed:
        run(lambda: client.query(queries, project.abundance, {"": in_filter("site", ["north"])}))
    assert unkeyed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "filters: each filter is keyed by a data collection id" in (
        unkeyed.value.details() or ""
    )


def test_scan_streams_bounded_messages_with_filter_sort_slice_and_version(
    data_stack: Any, project: LinkedProject
) -> None:
    editor = data(data_stack, project.people.editor)
    rows = 300_000
    big = pa.table({"k": pa.array(range(rows), pa.int64()), "v": pa.array([0.5] * rows)})
    dc = project.abundance
    big = big.append_column("sample", pa.array(["s9"] * rows))
    big = big.append_column("taxon", pa.array(["X"] * rows))
    big = big.append_column("abundance", pa.array([1.0] * rows))
    written = run(lambda: editor.write_table(dc, big, run_id="big", file="big.tsv"))
    request = editor.scan_request(dc, columns=["k"])

    async def sizes() -> list[int]:
        return [len(chunk) async for chunk in editor.scan_chunks(request)]

    chunk_sizes = run(sizes)
    # Each message (a tag, a 3-byte length and its chunk) within 1 MiB.
    assert len(chunk_sizes) > 2 and max(chunk_sizes) + 4 <= 1024 * 1024
    wanted = common_pb2.Filter(
        column=common_pb2.ColumnPredicate(
            column="k",
            range=common_pb2.Range(min=python_to_value(10), max=python_to_value(19)),
        )
    )
    page = run(
        lambda: editor.scan(dc, columns=["k"], filter=wanted, sort=[("k", True)], limit=3, offset=2)
    )
    assert page.column("k").to_pylist() == [17, 16, 15]

    async def batches() -> int:
        return sum([b.num_rows async for b in editor.scan_batches(dc, columns=["k"])])

    assert run(batches) == rows + ABUNDANCE.num_rows
    before = run(lambda: editor.scan(dc, version=written.version - 1))
    assert before.num_rows == ABUNDANCE.num_rows
    history = run(lambda: editor.history(dc))
    assert history[0].version == written.version and history[0].run_ids == ["big"]
    assert history[0].rows == rows
    run(lambda: editor.write_table(dc, ABUNDANCE, run_id="big", mode="replace_run"))
    assert run(lambda: editor.scan(dc)).num_rows == 2 * ABUNDANCE.num_rows
    modes = [entry.mode for entry in run(lambda: editor.history(dc))[:2]]
    assert modes == ["replace_run", "append"]


def test_a_scan_cancelled_by_its_caller_cancels_its_call(
    data_stack: Any, project: LinkedProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`DataClient.scan` receives in a worker thread; cancelling the await cancels the RPC
    rather than leaving the thread to receive the whole table."""
    started: list[Any] = []
    real_channel = data_client.blocking_channel

    class RecordingChannel:
        def __init__(self, channel: grpc.Channel) -> None:
            self.channel = channel

        def unary_stream(self, *args: Any, **kwargs: Any) -> Any:
            method = self.channel.unary_stream(*args, **kwargs)

            def call(*call_args: Any, **call_kwargs: Any) -> Any:
                started.append(method(*call_args, **call_kwargs))
                return started[-1]

            return call

    monkeypatch.setattr(
        data_client, "blocking_channel", lambda target: RecordingChannel(real_channel(target))
    )
    viewer = data(data_stack, project.people.viewer, flight=False)

    async def cancel_a_scan() -> None:
        scan = asyncio.create_task(viewer.scan(project.abundance))
        await asyncio.sleep(0)  # the call is made; its answer is milliseconds away
        scan.cancel()
        with pytest.raises(asyncio.CancelledError):
            await scan

    run(cancel_a_scan)
    assert len(started) == 1
    assert started[0].code() is grpc.StatusCode.CANCELLED
    # The client still scans afterwards.
    assert run(lambda: viewer.scan(project.abundance)).num_rows > 0


def table_state(stack: Any, token: str, dc: str) -> tuple[int, int]:
    client = data(stack, token)
    return run(lambda: client.history(dc))[0].version, run(lambda: client.scan(dc)).num_rows


def test_refused_writes_leave_the_table_as_it_was(data_stack: Any, project: LinkedProject) -> None:
    editor = data(data_stack, project.people.editor)
    dc = project.samples
    before = table_state(data_stack, project.people.editor, dc)
    bad = pa.table({"sample": ["s5"], "ph": ["acidic"]})
    with pytest.raises(aio.AioRpcError) as conflict:
        run(lambda: editor.write_table(dc, bad, run_id="r2", file="bad.tsv"))
    assert conflict.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    details = conflict.value.details() or ""
    assert "'ph'" in details and "double" in details and "string" in details
    assert "bad.tsv" in details
    header = data_pb2.WriteHeader(
        data_collection_id=dc, run_id="r3", mode=data_pb2.WRITE_MODE_APPEND, file="cut.arrow"
    )
    payload = table_to_ipc(SAMPLES)
    with pytest.raises(aio.AioRpcError) as broken:
        run(lambda: editor.write_ipc_chunks(header, [payload[: len(payload) - 20]]))
    assert broken.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "cut.arrow" in (broken.value.details() or "")
    unnamed = pa.table({"sample": ["s6"], "": ["x"]})
    with pytest.raises(aio.AioRpcError) as nameless:
        run(lambda: editor.write_table(dc, unnamed, run_id="r2", file="unnamed.csv"))
    assert nameless.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "unnamed.csv: column 2 has no name" in (nameless.value.details() or "")
    assert table_state(data_stack, project.people.editor, dc) == before
    # The table still takes a good write afterwards.
    good = pa.table({"sample": ["s7"], "ph": [6.5]})
    written = run(lambda: editor.write_table(dc, good, run_id="r2", file="good.csv"))
    assert written.version == before[0] + 1


def test_write_messages_out_of_order_or_past_the_stream_are_refused_and_commit_nothing(
    data_stack: Any, project: LinkedProject
) -> None:
    """A chunk before the header or a second header (protobuf-built messages, not the client's
    own framing), or bytes after the end of the IPC stream, are refused even when the IPC
    stream itself was complete; the table is unchanged."""
    dc = project.samples
    before = table_state(data_stack, project.people.editor, dc)
    payload = table_to_ipc(SAMPLES)
    header = data_pb2.WriteTableRequest(
        header=data_pb2.WriteHeader(
            data_collection_id=dc, run_id="r5", mode=data_pb2.WRITE_MODE_APPEND
        )
    )
    chunk = data_pb2.WriteTableRequest(arrow_ipc=payload)

    async def write(messages: list[data_pb2.WriteTableRequest | bytes]) -> grpc.RpcError:
        async with aio.insecure_channel(data_stack.data_addr) as channel:
            write_table = channel.stream_unary(
                "/depictio.v1.DataService/WriteTable",
                request_serializer=lambda m: m if isinstance(m, bytes) else m.SerializeToString(),
                response_deserializer=data_pb2.WriteTableResponse.FromString,
            )
            metadata = (("authorization", f"Bearer {project.people.editor}"),)
            with pytest.raises(aio.AioRpcError) as refused:
                await write_table(iter(messages), timeout=30, metadata=metadata)
            return refused.value

    chunk_first = asyncio.run(write([chunk, header]))
    assert chunk_first.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "must carry the header" in (chunk_first.details() or "")
    second_header = asyncio.run(write([header, chunk, header]))
    assert second_header.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "only the first" in (second_header.details() or "")
    # Messages that are no WriteTableRequest at all (they ended the call INTERNAL).
    for messages in ([b"\xff\xff\xff"], [header, b"\xff\xff\xff"]):
        undecodable = asyncio.run(write(messages))
        assert undecodable.code() == grpc.StatusCode.INVALID_ARGUMENT
        details = undecodable.details() or ""
        assert "request message of /depictio.v1.DataService/WriteTable does not decode" in details
    editor = data(data_stack, project.people.editor)
    with pytest.raises(aio.AioRpcError) as trailing:
        run(lambda: editor.write_ipc_chunks(header.header, [payload, b"more"]))
    assert trailing.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "4 bytes after the end of the Arrow IPC stream" in (trailing.value.details() or "")
    assert table_state(data_stack, project.people.editor, dc) == before


def test_a_write_cancelled_mid_stream_commits_nothing(
    data_stack: Any, project: LinkedProject
) -> None:
    dc = project.samples
    before = table_state(data_stack, project.people.editor, dc)
    payload = table_to_ipc(SAMPLES)

    async def cancel_midway() -> None:
        sent = asyncio.Event()

        async def requests() -> AsyncIterator[data_pb2.WriteTableRequest]:
            yield data_pb2.WriteTableRequest(
                header=data_pb2.WriteHeader(
                    data_collection_id=dc, run_id="r4", mode=data_pb2.WRITE_MODE_APPEND
                )
            )
            yield data_pb2.WriteTableRequest(arrow_ipc=payload[:100])
            sent.set()
            await asyncio.sleep(30)

        async with aio.insecure_channel(data_stack.data_addr) as channel:
            stub = data_pb2_grpc.DataServiceStub(channel)
            metadata = (("authorization", f"Bearer {project.people.editor}"),)
            call = stub.WriteTable(requests(), timeout=30, metadata=metadata)
            await sent.wait()
            await asyncio.sleep(0.3)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call

    asyncio.run(cancel_midway())
    assert table_state(data_stack, project.people.editor, dc) == before


def test_eight_concurrent_appends_over_grpc(data_stack: Any, project: LinkedProject) -> None:
    dc = project.samples
    start, rows = table_state(data_stack, project.people.editor, dc)
    editor = data(data_stack, project.people.editor)

    async def appends() -> list[int]:
        calls = [
            editor.write_table(dc, SAMPLES, run_id=f"par-{i}", file=f"f{i}.tsv") for i in range(8)
        ]
        return sorted(r.version for r in await asyncio.gather(*calls))

    assert run(appends) == list(range(start + 1, start + 9))
    assert table_state(data_stack, project.people.editor, dc) == (
        start + 8,
        rows + 8 * SAMPLES.num_rows,
    )


def test_owner_maintenance_and_schema_recorded_in_metadata(
    data_stack: Any, project: LinkedProject
) -> None:
    owner = data(data_stack, project.people.owner)
    dc = project.abundance
    described = run(lambda: owner.describe(dc))
    names = [column.name for column in described.columns]
    assert names[:3] == ["sample", "taxon", "abundance"]
    assert {"depictio_run_id", "depictio_file"} <= set(names)

    async def observed() -> list[tuple[str, str]]:
        stored = await metadata(data_stack, project.people.owner).get_project(project.id)
        for workflow in stored.workflows:
            for collection in workflow.data_collections:
                if collection.id == dc:
                    return [(c.name, c.type) for c in collection.observed_columns]
        return []

    assert ("abundance", "double") in run(observed)
    extra = run(lambda: owner.write_table(dc, ABUNDANCE, run_id="extra")).version
    optimized = run(lambda: owner.optimize(dc))
    assert optimized.files_added == 1 and optimized.files_removed >= 2
    restored = run(lambda: owner.restore(dc, 0))
    assert restored == run(lambda: owner.history(dc))[0].version
    assert run(lambda: owner.scan(dc)).num_rows == ABUNDANCE.num_rows
    assert run(lambda: owner.vacuum(dc, 0)) >= 1
    assert run(lambda: owner.scan(dc)).num_rows == ABUNDANCE.num_rows
    # The log still lists the versions whose files the vacuum removed: reading one is refused
    # as gone, not failed; version 0, whose files the latest version uses, still reads.
    for read in (lambda: owner.scan(dc, version=extra), lambda: owner.describe(dc, extra)):
        with pytest.raises(aio.AioRpcError) as gone:
            run(read)
        assert gone.value.code() == grpc.StatusCode.NOT_FOUND
        assert f"version {extra} can no longer be read" in (gone.value.details() or "")
        assert "vacuum" in (gone.value.details() or "")
    assert run(lambda: owner.scan(dc, version=0)).num_rows == ABUNDANCE.num_rows


def test_only_owners_delete_a_projects_tables_and_they_go_whole(data_stack: Any) -> None:
    doomed = linked_project(data_stack)
    editor = data(data_stack, doomed.people.editor)
    for dc, table in ((doomed.samples, SAMPLES), (doomed.abundance, ABUNDANCE)):
        run(lambda dc=dc, table=table: editor.write_table(dc, table, run_id="r1"))
    for token in (doomed.people.editor, doomed.people.viewer, doomed.people.outsider):
        with pytest.raises(aio.AioRpcError) as refused:
            run(lambda token=token: data(data_stack, token).delete_project_tables(doomed.id))
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(aio.AioRpcError) as anonymous:
        run(lambda: data(data_stack).delete_project_tables(doomed.id))
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert run(lambda: editor.scan(doomed.samples)).num_rows == SAMPLES.num_rows
    owner = data(data_stack, doomed.people.owner)
    assert run(lambda: owner.delete_project_tables(doomed.id)) == 2
    for dc in (doomed.samples, doomed.abundance):
        with pytest.raises(aio.AioRpcError) as gone:
            run(lambda dc=dc: owner.scan(dc))
        assert gone.value.code() == grpc.StatusCode.NOT_FOUND
        assert "has no table yet" in (gone.value.details() or "")
    assert run(lambda: owner.delete_project_tables(doomed.id)) == 0


def test_a_table_deleted_and_written_again_is_not_read_from_the_caches(data_stack: Any) -> None:
    """Written again after a deletion, a table counts its versions from 0 again: neither the
    decoded versions in memory nor the cached query results of the old one are served."""
    project = linked_project(data_stack)
    owner = data(data_stack, project.people.owner)
    total = data_pb2.ComponentQuery(
        id="sum",
        aggregate=data_pb2.AggregateQuery(columns=["v"], aggregations=[data_pb2.AGGREGATION_SUM]),
    )

    def write_and_read(values: list[int]) -> tuple[list[int], float]:
        table = pa.table({"sample": [f"s{i}" for i in range(len(values))], "v": values})
        written = run(lambda: owner.write_table(project.samples, table, run_id="r"))
        assert written.version == 0
        scanned = run(lambda: owner.scan(project.samples, columns=["v"]))
        result = result_table(run(lambda: owner.query([total], project.samples))[0])
        return scanned.column("v").to_pylist(), result.column(0)[0].as_py()

    assert write_and_read([1, 2]) == ([1, 2], 3)
    assert run(lambda: owner.delete_project_tables(project.id)) == 1
    assert write_and_read([1000]) == ([1000], 1000)


def test_an_answer_larger_than_a_message_is_refused_naming_its_largest_results(
    data_stack: Any,
) -> None:
    """gRPC refused to send it: RESOURCE_EXHAUSTED (HTTP 429, "retry later"), no query named."""
    project = linked_project(data_stack)
    editor = data(data_stack, project.people.editor)
    rows = 100_000
    text = [f"{i:06d}" + "x" * 114 for i in range(rows)]  # 12 MB of text
    table = pa.table({"sample": [f"s{i}" for i in range(rows)], "note": text})
    run(lambda: editor.write_table(project.samples, table, run_id="r"))
    count = data_pb2.ComponentQuery(
        id="n", aggregate=data_pb2.AggregateQuery(aggregations=[data_pb2.AGGREGATION_COUNT])
    )
    points = data_pb2.ComponentQuery(
        id="all-points",
        sample=data_pb2.SampleQuery(columns=["sample", "note"], max_points=rows),
    )
    with pytest.raises(aio.AioRpcError) as caught:
        run(lambda: editor.query([count, points], project.samples))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = caught.value.details() or ""
    assert "more than the 8 MiB one answer may carry" in details
    assert details.index("queries[1] (id 'all-points')") < details.index("queries[0] (id 'n')")
    # Fewer points fit.
    fewer = data_pb2.ComponentQuery(
        id="some-points", sample=data_pb2.SampleQuery(columns=["note"], max_points=1_000)
    )
    [answered] = run(lambda: editor.query([fewer], project.samples))
    notes = result_table(answered).column("note").to_pylist()
    assert len(notes) == 1_000 and set(notes) <= set(text)


def test_an_error_echoing_a_very_long_name_keeps_its_code(
    data_stack: Any, project: LinkedProject
) -> None:
    """The message, over gRPC's trailer limit, turned into RESOURCE_EXHAUSTED (a 20,000
    character column) or UNAVAILABLE (a data collection id, relayed from metadata_svc)."""
    viewer = data(data_stack, project.people.viewer)
    name = "c" * 20_000
    mean = data_pb2.ComponentQuery(
        aggregate=data_pb2.AggregateQuery(columns=[name], aggregations=[data_pb2.AGGREGATION_MEAN])
    )
    with pytest.raises(aio.AioRpcError) as caught:
        run(lambda: viewer.query([mean], project.samples))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = caught.value.details() or ""
    assert details.startswith("queries[0].aggregate: unknown column 'ccc") and details.endswith("…")
    with pytest.raises(aio.AioRpcError) as caught:
        run(lambda: viewer.describe("d" * 20_000))
    assert caught.value.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)


def test_scans_whose_readers_stopped_reading_hold_up_no_other_call(data_stack: Any) -> None:
    """Each stalled Scan held a thread of the loop's default pool (6 on 2 cores) with 16
    message groups: a few froze Describe, History and every new Scan until their deadline."""
    project = project_with_a_big_table(data_stack)
    viewer = data(data_stack, project.people.viewer)

    async def stall_then_call() -> tuple[int, int, int]:
        streams = []
        for _ in range(10):
            stream = viewer.scan_chunks(viewer.scan_request(project.samples)).__aiter__()
            await asyncio.wait_for(anext(stream), 20)  # one message, then no more reading
            streams.append(stream)
        await asyncio.sleep(1)
        try:
            described = await asyncio.wait_for(viewer.describe(project.abundance), 10)
            history = await asyncio.wait_for(viewer.history(project.abundance), 10)
            scanned = await asyncio.wait_for(viewer.scan(project.abundance), 10)
        finally:
            for stream in streams:
                await stream.aclose()
        return described.rows, len(history), scanned.num_rows

    assert run(stall_then_call) == (ABUNDANCE.num_rows, 1, ABUNDANCE.num_rows)
    assert run(lambda: viewer.scan(project.samples, columns=["id"])).num_rows == BIG_ROWS


def test_a_filter_two_links_away_reaches_the_queried_table(data_stack: Any) -> None:
    """samples.sample → abundance.sample, abundance.taxon → taxa.taxon: a filter on samples
    reaches taxa through abundance, which the query neither reads nor filters itself."""
    tokens = {name: new_user(data_stack, name) for name in ("owner", "viewer")}
    config = yaml.safe_load(unique_config("linked_tables.yaml"))
    config["workflows"][0]["data_collections"].append(
        {
            "data_collection_tag": "taxa",
            "config": {
                "type": "table",
                "metatype": "metadata",
                "scan": {"mode": "single", "scan_parameters": {"filename": "/data/taxa.tsv"}},
                "dc_specific_properties": {"format": "TSV", "keep_columns": ["taxon", "phylum"]},
            },
        }
    )
    config["links"] = [
        DIRECT_LINK,
        {
            "source_dc_tag": "taxa_abundance",
            "source_column": "taxon",
            "target_dc_tag": "taxa",
            "target_type": "table",
            "link_config": {"resolver": "direct", "target_field": "taxon"},
            "enabled": True,
        },
    ]
    taxa = pa.table(
        {
            "taxon": ["Bacillus", "Nostoc", "Vibrio"],
            "phylum": ["Firmicutes", "Cyanobacteria", "Proteobacteria"],
        }
    )

    async def scenario() -> list[int]:
        owner = metadata(data_stack, tokens["owner"][2])
        created = await owner.create_project(yaml.safe_dump(config))
        await owner.set_member(created.id, tokens["viewer"][0], "viewer", tokens["viewer"][1])
        ids = {
            dc.data_collection_tag: dc.id for w in created.workflows for dc in w.data_collections
        }
        writer = data(data_stack, tokens["owner"][2])
        for tag, table in (
            ("soil_samples", SAMPLES),
            ("taxa_abundance", ABUNDANCE),
            ("taxa", taxa),
        ):
            await writer.write_table(ids[tag], table, run_id="run-1")
        viewer = data(data_stack, tokens["viewer"][2])
        count = data_pb2.ComponentQuery(
            id="n", aggregate=data_pb2.AggregateQuery(aggregations=[data_pb2.AGGREGATION_COUNT])
        )
        counts = []
        for site in ("north", "south", "west"):
            filters = {ids["soil_samples"]: in_filter("site", [site])}
            (result,) = await viewer.query([count], ids["taxa"], filters)
            counts.append(result_table(result).column(0)[0].as_py())
        return counts

    samples, abundance = SAMPLES.to_pandas(), ABUNDANCE.to_pandas()
    expected = []
    for site in ("north", "south", "west"):
        chosen = samples.loc[samples["site"] == site, "sample"]
        reached = abundance.loc[abundance["sample"].isin(chosen), "taxon"]
        expected.append(int(taxa.to_pandas()["taxon"].isin(reached).sum()))
    assert expected == [2, 1, 0]
    assert run(scenario) == expected


def test_unsigned_integers_are_stored_in_signed_types_that_hold_them(data_stack: Any) -> None:
    """Delta has no unsigned integers: uint8 200 was refused by the writer (cast to int8)."""
    linked = linked_project(data_stack)
    editor = data(data_stack, linked.people.editor)
    unsigned = pa.table(
        {
            "sample": ["a", "b", "c"],
            "small": pa.array([0, 200, 255], pa.uint8()),
            "medium": pa.array([1, 40_000, 65_535], pa.uint16()),
            "large": pa.array([0, 2**32 - 1, 7], pa.uint32()),
            "huge": pa.array([0, 2**63 - 1, 5], pa.uint64()),
        }
    )
    run(lambda: editor.write_table(linked.samples, unsigned, run_id="r", file="u.parquet"))
    stored = run(lambda: editor.scan(linked.samples, columns=unsigned.column_names))
    expected = unsigned.to_pandas()
    assert [str(t) for t in stored.schema.types[1:]] == ["int16", "int32", "int64", "int64"]
    got = stored.to_pandas().sort_values("sample").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    described = run(lambda: editor.describe(linked.samples))
    assert {c.name: c.type for c in described.columns if c.name in expected} == {
        "sample": "string",
        "small": "int16",
        "medium": "int32",
        "large": "int64",
        "huge": "int64",
    }

    before = table_state(data_stack, linked.people.editor, linked.samples)
    too_big = pa.table({"sample": ["d"], "huge": pa.array([2**64 - 1], pa.uint64())})
    with pytest.raises(aio.AioRpcError) as refused:
        run(lambda: editor.write_table(linked.samples, too_big, run_id="r2", file="big.parquet"))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = refused.value.details() or ""
    assert "column 'huge' of big.parquet" in details and "int64" in details
    assert table_state(data_stack, linked.people.editor, linked.samples) == before


def test_request_messages_that_do_not_decode_are_refused_naming_the_method(
    data_stack: Any, project: LinkedProject
) -> None:
    """grpc.aio ended them UNKNOWN, "Unexpected <class 'DecodeError'>" (any service)."""
    garbage = b"\x0a\x03\xff\xfe\xfd"  # field 1, a string that is not UTF-8
    metadata = (("authorization", f"Bearer {project.people.viewer}"),)

    async def refused(target: str, method: str, streaming: bool) -> aio.AioRpcError:
        async with aio.insecure_channel(target) as channel:
            make = channel.unary_stream if streaming else channel.unary_unary
            call = make(method, request_serializer=bytes, response_deserializer=bytes)
            with pytest.raises(aio.AioRpcError) as caught:
                if streaming:
                    [message async for message in call(garbage, metadata=metadata, timeout=10)]
                else:
                    await call(garbage, metadata=metadata, timeout=10)
            return caught.value

    for target, method, streaming in (
        (data_stack.data_addr, "/depictio.v1.DataService/Scan", True),
        (data_stack.data_addr, "/depictio.v1.DataService/Describe", False),
        (data_stack.metadata_addr, "/depictio.v1.MetadataService/GetProject", False),
    ):
        error = asyncio.run(refused(target, method, streaming))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, method
        assert f"the request message of {method} does not decode" in (error.details() or "")
    # Still serving.
    assert run(lambda: data(data_stack, project.people.viewer).describe(project.samples)).rows
