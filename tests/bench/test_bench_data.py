"""Benchmarks of data_svc (`make bench`), side by side in one run on the same tables:

- a scan of a 10 M-row × 5-column table as DataClient.scan makes it (through data_svc's Arrow
  Flight endpoint) vs pyarrow.flight do_get of it from a plain Flight server holding it in
  memory (budget ≥ 0.8×); the same scan through the Scan RPC (gRPC Python); a local Parquet
  read of it; and, as the floor no work in data_svc's Scan RPC can go below, the same number
  of bytes streamed by a gRPC Python server of ready-made 1 MiB messages
  (grpc_stream_server.py) to a blocking channel like Scan's;
- a 16-query Query batch on a 12 M-row table (budget ≤ 300 ms median), unfiltered and under
  a selective filter (a few samples), each round asking something new so that no cached
  result can answer it.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pyarrow as pa
import pyarrow.flight as flight
import pyarrow.parquet as pq
import pytest
from conftest import MakeStack, background_process, free_port
from data_support import LinkedProject, data, linked_project
from metadata_support import run
from service_stats import wait_until_idle

from depictio.clients.data import SCAN_CODECS, SCAN_METHOD, DataClient
from depictio.filters import python_to_value
from depictio.rpc.channels import BLOCKING_CHANNEL_OPTIONS
from depictio.v1 import common_pb2, data_pb2

pytestmark = pytest.mark.timeout(900)
SCAN_ROWS = 10_000_000
QUERY_ROWS = 12_000_000
REPEATS = 9
QUERY_REPEATS = 15


def scan_table() -> pa.Table:
    """10 M rows × 5 numeric columns."""
    rng = np.random.default_rng(7)
    return pa.table(
        {
            "id": np.arange(SCAN_ROWS, dtype=np.int64),
            "x": rng.random(SCAN_ROWS),
            "y": rng.normal(size=SCAN_ROWS),
            "count": rng.integers(0, 1_000, SCAN_ROWS),
            "flag": rng.integers(0, 2, SCAN_ROWS).astype(np.int32),
        }
    )


def query_table() -> pa.Table:
    """12 M rows: a sample id, a taxon among 50, an abundance, a depth and a score."""
    rng = np.random.default_rng(11)
    taxa = np.array([f"taxon_{i:02d}" for i in range(50)])
    return pa.table(
        {
            "sample": pa.array(rng.integers(0, 5_000, QUERY_ROWS)).cast(pa.string()),
            "taxon": pa.DictionaryArray.from_arrays(
                rng.integers(0, 50, QUERY_ROWS).astype(np.int32), taxa
            ).cast(pa.string()),
            "abundance": rng.random(QUERY_ROWS),
            "depth": rng.integers(1_000, 100_000, QUERY_ROWS),
            "score": rng.normal(size=QUERY_ROWS),
        }
    )


def timed(action: Callable[[], Any], repeats: int) -> list[float]:
    """Wall-clock seconds of each of `repeats` runs of `action`."""
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - started)
    return seconds


@pytest.fixture(scope="module")
def parquet_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "scan.parquet"
    pq.write_table(scan_table(), path)
    return path


@pytest.fixture(scope="module")
def flight_port(parquet_file: Path) -> Iterator[int]:
    port = free_port()
    server = Path(__file__).with_name("flight_server.py")
    argv = [sys.executable, str(server), str(port), str(parquet_file)]
    with background_process(argv, port, parquet_file.with_suffix(".flight.log")):
        yield port


def ipc_stream_bytes(table: pa.Table) -> int:
    """The size of `table` as one Arrow IPC stream (what a Scan of it sends)."""
    sink = pa.MockOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return int(sink.size())


@pytest.fixture(scope="module")
def stream_floor(parquet_file: Path) -> Iterator[tuple[int, int]]:
    """The floor's server, streaming as many bytes as a Scan of the Parquet file's table:
    its port and that number of bytes."""
    port = free_port()
    total = ipc_stream_bytes(pq.read_table(parquet_file))
    server = Path(__file__).with_name("grpc_stream_server.py")
    argv = [sys.executable, str(server), str(port), str(total)]
    with background_process(argv, port, parquet_file.with_suffix(".stream.log")):
        yield port, total


def receive_stream(port: int) -> Callable[[], int]:
    """A call of the floor's stream that receives it whole, each message taken as Scan's
    client takes it (a view of its payload), and returns the payloads' bytes."""
    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=BLOCKING_CHANNEL_OPTIONS)

    def receive() -> int:
        # Through `channel` each time: a single-threaded stream does not hold its channel,
        # which would be closed once collected.
        stream = channel.unary_stream(SCAN_METHOD, **SCAN_CODECS)
        return sum(payload.nbytes for payload in stream(data_pb2.ScanRequest()))

    return receive


