"""Timing a Viewer dashboard in Chromium: warm opens and filter changes, as the page paints them.

Times are read in the page: `performance.now()` in the first animation frame after the one in
which the awaited state is in the DOM (that state has then been painted). An open is timed from
the navigation's start (`performance.timeOrigin`), a filter change from the moment its new
value is set on the control.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from dashboard_data import FILTER_ID, DashboardShape, Expected
from playwright.sync_api import Page, Request, ViewportSize

VIEWPORT: ViewportSize = {"width": 1600, "height": 2400}
DASH_UPDATE = "_dash-update-component"
WAIT_MS = 120_000
# Quiet time after which a round's requests are all counted.
SETTLE_S = 0.4

# Installed before the page's own scripts: one animation-frame loop that stamps when the first
# chart, then every component, is painted, and when a filter change is painted everywhere.
PROBE = """
(() => {
  const spec = __SPEC__;
  window.__dptSpec = spec;
  const marks = {firstChart: null, all: null};
  window.__dptMarks = marks;
  const box = (id) => document.getElementById("component-" + id);
  const graph = (id) => { const b = box(id); return b && b.querySelector(".js-plotly-plot"); };
  const plotted = (gd) => !!(gd && gd.data && gd.data.length && gd._fullData &&
      gd._fullData.length === gd.data.length && gd._fullData[0]._input === gd.data[0] &&
      gd.querySelector(".main-svg"));
  const cardShown = (id) => {
    const b = box(id);
    const value = b && b.querySelector(".dpt-card-value");
    return !!(value && value.textContent.trim());
  };
  const firstRow = (id) => {
    const b = box(id);
    return b && b.querySelector('.ag-center-cols-container .ag-row[row-index="0"]');
  };
  // Dash renders a dict id as its JSON with sorted keys.
  const part = (id, type) => document.getElementById(JSON.stringify({id: id, type: type}));
  const caption = (id) => part(id, "table-caption");
  window.__dptErrors = () => spec.all
      .map((id) => [id, ((part(id, "component-error") || {}).textContent || "").trim()])
      .filter(([, text]) => text);
  // A table's total from its caption ("Rows 1–25 of 8,000").
  const rowsOf = (id) => {
    const text = (caption(id) || {}).textContent || "";
    const found = text.match(/of ([0-9,]+)$/);
    return found ? Number(found[1].replace(/,/g, "")) : null;
  };
  window.__dptRowsOf = rowsOf;
  const firstChart = () =>
      Array.from(document.querySelectorAll(".dpt-component .js-plotly-plot")).some(plotted);
  const allShown = () => spec.cards.every(cardShown) &&
      spec.figures.every((id) => plotted(graph(id))) &&
      spec.tables.every((id) => firstRow(id) !== null && rowsOf(id) !== null);
  const updated = (change) => {
    const generation = document.getElementById("render-generation");
    if (!generation || generation.textContent !== String(change.generation)) { return false; }
    if (!spec.cards.every(cardShown)) { return false; }
    for (const id of spec.figures) {
      const gd = graph(id);
      if (!plotted(gd) || gd.data === change.before[id]) { return false; }
    }
    for (const id of spec.tables) {
      const row = firstRow(id);
      const cell = row && row.querySelector('.ag-cell[col-id="sample_id"]');
      if (rowsOf(id) !== change.rows[id]) { return false; }
      if (!cell || !change.samples.includes(cell.textContent.trim())) { return false; }
    }
    return true;
  };
  let seen = {first: false, all: false, change: null};
  const tick = () => {
    const now = performance.now();
    if (seen.first && marks.firstChart === null) { marks.firstChart = now; }
    if (seen.all && marks.all === null) { marks.all = now; }
    const change = window.__dptChange || null;
    if (change && seen.change === change && change.done === null) {
      change.done = now - change.started;
    }
    seen = {
      first: marks.firstChart === null && firstChart(),
      all: marks.all === null && allShown(),
      change: change && change.done === null && updated(change) ? change : null,
    };
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""

START_CHANGE = """
([cid, value, generation, rows, samples]) => {
  const before = {};
  for (const id of window.__dptSpec.figures) {
    const b = document.getElementById("component-" + id);
    const gd = b && b.querySelector(".js-plotly-plot");
    before[id] = gd ? gd.data : null;
  }
  performance.clearResourceTimings();
  window.__dptChange = {
    started: performance.now(), generation, rows, samples, before, done: null,
  };
  dash_clientside.set_props({type: "filter-select", id: cid}, {value: value});
}
"""

# The requests to URLs containing `path` since `since` (ms, page clock): when each started,
# its time to first byte (the server's time) and when its response ended.
TIMINGS = """
([since, path]) => performance.getEntriesByType("resource")
  .filter((e) => e.name.includes(path) && e.startTime >= since)
  .map((e) => ({start: e.startTime - since, server: e.responseStart - e.requestStart,
                end: e.responseEnd - since}))
"""

# What the page shows: each card's value, each table's row total, each figure's y total.
SHOWN = """
(spec) => {
  const within = (id, selector) => document.querySelector("#component-" + id + " " + selector);
  const ySum = (gd) => (gd && gd.data || []).reduce(
      (sum, trace) => sum + (trace.y || []).reduce((a, b) => a + (Number(b) || 0), 0), 0);
  return {
    cards: Object.fromEntries(spec.cards.map((id) => {
      const value = within(id, ".dpt-card-value");
      return [id, value ? value.textContent.trim() : ""];
    })),
    tables: Object.fromEntries(spec.tables.map((id) => [id, window.__dptRowsOf(id)])),
    figures: Object.fromEntries(spec.figures.map(
        (id) => [id, ySum(within(id, ".js-plotly-plot"))])),
  };
}
"""


@dataclass
class OpenTiming:
    """One open: ms from the navigation's start to the first chart and to every component
    (or to the first component error), its Dash requests and their server time."""

    first_chart_ms: float | None
    all_ms: float
    layout_start_ms: float
    layout_server_ms: float
    layout_end_ms: float
    requests: int
    server_ms: float
    errors: list[str]


@dataclass
class ChangeTiming:
    """One filter change: ms until every component is painted, and its Dash requests."""

    total_ms: float
    requests: int
    request_start_ms: float
    response_end_ms: float
    server_ms: float


@dataclass
class Shown:
    """What the page shows: card texts, table row totals, and each figure's total of y."""

    cards: dict[str, str]
    table_rows: dict[str, int | None]
    figure_y_totals: dict[str, float]


@dataclass
class RequestCounter:
    """Counts the page's POSTs to the Dash server and knows when none is in flight."""

    posts: int = 0
    in_flight: set[Request] = field(default_factory=set)
    last_activity: float = 0.0

    def attach(self, page: Page) -> None:
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, request: Request) -> None:
        if request.method == "POST" and DASH_UPDATE in request.url:
            self.posts += 1
            self.in_flight.add(request)
            self.last_activity = time.monotonic()

    def _ended(self, request: Request) -> None:
        if request in self.in_flight:
            self.in_flight.discard(request)
            self.last_activity = time.monotonic()

    def settle(self, page: Page) -> None:
        """Returns once no Dash request has started or ended for SETTLE_S seconds."""
        deadline = time.monotonic() + WAIT_MS / 1000
        while self.in_flight or time.monotonic() - self.last_activity < SETTLE_S:
            if time.monotonic() > deadline:
                raise AssertionError(f"Dash requests still in flight: {len(self.in_flight)}")
            page.wait_for_timeout(50)


class ViewerProbe:
    """One dashboard open in one tab of a signed-in browser context."""

    def __init__(self, page: Page, url: str, shape: DashboardShape) -> None:
        self.page = page
        self.url = url
        self.shape = shape
        self.counter = RequestCounter()
        self.counter.attach(page)
        self.spec = {
            "all": shape.components,
            "cards": shape.cards,
            "figures": shape.figures,
            "tables": shape.tables,
        }
        page.add_init_script(PROBE.replace("__SPEC__", json.dumps(self.spec)))
        self.generation = 0

    def open(self) -> OpenTiming:
        """Navigates to the dashboard; waits until every component is painted or one fails."""
        self.counter.settle(self.page)
        before = self.counter.posts
        self.page.goto(self.url, wait_until="commit")
        self.page.wait_for_function(
            "() => window.__dptMarks && (window.__dptMarks.all !== null"
            " || window.__dptErrors().length > 0)",
            timeout=WAIT_MS,
        )
        marks, errors, now = self.page.evaluate(
            "() => [window.__dptMarks, window.__dptErrors(), performance.now()]"
        )
        layout = self.page.evaluate(TIMINGS, [0, "_dash-layout"])[0]
        updates = self.page.evaluate(TIMINGS, [0, DASH_UPDATE])
        self.counter.settle(self.page)
        self.generation = 0
        all_ms = marks["all"] if marks["all"] is not None else now
        return OpenTiming(
            marks["firstChart"],
            all_ms,
            layout["start"],
            layout["server"],
            layout["end"],
            self.counter.posts - before,
            sum(r["server"] for r in updates if r["end"] <= all_ms),
            [f"{cid}: {text}" for cid, text in errors],
        )

    def change(self, value: list[str], expected: Expected) -> ChangeTiming:
        """Sets the filter to `value` and waits until every component shows its result."""
        self.counter.settle(self.page)
        before = self.counter.posts
        self.generation += 1
        self.page.evaluate(
            START_CHANGE,
            [FILTER_ID, value, self.generation, expected.table_rows, expected.samples],
        )
        self.page.wait_for_function(
            "() => window.__dptChange.done !== null || window.__dptErrors().length > 0",
            timeout=WAIT_MS,
        )
        total, errors, started = self.page.evaluate(
            "() => [window.__dptChange.done, window.__dptErrors(), window.__dptChange.started]"
        )
        requests = self.page.evaluate(TIMINGS, [started, DASH_UPDATE])
        if errors:
            raise AssertionError(
                f"{self.shape.size} components, filter {value}: "
                + "; ".join(f"{cid}: {text}" for cid, text in errors)
            )
        self.counter.settle(self.page)
        return ChangeTiming(
            float(total),
            self.counter.posts - before,
            min((r["start"] for r in requests), default=float("nan")),
            max((r["end"] for r in requests), default=float("nan")),
            sum(r["server"] for r in requests),
        )

    def shown(self) -> Shown:
        """What the page shows now."""
        shown = self.page.evaluate(SHOWN, self.spec)
        return Shown(shown["cards"], shown["tables"], shown["figures"])
