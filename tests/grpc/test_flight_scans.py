"""Scans through data_svc's Arrow Flight endpoint: the same rows, rules and errors as Scan."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import grpc
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.flight as flight
import pytest
from conftest import MakeStack, free_port
from data_support import (
    ABUNDANCE,
    BIG_ROWS,
    SAMPLES,
    LinkedProject,
    data,
    linked_project,
    project_with_a_big_table,
)
from grpc import aio
from metadata_support import run

from depictio.clients.data import DataClient
from depictio.filters import all_of, in_filter, python_to_value
from depictio.v1 import common_pb2, data_pb2

pytestmark = pytest.mark.timeout(180)
MIB = 1024 * 1024
ROWS = 40_000


@pytest.fixture(scope="module")
def stack(make_stack: MakeStack) -> Iterator[Any]:
    """A stack in the default auth mode (an anonymous caller reads nothing)."""
    with make_stack() as running:
        yield running


def uneven_table() -> pa.Table:
    """Rows of very uneven widths: most a few bytes, five in a row of every 1,000 each
    holding 300 KB of text."""
    notes = ["n" * 300_000 if 7 <= i % 1_000 < 12 else f"row {i}" for i in range(ROWS)]
    return pa.table(
        {
            "sample": pa.array([f"s{i % 4 + 1}" for i in range(ROWS)]),
            "taxon": pa.array(["Bacillus", "Nostoc"] * (ROWS // 2)),
            "abundance": pa.array([i / ROWS for i in range(ROWS)]),
            "note": pa.array(notes),
        }
    )


@pytest.fixture(scope="module")
def project(stack: Any) -> LinkedProject:
    """Samples written once; abundance written twice (its second version adds uneven rows)."""
    linked = linked_project(stack)

    async def fill() -> None:
        editor = data(stack, linked.people.editor)
        await editor.write_table(linked.samples, SAMPLES, run_id="run-1", file="samples.tsv")
        await editor.write_table(linked.abundance, ABUNDANCE, run_id="run-1", file="abund.tsv")
        await editor.write_table(linked.abundance, uneven_table(), run_id="run-2", file="big.tsv")

    run(fill)
    return linked


def both_scans(stack: Any, token: str, dc: str, **options: Any) -> pa.Table:
    """The table a scan returns through Flight, checked equal to the Scan RPC's."""
    through_flight = run(lambda: data(stack, token).scan(dc, **options))
    through_grpc = run(lambda: data(stack, token, flight=False).scan(dc, **options))
    assert through_flight.schema == through_grpc.schema
    assert through_flight.equals(through_grpc)
    return through_flight


def test_flight_scans_return_what_scan_does(stack: Any, project: LinkedProject) -> None:
    viewer = project.people.viewer
    whole = both_scans(stack, viewer, project.samples)
    assert whole.select(["sample", "site", "ph"]).to_pydict() == SAMPLES.to_pydict()
    assert whole.column("depictio_run_id").to_pylist() == ["run-1"] * SAMPLES.num_rows
    # Filter, sort and slice: expected from pandas on the rows written.
    written = pd.concat([ABUNDANCE.to_pandas(), uneven_table().to_pandas()], ignore_index=True)
    wanted = written[written["sample"].isin(["s2", "s4"]) & (written["abundance"] >= 0.25)]
    expected = wanted.sort_values("abundance", ascending=False, kind="stable").iloc[5:25]
    keep = all_of(
        [
            in_filter("sample", ["s2", "s4"]),
            common_pb2.Filter(
                column=common_pb2.ColumnPredicate(
                    column="abundance", range=common_pb2.Range(min=python_to_value(0.25))
                )
            ),
        ]
    )
    page = both_scans(
        stack,
        viewer,
        project.abundance,
        columns=["sample", "abundance"],
        filter=keep,
        sort=[("abundance", True)],
        limit=20,
        offset=5,
    )
    assert page.column_names == ["sample", "abundance"]
    assert page.column("abundance").to_pylist() == expected["abundance"].tolist()
    assert page.column("sample").to_pylist() == expected["sample"].tolist()
    # Time travel: the version before the uneven rows.
    history = run(lambda: data(stack, viewer).history(project.abundance))
    first = both_scans(stack, viewer, project.abundance, version=history[-1].version)
    assert first.select(["sample", "taxon", "abundance"]).to_pydict() == ABUNDANCE.to_pydict()
    none = both_scans(stack, viewer, project.abundance, filter=in_filter("sample", ["s9"]))
    assert none.num_rows == 0 and "taxon" in none.column_names