@pytest.fixture(scope="module")
def bench_stack(make_stack: MakeStack) -> Iterator[Any]:
    with make_stack(DEPICTIO_LOG_LEVEL="WARNING") as running:
        yield running


@pytest.fixture(scope="module")
def project(bench_stack: Any, parquet_file: Path) -> LinkedProject:
    """Both tables written through WriteTable (the 10 M one read back from the Parquet file)."""
    linked = linked_project(bench_stack)
    editor = data(bench_stack, linked.people.editor)
    source = pq.read_table(parquet_file)
    run(lambda: editor.write_table(linked.samples, source, run_id="bench", file="scan.parquet"))
    big = query_table()
    run(lambda: editor.write_table(linked.abundance, big, run_id="bench", file="query.parquet"))
    return linked


def batch_of_sixteen(round_: int = 0) -> list[data_pb2.ComponentQuery]:
    """A dashboard's worth of queries: cards, figures, a filter's options, a table.

    `round_` varies the histogram's bins and the table's page: a different batch each round,
    of the same cost, that no result cache holds.
    """
    agg = data_pb2.AggregateQuery
    q = data_pb2.ComponentQuery
    cards = [
        q(id=f"card-{name}", aggregate=agg(columns=[column], aggregations=[kind]))
        for name, column, kind in (
            ("mean", "abundance", data_pb2.AGGREGATION_MEAN),
            ("sum", "depth", data_pb2.AGGREGATION_SUM),
            ("max", "score", data_pb2.AGGREGATION_MAX),
            ("min", "score", data_pb2.AGGREGATION_MIN),
            ("std", "abundance", data_pb2.AGGREGATION_STD),
            ("nunique", "sample", data_pb2.AGGREGATION_NUNIQUE),
            ("median", "depth", data_pb2.AGGREGATION_MEDIAN),
        )
    ]
    return [
        *cards,
        q(id="count", aggregate=agg(aggregations=[data_pb2.AGGREGATION_COUNT])),
        q(
            id="by-taxon",
            aggregate=agg(
                columns=["abundance"], group_by=["taxon"], aggregations=[data_pb2.AGGREGATION_MEAN]
            ),
        ),
        q(id="hist", histogram=data_pb2.HistogramQuery(column="score", bins=50 + round_)),
        q(id="box", box=data_pb2.BoxQuery(column="abundance", group_by=["taxon"])),
        q(id="options", distinct=data_pb2.DistinctQuery(column="taxon")),
        q(id="top", top_n=data_pb2.TopNQuery(column="depth", n=10)),
        q(
            id="table",
            rows=data_pb2.RowsQuery(
                sort=[data_pb2.SortKey(column="score", order=data_pb2.SORT_ORDER_DESCENDING)],
                limit=50,
                offset=50 * round_,
            ),
        ),
        q(
            id="scatter",
            sample=data_pb2.SampleQuery(columns=["abundance", "score"], max_points=10_000),
        ),
        q(
            id="quantiles",
            aggregate=agg(
                columns=["depth"],
                quantiles=[0.1, 0.5, 0.9],
                aggregations=[data_pb2.AGGREGATION_QUANTILES],
            ),
        ),
    ]


