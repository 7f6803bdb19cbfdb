"""/api/v1/datacollections: rows in four formats, uploads, queries, schema, versions, refusals."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from conftest import MakeStack
from data_support import ABUNDANCE, SAMPLES, LinkedProject, linked_project

from depictio.arrow_ipc import table_to_ipc

from .gateway_client import bearer

pytestmark = pytest.mark.timeout(180)
BASE = "/api/v1/datacollections"
ARROW = {"content-type": "application/vnd.apache.arrow.stream"}


def upload(
    client: httpx.Client, dc: str, table: pa.Table, token: str, run_id: str, file: str = ""
) -> None:
    """Writes `table` into the data collection's table as the holder of `token`."""
    written = client.post(
        f"{BASE}/{dc}/upload",
        params={"run_id": run_id, "file": file},
        content=table_to_ipc(table),
        headers={**bearer(token), **ARROW},
    )
    assert written.status_code == 200, written.text


@pytest.fixture(scope="module")
def data_api_stack(make_stack: MakeStack) -> Iterator[Any]:
    with make_stack(DEPICTIO_AUTH_MODE="public") as running:
        yield running


@pytest.fixture(scope="module")
def gateway(data_api_stack: Any) -> Iterator[httpx.Client]:
    """An HTTP client of the stack's gateway process."""
    with httpx.Client(base_url=data_api_stack.gateway_url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def project(data_api_stack: Any, gateway: httpx.Client) -> LinkedProject:
    linked = linked_project(data_api_stack)
    for dc, table in ((linked.samples, SAMPLES), (linked.abundance, ABUNDANCE)):
        upload(gateway, dc, table, linked.people.editor, "run-1", "first.arrow")
    return linked


def test_rows_in_every_format_equal_the_table(
    gateway: httpx.Client, project: LinkedProject
) -> None:
    viewer = bearer(project.people.viewer)
    url = f"{BASE}/{project.samples}/rows"
    expected = pl.from_arrow(SAMPLES)
    arrow = gateway.get(url, params={"format": "arrow"}, headers=viewer)
    assert arrow.headers["content-type"] == "application/vnd.apache.arrow.stream"
    from_pyarrow = pa.ipc.open_stream(arrow.content).read_all()
    assert pl.from_arrow(from_pyarrow.select(SAMPLES.column_names)).equals(expected)
    assert (
        pl.read_ipc_stream(io.BytesIO(arrow.content)).select(SAMPLES.column_names).equals(expected)
    )
    parquet = gateway.get(url, params={"format": "parquet", "columns": "sample,ph"}, headers=viewer)
    assert (
        pq.read_table(io.BytesIO(parquet.content)).to_pydict()
        == SAMPLES.select(["sample", "ph"]).to_pydict()
    )
    csv = gateway.get(url, params={"format": "csv", "limit": 2, "offset": 1}, headers=viewer)
    assert csv.headers["content-type"].startswith("text/csv")
    frame = pd.read_csv(io.BytesIO(csv.content))
    assert frame["sample"].tolist() == ["s2", "s3"]
    rows = gateway.get(url, params={"format": "json", "columns": "sample"}, headers=viewer)
    assert rows.json() == [{"sample": s} for s in SAMPLES["sample"].to_pylist()]


def test_upload_parquet_and_csv_then_versions_and_time_travel(
    gateway: httpx.Client, project: LinkedProject
) -> None:
    editor = bearer(project.people.editor)
    dc = project.samples
    sink = io.BytesIO()
    pq.write_table(pa.table({"sample": ["s5"], "site": ["west"], "ph": [7.7]}), sink)
    parquet = gateway.post(
        f"{BASE}/{dc}/upload",
        params={"run_id": "run-2", "file": "more.parquet"},
        content=sink.getvalue(),
        headers={**editor, "content-type": "application/vnd.apache.parquet"},
    )
    assert parquet.status_code == 200, parquet.text
    assert parquet.json()["rows"] == 1
    out = io.BytesIO()
    pa_csv.write_csv(pa.table({"sample": ["s6"], "site": ["west"], "ph": [6.0]}), out)
    csv = gateway.post(
        f"{BASE}/{dc}/upload",
        params={"run_id": "run-2", "mode": "replace_run", "file": "more.csv"},
        content=out.getvalue(),
        headers={**editor, "content-type": "text/csv"},
    )
    assert csv.status_code == 200, csv.text
    versions = gateway.get(f"{BASE}/{dc}/versions", headers=editor).json()
    assert [v["version"] for v in versions][:2] == [
        csv.json()["version"],
        parquet.json()["version"],
    ]
    assert versions[0]["run_ids"] == ["run-2"]
    old = gateway.get(
        f"{BASE}/{dc}/rows",
        params={"format": "json", "columns": "sample", "version": parquet.json()["version"]},
        headers=editor,
    ).json()
    assert sorted(r["sample"] for r in old) == ["s1", "s2", "s3", "s4", "s5"]
    now = gateway.get(f"{BASE}/{dc}/rows", params={"format": "json"}, headers=editor).json()
    assert sorted(r["sample"] for r in now) == ["s1", "s2", "s3", "s4", "s6"]


def test_schema_says_which_distinct_counts_are_estimates(
    data_api_stack: Any, gateway: httpx.Client
) -> None:
    linked = linked_project(data_api_stack)
    rows = 20_000
    table = pa.table(
        {
            "sample": [f"s{i}" for i in range(rows)],
            "taxon": ["Bacillus", "Nostoc"] * (rows // 2),
            "abundance": [i / rows for i in range(rows)],
        }
    )
    upload(gateway, linked.abundance, table, linked.people.editor, "r")
    schema = gateway.get(
        f"{BASE}/{linked.abundance}/schema", headers=bearer(linked.people.viewer)
    ).json()
    columns = {c["name"]: c for c in schema["columns"]}
    expected = table.to_pandas().nunique()
    # Above 10,000 distinct values the count is a HyperLogLog estimate, and says so.
    assert columns["sample"]["nunique_estimated"] is True
    assert columns["sample"]["nunique"] == pytest.approx(expected["sample"], rel=0.05)
    assert columns["taxon"]["nunique_estimated"] is False
    assert columns["taxon"]["nunique"] == expected["taxon"] == 2


def test_schema_and_query(gateway: httpx.Client, project: LinkedProject) -> None:
    viewer = bearer(project.people.viewer)
    schema = gateway.get(f"{BASE}/{project.abundance}/schema", headers=viewer)
    assert schema.status_code == 200, schema.text
    columns = {c["name"]: c for c in schema.json()["columns"]}
    assert columns["abundance"]["type"] == "double"
    assert columns["abundance"]["max"] == max(ABUNDANCE["abundance"].to_pylist())
    assert columns["taxon"]["nunique"] == 2
    body = {
        "filters": {
            project.samples: {
                "column": {"column": "site", "in_values": {"values": [{"string_value": "north"}]}}
            }
        },
        "queries": [
            {
                "id": "sum",
                "aggregate": {"columns": ["abundance"], "aggregations": ["AGGREGATION_SUM"]},
            },
            {"id": "top", "top_n": {"column": "abundance", "n": 1, "columns": ["sample"]}},
        ],
    }
    answer = gateway.post(f"{BASE}/{project.abundance}/query", json=body, headers=viewer)
    assert answer.status_code == 200, answer.text
    summed, top = answer.json()["results"]
    north = {"s1", "s2"}
    expected = [
        a
        for s, a in zip(
            ABUNDANCE["sample"].to_pylist(), ABUNDANCE["abundance"].to_pylist(), strict=True
        )
        if s in north
    ]  # noqa: E501
    assert summed["rows"] == [{"sum(abundance)": pytest.approx(sum(expected))}]
    assert summed["total_rows"] == len(expected)
    assert top["rows"] == [{"sample": "s2"}]
    bad = gateway.post(
        f"{BASE}/{project.abundance}/query",
        json={"queries": [{"histogram": {"column": "taxon"}}]},
        headers=viewer,
    )
    assert bad.status_code == 400 and "numeric" in bad.json()["detail"]
    unknown = gateway.post(
        f"{BASE}/{project.abundance}/query", json={"queries": [{"nope": {}}]}, headers=viewer
    )
    assert unknown.status_code == 400 and "queries[0]" in unknown.json()["detail"]


@pytest.mark.parametrize(
    ("route", "method"),
    [
        ("rows", "get"),
        ("schema", "get"),
        ("versions", "get"),
        ("query", "post"),
        ("upload", "post"),
    ],
)
def test_refusals_per_route(
    gateway: httpx.Client, project: LinkedProject, route: str, method: str
) -> None:
    url = f"{BASE}/{project.samples}/{route}"
    options: dict[str, Any] = {}
    extra: dict[str, str] = {}
    if route == "query":
        options["json"] = {"queries": [{"distinct": {"column": "site"}}]}
    if route == "upload":
        options = {"params": {"run_id": "r"}, "content": table_to_ipc(SAMPLES)}
        extra = ARROW
    send = getattr(gateway, method)
    outsider = send(url, headers={**bearer(project.people.outsider), **extra}, **options)
    assert outsider.status_code == 403, outsider.text
    anonymous = send(url, headers=extra, **options)
    assert anonymous.status_code == 401, anonymous.text
    if route == "upload":
        viewer = send(url, headers={**bearer(project.people.viewer), **extra}, **options)
        assert viewer.status_code == 403, viewer.text
        # Refused before the body is read: whatever it is, and however badly it is typed.
        for body, media_type in ((b"sample\ns9\n", "text/csv"), (b"{}", "application/json")):
            for person in (project.people.outsider, project.people.viewer):
                refused = gateway.post(
                    url,
                    params={"run_id": "r"},
                    content=body,
                    headers={**bearer(person), "content-type": media_type},
                )
                assert refused.status_code == 403, refused.text
    owner = {**bearer(project.people.owner), **extra}
    missing = send(f"{BASE}/no-such-dc/{route}", headers=owner, **options)
    assert missing.status_code == 404, missing.text


def test_a_conflicting_upload_names_the_column_and_file(
    gateway: httpx.Client, project: LinkedProject
) -> None:
    response = gateway.post(
        f"{BASE}/{project.samples}/upload",
        params={"run_id": "r", "file": "wrong.csv"},
        content=b"sample,ph\ns7,acid\n",
        headers={**bearer(project.people.editor), "content-type": "text/csv"},
    )
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "'ph'" in detail and "wrong.csv" in detail
    unsupported = gateway.post(
        f"{BASE}/{project.samples}/upload",
        params={"run_id": "r"},
        content=b"{}",
        headers={**bearer(project.people.editor), "content-type": "application/json"},
    )
    assert unsupported.status_code == 400 and "content-type" in unsupported.json()["detail"]


def test_a_refused_upload_names_its_query_parameters(
    gateway: httpx.Client, project: LinkedProject
) -> None:
    url = f"{BASE}/{project.samples}/upload"
    editor = {**bearer(project.people.editor), **ARROW}
    body = table_to_ipc(SAMPLES)
    before = gateway.get(f"{BASE}/{project.samples}/versions", headers=editor).json()
    control = gateway.post(url, params={"run_id": "run\t1"}, content=body, headers=editor)
    assert control.status_code == 400, control.text
    assert control.json()["detail"].startswith(
        "run_id: expected 1–200 characters without control characters or line breaks"
    )
    both = gateway.post(
        url, params={"run_id": "r", "run_ids": ["r", "s"]}, content=body, headers=editor
    )
    assert both.status_code == 400, both.text
    assert both.json()["detail"] == "run_ids: only when run_id is empty"
    assert gateway.get(f"{BASE}/{project.samples}/versions", headers=editor).json() == before


def test_numbers_no_int64_holds_are_refused_as_invalid_input(
    gateway: httpx.Client, project: LinkedProject
) -> None:
    viewer = bearer(project.people.viewer)
    for route, name in (
        ("rows", "limit"),
        ("rows", "offset"),
        ("rows", "version"),
        ("schema", "version"),
    ):
        response = gateway.get(
            f"{BASE}/{project.samples}/{route}", params={name: 2**63}, headers=viewer
        )
        assert response.status_code == 422 and name in response.text, (route, name, response.text)


def test_a_limit_past_what_polars_counts_reads_every_row_and_an_unknown_aggregation_is_refused(
    gateway: httpx.Client, project: LinkedProject
) -> None:
    viewer = bearer(project.people.viewer)
    rows = gateway.get(
        f"{BASE}/{project.samples}/rows",
        params={"format": "json", "columns": "sample", "limit": 2**32},
        headers=viewer,
    )
    assert rows.status_code == 200, rows.text
    every = gateway.get(
        f"{BASE}/{project.samples}/rows",
        params={"format": "json", "columns": "sample"},
        headers=viewer,
    )
    assert len(rows.json()) >= SAMPLES.num_rows and rows.json() == every.json()
    unknown = gateway.post(
        f"{BASE}/{project.samples}/query",
        json={"queries": [{"id": "a", "aggregate": {"columns": ["ph"], "aggregations": [99]}}]},
        headers=viewer,
    )
    assert unknown.status_code == 400, unknown.text
    assert "expected an aggregation, got 99" in unknown.json()["detail"]


def test_rows_refuse_a_repeated_column_and_csv_of_no_rows_is_its_header(
    gateway: httpx.Client, project: LinkedProject
) -> None:
    viewer = bearer(project.people.viewer)
    url = f"{BASE}/{project.samples}/rows"
    twice = gateway.get(url, params={"columns": "sample,sample"}, headers=viewer)
    assert twice.status_code == 400, twice.text
    assert "column 'sample' is listed more than once" in twice.json()["detail"]
    past_the_end = gateway.get(
        url, params={"format": "csv", "columns": "sample,ph", "offset": 1000}, headers=viewer
    )
    assert past_the_end.status_code == 200
    frame = pd.read_csv(io.BytesIO(past_the_end.content))
    assert list(frame.columns) == ["sample", "ph"] and frame.empty


def strict_json(text: str) -> Any:
    """`text` parsed as JSON proper (Python's parser takes NaN and Infinity too)."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_csv_uploads_are_read_with_the_tables_types(
    gateway: httpx.Client, project: LinkedProject
) -> None:
    editor = bearer(project.people.editor)
    dc = project.abundance

    def upload(file: str, body: bytes) -> httpx.Response:
        return gateway.post(
            f"{BASE}/{dc}/upload",
            params={"run_id": "csv-typed", "file": file},
            content=body,
            headers={**editor, "content-type": "text/csv"},
        )

    # A sample named by digits stays text (the table's 'sample' holds text), an empty
    # abundance is a null, "inf" an infinity: inferred alone, the first two were int64 and
    # string, refused as type conflicts.
    typed = upload("typed.csv", b"sample,taxon,abundance\n123,Nostoc,\n900,Bacillus,inf\n")
    assert typed.status_code == 200, typed.text
    assert typed.json()["rows"] == 2
    arrow = gateway.get(f"{BASE}/{dc}/rows", headers=editor)
    table = pa.ipc.open_stream(arrow.content).read_all()
    added = {
        row["sample"]: row["abundance"]
        for row in table.to_pylist()
        if row["depictio_run_id"] == "csv-typed"
    }
    assert added == {"123": None, "900": float("inf")}
    # JSON has no infinity: the rows route gives null, and stays JSON.
    rows = gateway.get(
        f"{BASE}/{dc}/rows",
        params={"format": "json", "columns": "sample,abundance"},
        headers=editor,
    )
    parsed = strict_json(rows.text)
    assert {r["sample"]: r["abundance"] for r in parsed if r["sample"] in added} == {
        "123": None,
        "900": None,
    }
    before = len(gateway.get(f"{BASE}/{dc}/versions", headers=editor).json())
    wrong = upload("wrong.csv", b"sample,abundance\ns1,0.5\ns2,lots\n")
    assert wrong.status_code == 409, wrong.text
    assert wrong.json()["detail"] == (
        "wrong.csv, line 3, column 'abundance': 'lots' does not parse as double, "
        "the type of the table's column"
    )
    assert len(gateway.get(f"{BASE}/{dc}/versions", headers=editor).json()) == before


def test_rows_from_a_stalled_data_service_end_in_a_503_not_the_streams_deadline(
    make_stack: MakeStack,
) -> None:
    with make_stack(DEPICTIO_STREAM_IDLE_SECONDS="2") as stack:
        linked = linked_project(stack)
        viewer = bearer(linked.people.viewer)
        url = f"{BASE}/{linked.samples}/rows"
        with httpx.Client(base_url=stack.gateway_url, timeout=60) as client:
            upload(client, linked.samples, SAMPLES, linked.people.editor, "run-1")
            data_svc = stack.group.pid("data_svc")
            assert data_svc is not None
            os.kill(data_svc, signal.SIGSTOP)
            try:
                started = time.monotonic()
                stalled = client.get(url, params={"format": "csv"}, headers=viewer)
                waited = time.monotonic() - started
            finally:
                os.kill(data_svc, signal.SIGCONT)
            assert stalled.status_code == 503, stalled.text
            assert "data service" in stalled.json()["detail"]
            assert "did not answer in time" in stalled.json()["detail"]
            assert 2 <= waited < 15
            # data_svc going again, the same request is answered.
            answered = client.get(url, params={"format": "arrow"}, headers=viewer)
            assert answered.status_code == 200, answered.text
            assert pa.ipc.open_stream(answered.content).read_all().num_rows == SAMPLES.num_rows


NESTED = pa.table(
    {
        "sample": ["s1", "s2", "s3"],
        "reads": pa.array([[1, 2], None, [3]], pa.list_(pa.int64())),
        "qc": pa.array([{"ok": True, "score": 0.5}, {"ok": False, "score": 1.5}, None]),
        "tags": pa.array([[("lane", 1)], [], [("lane", 2)]], pa.map_(pa.string(), pa.int64())),
        "raw": pa.array([b"\x00\xff", b"abc", None], pa.binary()),
        "at": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC), None, None]),
        "day": pa.array([dt.date(2024, 2, 29), None, None]),
    }
)


def test_nested_and_bytes_columns_are_described_and_read_in_every_format(
    data_api_stack: Any, gateway: httpx.Client
) -> None:
    fresh = linked_project(data_api_stack)
    dc = fresh.samples
    upload(gateway, dc, NESTED, fresh.people.editor, "run-1", "nested.parquet")
    viewer = bearer(fresh.people.viewer)
    expected = pl.from_arrow(NESTED)
    schema = gateway.get(f"{BASE}/{dc}/schema", headers=viewer)
    assert schema.status_code == 200, schema.text
    columns = {c["name"]: c for c in schema.json()["columns"]}
    for name in NESTED.column_names:
        assert columns[name]["nulls"] == expected[name].null_count(), name
        assert columns[name]["nunique"] == expected[name].drop_nulls().n_unique(), name

    # JSON: bytes as base64, maps as [key, value] pairs; CSV: the same values as JSON text.
    b64 = {b"\x00\xff": "AP8=", b"abc": "YWJj", None: None}
    want = [
        {
            "sample": row["sample"],
            "reads": row["reads"],
            "qc": row["qc"],
            "tags": [list(pair) for pair in row["tags"]],
            "raw": b64[row["raw"]],
            # ISO 8601, as /query gives them.
            "at": "2024-01-02T03:04:05Z" if row["at"] else None,
            "day": "2024-02-29" if row["day"] else None,
        }
        for row in NESTED.to_pylist()
    ]
    columns_param = {"columns": ",".join(NESTED.column_names)}
    as_json = gateway.get(
        f"{BASE}/{dc}/rows", params={"format": "json", **columns_param}, headers=viewer
    )
    assert as_json.status_code == 200 and sorted(as_json.json(), key=lambda r: r["sample"]) == want
    as_csv = gateway.get(
        f"{BASE}/{dc}/rows", params={"format": "csv", **columns_param}, headers=viewer
    )
    assert as_csv.status_code == 200, as_csv.text
    frame = pd.read_csv(io.BytesIO(as_csv.content), keep_default_na=False).sort_values("sample")
    for name in ("reads", "qc", "tags"):
        got = [json.loads(text) if text else None for text in frame[name]]
        assert got == [row[name] for row in want], name
    assert list(frame["raw"]) == ["AP8=", "YWJj", ""]
    query = gateway.post(
        f"{BASE}/{dc}/query",
        json={
            "queries": [{"id": "page", "rows": {"columns": ["sample", "raw", "tags", "at", "day"]}}]
        },
        headers=viewer,
    )
    assert query.status_code == 200, query.text
    rows = sorted(query.json()["results"][0]["rows"], key=lambda r: r["sample"])
    shown = ["raw", "tags", "at", "day"]
    assert [[r[c] for c in shown] for r in rows] == [[w[c] for c in shown] for w in want]


def test_column_names_a_column_as_it_is(data_api_stack: Any, gateway: httpx.Client) -> None:
    """`column=` takes a name whole (a comma, outer spaces); `columns=` splits at commas."""
    fresh = linked_project(data_api_stack)
    odd = pa.table({"sample": ["s1", "s2"], "depth, m": [1.5, 2.5], " pad ": [1, 2]})
    upload(gateway, fresh.samples, odd, fresh.people.editor, "run-1")
    viewer = bearer(fresh.people.viewer)
    url = f"{BASE}/{fresh.samples}/rows"
    response = gateway.get(
        url,
        params=[
            ("format", "json"),
            ("columns", "sample"),
            ("column", "depth, m"),
            ("column", " pad "),
        ],
        headers=viewer,
    )
    assert response.status_code == 200, response.text
    assert response.json() == [
        {"sample": "s1", "depth, m": 1.5, " pad ": 1},
        {"sample": "s2", "depth, m": 2.5, " pad ": 2},
    ]
    split = gateway.get(url, params={"format": "json", "columns": "depth, m"}, headers=viewer)
    assert split.status_code == 400 and "'depth'" in split.json()["detail"]


def test_csv_uploads_keep_na_like_text_and_round_trip_the_rows_export(
    data_api_stack: Any, gateway: httpx.Client
) -> None:
    """Only an empty field is a null: "NA", "null", "N/A"… are text (sample names), a quoted
    empty field is the empty text — so the CSV /rows writes uploads back as it was."""
    fresh = linked_project(data_api_stack)
    editor = {**bearer(fresh.people.editor), "content-type": "text/csv"}
    url = f"{BASE}/{fresh.samples}"
    body = b'sample,site,ph\nNA,n/a,1.5\n"null","",\nN/A,#N/A,NaN\n,None,2\n'
    written = gateway.post(f"{url}/upload", params={"run_id": "r"}, content=body, headers=editor)
    assert written.status_code == 200, written.text
    columns = "sample,site,ph"
    got = gateway.get(f"{url}/rows", params={"format": "json", "columns": columns}, headers=editor)
    rows = sorted(got.json(), key=lambda row: str(row["sample"]))
    # Hand-checked: NaN is a float (JSON null, as the rows route writes NaN); the empty
    # unquoted fields are the nulls.
    assert rows == [
        {"sample": "N/A", "site": "#N/A", "ph": None},
        {"sample": "NA", "site": "n/a", "ph": 1.5},
        {"sample": None, "site": "None", "ph": 2.0},
        {"sample": "null", "site": "", "ph": None},
    ]
    exported = gateway.get(
        f"{url}/rows", params={"format": "csv", "columns": columns}, headers=editor
    )
    again = gateway.post(
        f"{url}/upload",
        params={"run_id": "r", "mode": "overwrite"},
        content=exported.content,
        headers=editor,
    )
    assert again.status_code == 200, again.text
    regot = gateway.get(f"{url}/rows", params={"format": "csv", "columns": columns}, headers=editor)
    assert regot.content == exported.content


def test_a_csv_overwrite_brings_its_own_types_and_long_rows_are_read(
    data_api_stack: Any, gateway: httpx.Client
) -> None:
    fresh = linked_project(data_api_stack)
    editor = {**bearer(fresh.people.editor), "content-type": "text/csv"}
    url = f"{BASE}/{fresh.samples}"
    first = gateway.post(
        f"{url}/upload", params={"run_id": "r"}, content=b"sample,ph\na,6.5\n", headers=editor
    )
    assert first.status_code == 200, first.text
    overwrite = gateway.post(
        f"{url}/upload",
        params={"run_id": "r", "mode": "overwrite"},
        content=b"sample,ph\nb,acidic\n",
        headers=editor,
    )
    assert overwrite.status_code == 200, overwrite.text
    schema = gateway.get(f"{url}/schema", headers=editor).json()
    assert {c["name"]: c["type"] for c in schema["columns"]}["ph"] == "string"
    long_value = "z" * 5_000_000
    long_row = f"sample,ph\n{long_value},basic\n".encode()
    appended = gateway.post(
        f"{url}/upload", params={"run_id": "r2"}, content=long_row, headers=editor
    )
    assert appended.status_code == 200, appended.text
    got = gateway.get(
        f"{url}/rows", params={"format": "arrow", "columns": "sample"}, headers=editor
    )
    samples = pa.ipc.open_stream(got.content).read_all().column("sample").to_pylist()
    assert sorted(samples, key=len) == ["b", long_value]


def test_bytes_and_nested_columns_upload_back_from_their_csv_export(
    data_api_stack: Any, gateway: httpx.Client
) -> None:
    """The CSV /rows writes (bytes as base64, lists, structs and maps as JSON) appends back
    into its own table as the values it held; text that is not is refused naming its line."""
    fresh = linked_project(data_api_stack)
    dc = fresh.samples
    upload(gateway, dc, NESTED, fresh.people.editor, "run-1")
    editor = bearer(fresh.people.editor)
    stored = pa.ipc.open_stream(gateway.get(f"{BASE}/{dc}/rows", headers=editor).content).schema
    exported = gateway.get(f"{BASE}/{dc}/rows", params={"format": "csv"}, headers=editor)
    assert exported.status_code == 200, exported.text
    csv_headers = {**editor, "content-type": "text/csv"}
    appended = gateway.post(
        f"{BASE}/{dc}/upload",
        params={"run_id": "run-2", "file": "back.csv"},
        content=exported.content,
        headers=csv_headers,
    )
    assert appended.status_code == 200, appended.text
    assert appended.json()["rows"] == NESTED.num_rows
    got = gateway.get(f"{BASE}/{dc}/rows", headers=editor)
    table = pa.ipc.open_stream(got.content).read_all()
    assert table.schema == stored
    runs = table.column("depictio_run_id").to_pylist()
    for run in ("run-1", "run-2"):
        rows = [
            {name: row[name] for name in NESTED.column_names}
            for row, of in zip(table.to_pylist(), runs, strict=True)
            if of == run
        ]
        assert sorted(rows, key=lambda row: row["sample"]) == NESTED.to_pylist(), run

    # The table holds large_binary, large_list, map<large_string, …> (as data_svc stores them).
    versions = gateway.get(f"{BASE}/{dc}/versions", headers=editor).json()
    refused = {
        b"sample,raw\ns9,AAE\n": (
            "bad.csv, line 2, column 'raw': 'AAE' is not base64 text of large_binary, the type "
            "of the table's column"
        ),
        b'sample,reads\ns8,[1]\ns9,"[1,"\n': (
            "bad.csv, line 3, column 'reads': '[1,' is not JSON text of large_list<item: "
            "int64>, the type of the table's column: Expecting value: line 1 column 4 (char 3)"
        ),
        b'sample,tags\ns9,"[[""lane"", ""one""]]"\n': (
            "bad.csv, line 2, column 'tags': '[[\"lane\", \"one\"]]' does not fit "
            "map<large_string, int64>, the type of the table's column: Could not convert "
            "'one' with type str: tried to convert to int64"
        ),
    }
    for body, detail in refused.items():
        answer = gateway.post(
            f"{BASE}/{dc}/upload",
            params={"run_id": "run-3", "file": "bad.csv"},
            content=body,
            headers=csv_headers,
        )
        assert answer.status_code == 409, answer.text
        assert answer.json()["detail"] == detail
    assert gateway.get(f"{BASE}/{dc}/versions", headers=editor).json() == versions


def test_a_coded_upload_body_is_refused_and_a_ragged_csv_row_named(
    gateway: httpx.Client, project: LinkedProject
) -> None:
    editor = bearer(project.people.editor)
    url = f"{BASE}/{project.samples}"
    versions = gateway.get(f"{url}/versions", headers=editor).json()
    body = b"sample,site\ns1,east\n"
    for media_type, content in (("text/csv", body), (ARROW["content-type"], table_to_ipc(SAMPLES))):
        coded = gateway.post(
            f"{url}/upload",
            params={"run_id": "gz"},
            content=gzip.compress(content),
            headers={**editor, "content-type": media_type, "content-encoding": "gzip"},
        )
        assert coded.status_code == 415, coded.text
        assert coded.json()["detail"] == (
            "content-encoding gzip: not supported; send the body as it is (identity)"
        )
        assert coded.headers["accept-encoding"] == "identity"
    ragged = gateway.post(
        f"{url}/upload",
        params={"run_id": "ragged", "file": "r.csv"},
        content=b"sample,site,ph\ns1,east,6.5\ns10,east\n",
        headers={**editor, "content-type": "text/csv", "content-encoding": "identity"},
    )
    assert ragged.status_code == 400, ragged.text
    assert ragged.json()["detail"] == "r.csv, line 3: 2 fields, expected 3 (as in the header)"
    assert gateway.get(f"{url}/versions", headers=editor).json() == versions
