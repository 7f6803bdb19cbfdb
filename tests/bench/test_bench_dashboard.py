"""Benchmark of the Viewer (`make bench`): dashboard opens and filter changes timed in Chromium.

Three linked tables (metadata 500 rows, metrics 8,000, features 12,011,000, linked on
`sample_id`; tests/bench/dashboard_data.py) ingested with `depictio run`; dashboards of 4, 8
and 16 components whose multiselect on metadata's `batch` reaches all three tables through the
links. Per dashboard, in a fresh browser profile, signed in: a first open, warm opens (first
chart, every component painted; the profile keeps what a returning user's browser keeps, the
HTTP cache and V8's cache of compiled scripts) and filter changes (every component painted
with the new filter's data; cards and table totals checked against polars), a new filter value
each round; Dash requests per change; data_svc's peak resident memory. Budgets (DESIGN §11):
16 components open ≤ 1.0 s, first chart ≤ 200 ms, filter change ≤ 1.0 s median, ≤ 2 Dash
requests per change, data_svc peak ≤ 1.5 GiB.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from cli_support import Cli, Server, api_token
from conftest import MakeStack, Stack, background_process, free_port
from dashboard_browser import (
    VIEWPORT,
    ChangeTiming,
    OpenTiming,
    ViewerProbe,
)
from dashboard_data import (
    PROJECT_NAME,
    DashboardShape,
    Expected,
    cached_project,
    card_matches,
    dashboard,
    expected,
    filter_values,
)
from first_chart_floor import first_chart_ms
from playwright.sync_api import BrowserContext, Playwright, sync_playwright
from service_stats import (
    machine,
    peak_rss_mib,
    reset_peak_rss,
    rpc_durations,
    wait_until_idle,
)

from depictio.headless_chromium import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.timeout(1800)
SIZES = (4, 8, 16)
WARM_ATTEMPTS = 4
OPEN_ROUNDS = 9
CHANGE_ROUNDS = 11
TABLE_ROWS = {"metadata": 500, "metrics": 8_000, "features": 12_011_000}
QUERY_RPC = "/depictio.v1.DataService/Query"
PEAK_BUDGET_MIB = 1536


@dataclass
class Ingested:
    """The benchmark project as the stack holds it, with its dashboards by size."""

    dashboards: dict[int, str]
    seconds: float
    data_svc_peak_mib: float


@dataclass
class Measured:
    """One dashboard size's rounds."""

    size: int
    first_open: OpenTiming
    opens: list[OpenTiming] = field(default_factory=list)
    changes: list[ChangeTiming] = field(default_factory=list)
    query_ms: list[float] = field(default_factory=list)
    data_svc_peak_mib: float = 0.0


@pytest.fixture(scope="module")
def bench_stack(make_stack: MakeStack, redis_url: str) -> Iterator[Stack]:
    # The query result cache on, as `depictio up` runs it. No filter value repeats, so only
    # the (warm) opens can be answered from it.
    with make_stack(ui=True, DEPICTIO_REDIS_URL=redis_url) as running:
        yield running


@pytest.fixture(scope="module")
def floor_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The first-chart floor's server (first_chart_floor.py)."""
    port = free_port()
    server = Path(__file__).with_name("first_chart_floor.py")
    log = tmp_path_factory.mktemp("first-chart-floor") / "server.log"
    with background_process([sys.executable, str(server), str(port)], port, log):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def ingested(bench_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    """The tables ingested by `depictio run`, the three dashboards imported."""
    config = cached_project()
    token = api_token(bench_stack.gateway_url, bench_stack.admin_email, bench_stack.admin_password)
    cli = Cli(bench_stack.gateway_url, tmp_path_factory.mktemp("dashboard-bench"), token)
    started = time.perf_counter()
    done = cli("run", str(config), "--json")
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    data_svc = bench_stack.group.pid("data_svc")
    assert data_svc is not None
    # The peak once data_svc is idle again: the specs computed after the writes count too.
    wait_until_idle(data_svc)
    ingestion_peak = peak_rss_mib(data_svc)
    server = Server(bench_stack.gateway_url, token)
    project = server.project(PROJECT_NAME)
    for tag, rows in TABLE_ROWS.items():
        schema = server.get(f"/api/v1/datacollections/{server.dc_id(project, tag)}/schema")
        assert schema["rows"] == rows, f"{tag}: {schema['rows']} rows"
    server.close()
    ids = {}
    with httpx.Client(
        base_url=bench_stack.gateway_url, headers={"authorization": f"Bearer {token}"}, timeout=60
    ) as http:
        for size in SIZES:
            response = http.post(
                "/api/v1/dashboards/import",
                params={"project_id": project["id"]},
                content=dashboard(size).yaml,
                headers={"content-type": "application/yaml"},
            )
            assert response.status_code == 201, response.text
            ids[size] = str(response.json()["id"])
    return Ingested(ids, seconds, ingestion_peak)


def check_shown(probe: ViewerProbe, wanted: Expected, what: str) -> None:
    """Cards, table totals and histogram counts are what polars computes from the data."""
    shown = probe.shown()
    wrong: dict[str, tuple[object, object]] = {
        cid: (shown.cards[cid], value)
        for cid, value in wanted.cards.items()
        if not card_matches(shown.cards[cid], value)
    }
    wrong |= {
        cid: (shown.table_rows[cid], rows)
        for cid, rows in wanted.table_rows.items()
        if shown.table_rows[cid] != rows
    }
    wrong |= {
        cid: (shown.figure_y_totals[cid], rows)
        for cid, rows in wanted.histogram_rows.items()
        if shown.figure_y_totals[cid] != rows
    }
    assert not wrong, f"{probe.shape.size} components, {what}: (shown, expected) {wrong}"


def warm_up(probe: ViewerProbe, data_svc: int) -> None:
    """Opens until every component renders, then once more (browser and server caches warm).

    After a failed open, waits for data_svc to go idle: a Query cut by its deadline still
    runs to its end there, and would slow the next attempt."""
    for _ in range(WARM_ATTEMPTS):
        if not probe.open().errors:
            probe.open()
            return
        wait_until_idle(data_svc)
    raise AssertionError(f"{probe.shape.size} components: no open without errors")


def chromium_version() -> str:
    """The version the Chromium executable reports (a persistent context has no Browser)."""
    reported = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=True)
    found = re.search(r"\d+(\.\d+)+", reported.stdout)
    return found.group(0) if found else reported.stdout.strip()