def headers(token: str) -> flight.FlightCallOptions:
    return flight.FlightCallOptions(headers=[(b"authorization", f"Bearer {token}".encode())])


def test_each_flight_message_carries_at_most_one_mebibyte(
    stack: Any, project: LinkedProject
) -> None:
    client = flight.connect(f"grpc://{stack.data_flight_addr}")
    request = data_pb2.ScanRequest(
        data_collection_id=project.abundance, columns=["sample", "abundance", "note"]
    )
    reader = client.do_get(
        flight.Ticket(request.SerializeToString()), headers(project.people.viewer)
    )
    batches = []
    while True:
        try:
            batches.append(reader.read_chunk().data)
        except StopIteration:
            break
    # One Flight message per batch: its IPC message (metadata and body) within 1 MiB.
    sizes = [batch.serialize().size for batch in batches]
    assert len(batches) > 3 and max(sizes) <= MIB
    received = pa.Table.from_batches(batches)
    expected = pa.concat_tables(
        [
            ABUNDANCE.append_column("note", pa.nulls(ABUNDANCE.num_rows, pa.string())),
            uneven_table(),
        ]
    ).select(["sample", "abundance", "note"])
    assert received.num_rows == expected.num_rows
    assert sorted(received.column("note").to_pylist(), key=str) == sorted(
        expected.column("note").to_pylist(), key=str
    )