def test_scan_throughput_and_query_latency(
    bench_stack: Any,
    project: LinkedProject,
    parquet_file: Path,
    flight_port: int,
    stream_floor: tuple[int, int],
) -> None:
    client = data(bench_stack, project.people.viewer)
    grpc_client = data(bench_stack, project.people.viewer, flight=False)
    nbytes = pq.read_table(parquet_file).nbytes
    # The specs of the versions just written are computed in the background: measured
    # alongside, they would slow whatever is measured first.
    data_svc = bench_stack.group.pid("data_svc")
    assert data_svc is not None
    wait_until_idle(data_svc)

    columns = ["id", "x", "y", "count", "flag"]

    async def scan_once() -> pa.Table:
        return await client.scan(project.samples, columns=columns)

    async def scan_rpc_once() -> pa.Table:
        return await grpc_client.scan(project.samples, columns=columns)

    scanned = run(scan_once)
    assert scanned.num_rows == SCAN_ROWS
    assert run(scan_rpc_once).equals(scanned)
    connection = flight.connect(f"grpc://127.0.0.1:{flight_port}")
    # The baseline is received, as DataClient.scan receives, in a thread that lives on: its
    # allocator's freed pages serve the next read (the main thread's heap is shared with
    # everything else this process does, which made the baseline's time vary twofold).
    baseline_reader = ThreadPoolExecutor(max_workers=1)

    def read_baseline() -> pa.Table:
        return baseline_reader.submit(
            lambda: connection.do_get(flight.Ticket(b"scan")).read_all()
        ).result()

    baseline = read_baseline()
    assert baseline.num_rows == SCAN_ROWS
    receive_floor = receive_stream(stream_floor[0])
    assert receive_floor() == stream_floor[1]
    # The five reads take turns, round after round: this machine's speed drifts by tens of
    # per cent within minutes, and each round's drift then falls on all five alike.
    scan_seconds, rpc_seconds, flight_seconds, parquet_seconds, floor_seconds = [], [], [], [], []
    for _ in range(REPEATS):
        scan_seconds += timed(lambda: run(scan_once), 1)
        rpc_seconds += timed(lambda: run(scan_rpc_once), 1)
        flight_seconds += timed(read_baseline, 1)
        parquet_seconds += timed(lambda: pq.read_table(parquet_file), 1)
        floor_seconds += timed(receive_floor, 1)

    rounds = iter(range(1, 10 * QUERY_REPEATS))

    def query_once(selective: bool, caller: DataClient = client) -> list[data_pb2.ComponentResult]:
        round_ = next(rounds)
        queries = batch_of_sixteen(round_)
        filters = {}
        if selective:
            # A dashboard filter on a few samples (about 0.1 % of the rows), new each round.
            chosen = [python_to_value(str(round_ * 7 + i)) for i in range(5)]
            filters[project.abundance] = common_pb2.Filter(
                column=common_pb2.ColumnPredicate(
                    column="sample", in_values=common_pb2.ValueList(values=chosen)
                )
            )
        results = run(lambda: caller.query(queries, project.abundance, filters))
        assert [r.id for r in results] == [q.id for q in queries]
        return results

    assert len(batch_of_sixteen()) == 16
    # The first batch decodes the table into memory: slower than the timed ones by far.
    patient = DataClient(bench_stack.data_addr, token=project.people.viewer, timeout=120)
    assert query_once(False, patient)[7].total_rows == QUERY_ROWS
    query_seconds = timed(lambda: query_once(selective=False), QUERY_REPEATS)
    filtered_seconds = timed(lambda: query_once(selective=True), QUERY_REPEATS)

    mb = nbytes / 1e6
    scan_rate = mb / statistics.median(scan_seconds)
    rpc_rate = mb / statistics.median(rpc_seconds)
    flight_rate = mb / statistics.median(flight_seconds)
    parquet_rate = mb / statistics.median(parquet_seconds)
    floor_rate = mb / statistics.median(floor_seconds)
    query_ms = statistics.median(query_seconds) * 1000
    filtered_ms = statistics.median(filtered_seconds) * 1000
    ratio = scan_rate / flight_rate
    print()
    print(f"data_svc benchmarks ({SCAN_ROWS:,} rows × 5 columns, {mb:,.0f} MB in memory)")
    print(f"  {'what':<42}{'median':>12}{'throughput':>16}")
    print(
        f"  {'scan via data_svc Flight (DataClient.scan)':<42}"
        f"{statistics.median(scan_seconds):>11.3f}s{scan_rate:>11,.0f} MB/s"
    )
    print(
        f"  {'Scan RPC (gRPC Python, ≤ 1 MiB messages)':<42}"
        f"{statistics.median(rpc_seconds):>11.3f}s{rpc_rate:>11,.0f} MB/s"
    )
    print(
        f"  {'pyarrow.flight do_get (baseline)':<42}"
        f"{statistics.median(flight_seconds):>11.3f}s{flight_rate:>11,.0f} MB/s"
    )
    print(
        f"  {'local Parquet read (pyarrow)':<42}"
        f"{statistics.median(parquet_seconds):>11.3f}s{parquet_rate:>11,.0f} MB/s"
    )
    print(
        f"  {'gRPC Python, ready-made 1 MiB messages':<42}"
        f"{statistics.median(floor_seconds):>11.3f}s{floor_rate:>11,.0f} MB/s"
    )
    print(f"  scan via data_svc Flight / Flight = {ratio:.2f}  (budget ≥ 0.80)")
    print(f"  Scan RPC / Flight = {rpc_rate / flight_rate:.2f}")
    print(
        f"  floor / Flight = {floor_rate / flight_rate:.2f}  (gRPC Python streaming the same "
        "bytes with no work at either end: the Scan RPC cannot be faster)"
    )
    for label, seconds in (("unfiltered", query_seconds), ("5 samples", filtered_seconds)):
        print(
            f"  Query: 16 queries on {QUERY_ROWS:,} rows, {label}, median "
            f"{statistics.median(seconds) * 1000:.0f} ms (budget ≤ 300 ms; "
            f"min {min(seconds) * 1000:.0f}, max {max(seconds) * 1000:.0f})"
        )
    assert ratio >= 0.8, f"Scan is {ratio:.2f} × Flight"
    assert query_ms <= 300, f"Query batch median {query_ms:.0f} ms unfiltered"
    assert filtered_ms <= 300, f"Query batch median {filtered_ms:.0f} ms with 5 samples"