def measure(
    context: BrowserContext, stack: Stack, shape: DashboardShape, dashboard_id: str, offset: int
) -> Measured:
    """A first open, warm opens, then filter changes of one dashboard in `context` (fresh)."""
    data_svc = stack.group.pid("data_svc")
    assert data_svc is not None
    values = filter_values(offset, CHANGE_ROUNDS)
    unfiltered = expected(shape, None)
    targets = [expected(shape, value) for value in values]
    login = context.request.post(
        f"{stack.ui_url}/auth/login",
        form={"email": stack.admin_email, "password": stack.admin_password},
    )
    assert login.ok, login.status
    probe = ViewerProbe(context.new_page(), f"{stack.ui_url}/dashboard/{dashboard_id}", shape)
    reset_peak_rss(data_svc)
    measured = Measured(shape.size, probe.open())
    wait_until_idle(data_svc)
    warm_up(probe, data_svc)
    wait_until_idle(data_svc)
    for _ in range(OPEN_ROUNDS):
        opened = probe.open()
        assert not opened.errors, f"{shape.size} components, warm open: {opened.errors}"
        measured.opens.append(opened)
        check_shown(probe, unfiltered, "open")
    for value, target in zip(values, targets, strict=True):
        skip = len(stack.log_text("data_svc").splitlines())
        measured.changes.append(probe.change(value, target))
        measured.query_ms.append(sum(rpc_durations(stack.log_text("data_svc"), QUERY_RPC, skip)))
        check_shown(probe, target, f"filter batch in {value}")
    measured.data_svc_peak_mib = peak_rss_mib(data_svc)
    return measured


def med(values: Iterable[float | None]) -> float:
    """The median of the values that are there."""
    return statistics.median(v for v in values if v is not None)


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def first_open_text(opened: OpenTiming) -> str:
    if opened.errors:
        return f"{opened.all_ms:,.0f} ms with {len(opened.errors)} failed ({opened.errors[0]})"
    return f"{opened.all_ms:,.0f} ms"