def refusal(call: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(aio.AioRpcError) as caught:
        run(call)
    return caught.value.code(), caught.value.details() or ""


def test_flight_scans_are_refused_as_scans_are(stack: Any, project: LinkedProject) -> None:
    for token, expected in (
        (project.people.outsider, grpc.StatusCode.PERMISSION_DENIED),
        ("", grpc.StatusCode.UNAUTHENTICATED),
        ("not-a-token", grpc.StatusCode.UNAUTHENTICATED),
    ):
        code, _ = refusal(lambda t=token: data(stack, t).scan(project.samples))
        assert code == expected
        assert refusal(lambda t=token: data(stack, t, flight=False).scan(project.samples))[0] == (
            expected
        )
    owner = data(stack, project.people.owner)
    assert refusal(lambda: owner.scan("no-such-dc"))[0] == grpc.StatusCode.NOT_FOUND
    code, details = refusal(lambda: owner.scan(project.samples, columns=["nope"]))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "nope" in details
    # A raw Flight client: a ticket that is no ScanRequest, no token, other methods.
    client = flight.connect(f"grpc://{stack.data_flight_addr}")
    with pytest.raises(flight.FlightServerError) as caught:
        client.do_get(flight.Ticket(b"\xff\xff garbage"), headers(project.people.owner)).read_all()
    sent = json.loads(caught.value.extra_info)
    assert sent["code"] == "INVALID_ARGUMENT" and "ScanRequest" in sent["message"]
    assert "Traceback" not in str(caught.value)
    request = data_pb2.ScanRequest(data_collection_id=project.samples)
    with pytest.raises(flight.FlightUnauthenticatedError):
        client.do_get(flight.Ticket(request.SerializeToString())).read_all()
    # Nothing but do_get is served: no listing, no upload, no action.
    with pytest.raises(pa.ArrowNotImplementedError):
        list(client.list_flights())
    with pytest.raises(pa.ArrowNotImplementedError):
        client.get_flight_info(flight.FlightDescriptor.for_command(request.SerializeToString()))
    with pytest.raises(pa.ArrowNotImplementedError):
        list(client.do_action(flight.Action("drop", b""), headers(project.people.owner)))
    upload, _ = client.do_put(
        flight.FlightDescriptor.for_path(project.samples),
        SAMPLES.schema,
        headers(project.people.owner),
    )
    with pytest.raises(pa.ArrowNotImplementedError):
        upload.write_table(SAMPLES)
        upload.close()
    assert run(lambda: data(stack, project.people.owner).scan(project.samples)).num_rows == (
        SAMPLES.num_rows
    )


def test_a_client_whose_flight_address_answers_nothing_scans_over_grpc(
    stack: Any, project: LinkedProject
) -> None:
    viewer = DataClient(
        stack.data_addr, token=project.people.viewer, flight_target=f"127.0.0.1:{free_port()}"
    )
    table = run(lambda: viewer.scan(project.samples, columns=["sample", "ph"]))
    assert table.to_pydict() == SAMPLES.select(["sample", "ph"]).to_pydict()


def test_flight_scans_are_in_the_access_log(stack: Any, project: LinkedProject) -> None:
    run(lambda: data(stack, project.people.viewer).scan(project.samples))
    refusal(lambda: data(stack, project.people.outsider).scan(project.samples))
    lines = [
        json.loads(line)
        for line in stack.log_text("data_svc").splitlines()
        if line.startswith("{") and "FlightService/DoGet" in line
    ]
    codes = {line["code"] for line in lines}
    assert {"OK", "PERMISSION_DENIED"} <= codes
    # The caller is named, whether allowed or refused access.
    named = [line for line in lines if line["code"] in ("OK", "PERMISSION_DENIED")]
    assert named and all(line["user_id"] != "anonymous" for line in named)


def test_flight_scans_whose_readers_stopped_reading_hold_up_no_other_call(stack: Any) -> None:
    project = project_with_a_big_table(stack)
    client = flight.connect(f"grpc://{stack.data_flight_addr}")
    ticket = flight.Ticket(
        data_pb2.ScanRequest(data_collection_id=project.samples).SerializeToString()
    )
    readers = []
    for _ in range(10):
        reader = client.do_get(ticket, headers(project.people.viewer))
        assert reader.read_chunk().data.num_rows > 0  # one batch, then no more reading
        readers.append(reader)
    viewer = data(stack, project.people.viewer)

    async def other_calls() -> tuple[int, int]:
        scanned = await asyncio.wait_for(viewer.scan(project.abundance), 10)
        described = await asyncio.wait_for(viewer.describe(project.abundance), 10)
        return scanned.num_rows, described.rows

    try:
        assert run(other_calls) == (ABUNDANCE.num_rows, ABUNDANCE.num_rows)
    finally:
        for reader in readers:
            reader.cancel()
    assert run(lambda: viewer.scan(project.samples, columns=["id"])).num_rows == BIG_ROWS


def flight_log_codes(stack: Any) -> list[str]:
    """The codes of data_svc's Flight calls so far, in order."""
    return [
        json.loads(line)["code"]
        for line in stack.log_text("data_svc").splitlines()
        if line.startswith("{") and "FlightService/DoGet" in line
    ]


def test_a_flight_scan_cancelled_while_data_svc_plans_it_ends_cancelled(stack: Any) -> None:
    """do_get returns only once data_svc has planned the scan (here a sort): a scan cancelled
    before then was received whole anyway, by a thread nobody waited for."""
    project = linked_project(stack)
    rows = 2_000_000
    big = pa.table({"value": np.random.default_rng(3).random(rows), "id": np.arange(rows)})
    run(lambda: data(stack, project.people.editor).write_table(project.samples, big, run_id="r"))
    viewer = data(stack, project.people.viewer)
    before = len(flight_log_codes(stack))

    async def cancel_while_planned() -> None:
        scan = asyncio.create_task(viewer.scan(project.samples, sort=[("value", True)]))
        await asyncio.sleep(0.05)
        scan.cancel()
        with pytest.raises(asyncio.CancelledError):
            await scan

    run(cancel_while_planned)
    deadline = time.monotonic() + 20
    while len(flight_log_codes(stack)) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert flight_log_codes(stack)[before:] == ["CANCELLED"]