def report(
    results: list[Measured],
    ingested: Ingested,
    browser_version: str,
    loads: list[float],
    floors: dict[str, float],
) -> None:
    rows = ", ".join(f"{tag} {count:,}" for tag, count in TABLE_ROWS.items())
    print()
    print(f"Dashboard benchmark ({rows} rows; linked on sample_id)")
    print(f"  machine: {machine(browser_version)}")
    print(
        f"  load average (1 min): {loads[0]:.1f} before the rounds (this stack idle), "
        f"{loads[1]:.1f} after"
    )
    print(
        f"  ingestion (depictio run): {ingested.seconds:.1f} s, "
        f"data_svc peak {ingested.data_svc_peak_mib:,.0f} MiB"
    )
    print(
        f"  {OPEN_ROUNDS} warm opens and {CHANGE_ROUNDS} filter changes (a new value each) per "
        "dashboard; ms in the page (performance.now) until painted"
    )
    print(
        f"  {'':>10}{'':>11}{'open, all components':^24}{'filter change':^24}"
        f"{'Dash req.':>11}{'data_svc':>12}"
    )
    print(
        f"  {'components':>10}{'1st chart':>11}{'median':>8}{'p90':>8}{'min':>8}"
        f"{'median':>8}{'p90':>8}{'min':>8}{'/change':>11}{'peak RSS':>12}"
    )
    for m in results:
        opens = [o.all_ms for o in m.opens]
        changes = [c.total_ms for c in m.changes]
        print(
            f"  {m.size:>10}{med(o.first_chart_ms for o in m.opens):>11.0f}"
            f"{med(opens):>8.0f}{p90(opens):>8.0f}{min(opens):>8.0f}"
            f"{med(changes):>8.0f}{p90(changes):>8.0f}{min(changes):>8.0f}"
            f"{max(c.requests for c in m.changes):>11}{m.data_svc_peak_mib:>8,.0f} MiB"
        )
    print("  where the time goes (medians, ms):")
    print(
        f"  {'':>10}{'open: layout request at':>25}{'its server':>12}{'update reqs':>13}"
        f"{'their server':>14}{'layout→painted':>16}"
    )
    for m in results:
        print(
            f"  {m.size:>10}{med(o.layout_start_ms for o in m.opens):>25.0f}"
            f"{med(o.layout_server_ms for o in m.opens):>12.0f}"
            f"{med(o.requests for o in m.opens):>13.0f}{med(o.server_ms for o in m.opens):>14.0f}"
            f"{med(o.all_ms - o.layout_end_ms for o in m.opens):>16.0f}"
        )
    print(
        f"  {'':>10}{'change: request at':>25}{'its server':>12}{'data_svc Query':>16}"
        f"{'response→painted':>18}"
    )
    for m in results:
        print(
            f"  {m.size:>10}{med(c.request_start_ms for c in m.changes):>25.0f}"
            f"{med(c.server_ms for c in m.changes):>12.0f}{med(m.query_ms):>16.0f}"
            f"{med(c.total_ms - c.response_end_ms for c in m.changes):>18.0f}"
        )
    for m in results:
        print(f"  first open, {m.size} components: {first_open_text(m.first_open)}")
    print(
        f"  first-chart floor, {OPEN_ROUNDS} warm opens of one 3-bar chart and nothing else "
        f"(first_chart_floor.py): a Dash page {floors['dash']:,.0f} ms, a plain Plotly.js page "
        f"{floors['plain']:,.0f} ms"
    )


def budget_failures(results: list[Measured]) -> list[str]:
    """Every budget missed, in a sentence each."""
    failures = []
    largest = next(m for m in results if m.size == max(SIZES))
    open_all = med(o.all_ms for o in largest.opens)
    first_chart = med(o.first_chart_ms for o in largest.opens)
    change = med(c.total_ms for c in largest.changes)
    if open_all > 1000:
        failures.append(f"16 components: warm open {open_all:,.0f} ms (budget 1,000)")
    if first_chart > 200:
        failures.append(f"16 components: first chart {first_chart:,.0f} ms (budget 200)")
    if change > 1000:
        failures.append(f"16 components: filter change {change:,.0f} ms median (budget 1,000)")
    for m in results:
        most = max(c.requests for c in m.changes)
        if most > 2:
            failures.append(f"{m.size} components: {most} Dash requests for a change (budget 2)")
    peak = max(m.data_svc_peak_mib for m in results)
    if peak > PEAK_BUDGET_MIB:
        failures.append(f"data_svc peak {peak:,.0f} MiB (budget {PEAK_BUDGET_MIB:,})")
    return failures


@contextmanager
def fresh_profile(playwright: Playwright, path: Path) -> Iterator[BrowserContext]:
    """Chromium with a persistent profile at `path` (new): Chromium's incognito contexts
    (Playwright's default) keep no code cache, so every open would compile Plotly's 3.5 MB
    again."""
    context = playwright.chromium.launch_persistent_context(
        path, executable_path=CHROMIUM, args=CHROMIUM_ARGS, viewport=VIEWPORT
    )
    try:
        yield context
    finally:
        context.close()


def test_dashboard_open_and_filter_change(
    bench_stack: Stack, ingested: Ingested, floor_url: str
) -> None:
    loads = [os.getloadavg()[0]]
    results = []
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profiles:
        for index, size in enumerate(SIZES):
            with fresh_profile(playwright, Path(profiles) / str(size)) as context:
                shape = dashboard(size)
                results.append(
                    measure(
                        context,
                        bench_stack,
                        shape,
                        ingested.dashboards[size],
                        index * CHANGE_ROUNDS,
                    )
                )
        # What Dash itself takes to draw one chart on this machine.
        with fresh_profile(playwright, Path(profiles) / "floor") as context:
            floors = {
                "dash": first_chart_ms(context, f"{floor_url}/", 3, OPEN_ROUNDS),
                "plain": first_chart_ms(context, f"{floor_url}/plain", 3, OPEN_ROUNDS),
            }
    loads.append(os.getloadavg()[0])
    report(results, ingested, chromium_version(), loads, floors)
    failures = budget_failures(results)
    assert not failures, "; ".join(failures)
