"""Every component and control kind of the Viewer, in a browser, on a table ingested for the
test: figures of each chart type render, a card shows its secondary aggregations, each control
kind filters (all combined with AND) to the rows pandas keeps, and components of a second tab
and of a folded filter section fetch nothing until they are shown.
"""

from __future__ import annotations

import re
import time
import uuid
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import pandas as pd
import pytest
from cli_support import Cli, api_token
from playwright.sync_api import Browser, Page, Request, Route, expect

from dash_apps.preload import FIGURE_AND_TABLE_SCRIPTS

from .browser import fresh_page, shot, sign_in
from .conftest import People, UiStack

pytestmark = pytest.mark.timeout(240)

CHARTS = ["scatter", "line", "area", "bar", "box", "violin", "histogram", "heatmap", "pie"]
CONTROLS = {
    "site_select": ("site", "select"),
    "site_multi": ("site", "multiselect"),
    "site_segments": ("site", "segmented_control"),
    "count_slider": ("count", "slider"),
    "depth_range": ("depth", "range_slider"),
    "flagged_switch": ("flagged", "checkbox"),
    "day_range": ("day", "date_range"),
    "site_search": ("site", "text_input"),
}


def observations() -> pd.DataFrame:
    """300 seeded observations: a site, a day, a flag and two measurements."""
    rng = np.random.default_rng(7)
    size = 300
    return pd.DataFrame(
        {
            "site": rng.choice(["north_bay", "south_bay", "east_reef", "west_reef"], size),
            "day": pd.to_datetime("2024-03-01") + pd.to_timedelta(rng.integers(0, 60, size), "D"),
            "flagged": rng.random(size) < 0.3,
            "depth": np.round(rng.uniform(1.0, 40.0, size), 2),
            "count": rng.integers(0, 100, size),
        }
    )


def chart(kind: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "type": "figure",
        "id": f"chart_{kind}",
        "title": kind,
        "data": {"data_collection": "observations"},
        "visu_type": kind,
        "x": "depth",
        "y": "count",
        "color": "site",
    }
    if kind in ("bar", "box", "violin", "pie"):
        spec["x"] = "site"
    if kind == "heatmap":
        spec.update({"x": "site", "y": "flagged", "color": "depth"})
    if kind == "pie":
        spec.pop("color")
    return spec


# Longer than its cell (two grid rows) shows.
NOTES = "## Field notes\nAll **sites**.\n\n" + "\n\n".join(
    f"Visit {n}: samples taken." for n in range(1, 9)
)
# The notes' text box: whether it scrolls, and where its last line lies once scrolled to the
# end, against the bottom of the component's panel.
NOTES_SCROLLED = """() => {
    const box = document.querySelector('#component-notes .dpt-text');
    const scrolls = box.scrollHeight > box.clientHeight;
    box.scrollTop = box.scrollHeight;
    const last = box.querySelector('p:last-child').getBoundingClientRect();
    const panel = document.getElementById('component-notes').getBoundingClientRect();
    return {scrolls, lastText: box.querySelector('p:last-child').textContent,
            fits: last.bottom <= panel.bottom + 0.5};
}"""


# The depth card's value once the card is made 90 px wide: whether it fits, at what size.
CARD_IN_90_PX = """async () => {
    const card = document.querySelector('#component-depth_card .dpt-card');
    const value = card.querySelector('.dpt-card-value');
    const fullPx = parseFloat(getComputedStyle(document.documentElement).fontSize) * 1.8;
    card.style.width = '90px';
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    const fits = value.scrollWidth <= value.clientWidth + 1;
    const fontPx = parseFloat(getComputedStyle(value).fontSize);
    const sizes = [value.scrollWidth, value.clientWidth, card.clientWidth];
    card.style.width = '';
    return {fits, fontPx, fullPx, text: value.textContent, sizes};
}"""


def dashboard(project_id: str) -> dict[str, Any]:
    data = {"data_collection": "observations"}
    controls = [
        {
            "type": "interactive",
            "id": cid,
            "title": cid,
            "data": data,
            "column": column,
            "interactive_type": kind,
        }
        for cid, (column, kind) in CONTROLS.items()
    ]
    components = [
        *controls,
        {
            "type": "card",
            "id": "depth_card",
            "title": "Depth",
            "data": data,
            "column": "depth",
            "aggregation": "mean",
            "secondary": ["min", "max", "count"],
        },
        *[chart(kind) for kind in CHARTS],
        {"type": "table", "id": "rows", "title": "Rows", "data": data, "page_size": 20},
        {"type": "text", "id": "notes", "content": NOTES},
    ]
    grid = [
        {"i": "depth_card", "x": 0, "y": 0, "w": 4, "h": 2},
        {"i": "notes", "x": 4, "y": 0, "w": 8, "h": 2},
        {"i": "rows", "x": 0, "y": 2, "w": 12, "h": 5},
    ]
    # The charts' last row lies below the first screen: it loads when scrolled into view.
    grid += [
        {"i": f"chart_{kind}", "x": (n % 3) * 4, "y": 7 + (n // 3) * 4, "w": 4, "h": 4}
        for n, kind in enumerate(CHARTS)
    ]
    return {
        "title": "Every component",
        "tabs": [
            {
                "id": "main",
                "title": "Main",
                "components": components,
                "layout": grid,
                "filter_sections": [
                    {"id": "filters", "title": "Filters", "component_ids": list(CONTROLS)[1:]},
                    {
                        "id": "more",
                        "title": "More",
                        "component_ids": ["site_select"],
                        "collapsed": True,
                    },
                ],
            },
            {
                "id": "second",
                "title": "Rows",
                "components": [
                    {
                        "type": "table",
                        "id": "later_rows",
                        "title": "Later",
                        "data": data,
                        "page_size": 20,
                    }
                ],
                "layout": [{"i": "later_rows", "x": 0, "y": 0, "w": 12, "h": 8}],
            },
        ],
    }


@pytest.fixture(scope="module")
def every_component(
    ui_stack: UiStack,
    gateway: httpx.Client,
    admin_token: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, pd.DataFrame]:
    """The dashboard id, and the table as pandas reads it."""
    folder = tmp_path_factory.mktemp("observations")
    frame = observations()
    frame.to_csv(folder / "observations.csv", index=False, date_format="%Y-%m-%d")
    name = f"Observations {uuid.uuid4().hex[:6]}"
    (folder / "project.yaml").write_text(
        f"name: '{name}'\nproject_type: basic\nis_public: false\n"
        "data_collections:\n  - data_collection_tag: observations\n    config:\n"
        "      type: Table\n"
        "      scan: {mode: single, scan_parameters: {filename: observations.csv}}\n"
        "      dc_specific_properties: {format: CSV, polars_kwargs: {try_parse_dates: true}}\n"
    )
    token = api_token(
        ui_stack.gateway_url, ui_stack.stack.admin_email, ui_stack.stack.admin_password
    )
    cli = Cli(ui_stack.gateway_url, folder / "config", token)
    done = cli("run", str(folder / "project.yaml"))
    assert done.returncode == 0, done.stdout + done.stderr
    headers = {"Authorization": f"Bearer {admin_token}"}
    projects = gateway.get("/api/v1/projects", headers=headers).json()["items"]
    project_id = next(p["id"] for p in projects if p["name"] == name)
    created = gateway.post(
        "/api/v1/dashboards",
        json={"project_id": project_id, "document": dashboard(project_id)},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"]), frame


def wait_for_generation(page: Page, value: int) -> None:
    page.wait_for_function(
        f"document.getElementById('render-generation').textContent === '{value}'"
    )
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def traces(page: Page, cid: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = page.evaluate(
        f"""() => document.querySelector('#component-{cid} .js-plotly-plot').data.map(t => ({{
            type: t.type, name: t.name || '',
            n: (t.x || t.y || t.values || t.z || t.q1 || []).length}}))"""
    )
    return result


TRANSPARENT = "rgba(0, 0, 0, 0)"


def table_total(page: Page, cid: str) -> str:
    return (
        page.locator(f'#component-{cid} [id*="table-caption"]').inner_text().rsplit(" of ", 1)[-1]
    )


def set_control(page: Page, cid: str, value: Any, prop: str = "value") -> None:
    """Changes a control's value as the user's change would (same store, same callbacks)."""
    part = {"checked": "filter-checked", "value": "filter-value"}[prop]
    kind = CONTROLS[cid][1]
    if kind in ("select", "multiselect", "segmented_control"):
        part = "filter-select"
    page.evaluate(
        "([part, cid, prop, value]) =>"
        " dash_clientside.set_props({type: part, id: cid}, {[prop]: value})",
        [part, cid, prop, value],
    )


def test_every_chart_kind_renders_and_the_card_shows_its_secondary_values(
    page: Page, people: People, every_component: tuple[str, pd.DataFrame]
) -> None:
    dashboard_id, frame = every_component
    sign_in(page, people.admin.email, people.admin.password)
    page.goto(f"/dashboard/{dashboard_id}")
    expect(page.locator("#component-depth_card .dpt-card-value")).to_have_text(
        f"{frame['depth'].mean():,.4f}".rstrip("0").rstrip(".")
    )
    secondary = page.locator("#component-depth_card .dpt-card-secondary-item").all_inner_texts()
    assert secondary == [
        f"min {frame['depth'].min():g}",
        f"max {frame['depth'].max():g}",
        f"count {len(frame)}",
    ]
    expect(page.locator("#component-notes h2")).to_have_text("Field notes")
    # In a card too narrow for the value at its full size, the value shrinks to fit (it was
    # cut without a sign: "1,437,000" showed as "1,437,0").
    narrowed = page.evaluate(CARD_IN_90_PX)
    assert narrowed["fits"], str(narrowed)
    assert narrowed["fontPx"] < narrowed["fullPx"], narrowed
    # A text longer than its cell scrolls to its end (it was cut off).
    assert page.evaluate(NOTES_SCROLLED) == {
        "scrolls": True,
        "lastText": "Visit 8: samples taken.",
        "fits": True,
    }
    sites = sorted(frame["site"].unique())
    for kind in CHARTS:
        page.locator(f"#component-chart_{kind}").scroll_into_view_if_needed()
        page.wait_for_function(
            f"(document.querySelector('#component-chart_{kind} .js-plotly-plot') || {{}}).data"
            "?.length > 0"
        )
        drawn = traces(page, f"chart_{kind}")
        assert drawn, kind
        # The component's own layout (margins, horizontal legend), also for the charts below
        # the fold, drawn only once scrolled to (their later rounds patch only the data).
        assert page.evaluate(
            f"""() => {{ const l = document.querySelector('#component-chart_{kind} .js-plotly-plot')
                .layout; return [l.margin && l.margin.l, l.legend && l.legend.orientation]; }}"""
        ) == [50, "h"], kind
        expect(page.locator(f'#component-chart_{kind} [id*="component-error"]')).to_have_text("")
        if kind in ("scatter", "line", "area", "violin", "histogram"):
            assert sorted(t["name"] for t in drawn) == sites, kind
            assert sum(t["n"] for t in drawn) == len(frame), kind
    assert traces(page, "chart_pie")[0]["n"] == len(sites)
    assert [t["type"] for t in traces(page, "chart_heatmap")] == ["heatmap"]
    shot(page, "viewer-every-component")


def test_each_control_kind_filters_and_all_combine_with_and(
    page: Page, people: People, every_component: tuple[str, pd.DataFrame]
) -> None:
    dashboard_id, frame = every_component
    sign_in(page, people.admin.email, people.admin.password)
    page.goto(f"/dashboard/{dashboard_id}")
    expect(page.locator("#component-depth_card .dpt-card-value")).not_to_have_text("")
    # The second tab's table and the folded section's select have fetched nothing yet.
    expect(page.locator('#component-later_rows [id*="table-caption"]')).to_have_text("")

    steps: list[tuple[str, Any, str, pd.Series]] = [
        (
            "site_multi",
            ["north_bay", "east_reef", "west_reef"],
            "value",
            frame["site"].isin(["north_bay", "east_reef", "west_reef"]),
        ),
        ("site_segments", "east_reef", "value", frame["site"] == "east_reef"),
        ("count_slider", 80, "value", frame["count"] <= 80),
        ("depth_range", [5, 35], "value", frame["depth"].between(5, 35)),
        ("flagged_switch", True, "checked", frame["flagged"]),
        (
            "day_range",
            ["2024-03-05", "2024-04-20"],
            "value",
            frame["day"].between(pd.Timestamp("2024-03-05"), pd.Timestamp("2024-04-20")),
        ),
        ("site_search", "reef", "value", frame["site"].str.contains("reef")),
    ]
    multi_placeholder = (
        "() => getComputedStyle(document.querySelector("
        "'#component-site_multi input:not([type=hidden])'), '::placeholder').color"
    )
    assert page.evaluate(multi_placeholder) != TRANSPARENT
    mask = pd.Series(True, index=frame.index)
    for generation, (cid, value, prop, keep) in enumerate(steps, start=1):
        set_control(page, cid, value, prop)
        wait_for_generation(page, generation)
        if cid == "site_multi":
            # "All" no longer shows beside the chosen sites.
            assert page.evaluate(multi_placeholder) == TRANSPARENT
        mask &= keep
        chosen = frame[mask]
        assert table_total(page, "rows") == f"{len(chosen):,}", cid
        expect(page.locator("#component-depth_card .dpt-card-value")).to_have_text(
            f"{chosen['depth'].mean():,.4f}".rstrip("0").rstrip(".") if len(chosen) else "–"
        )
    assert len(frame[mask]) > 0
    shot(page, "viewer-every-control")

    # A count no row has: figures say they have no rows; the old count back, they draw again.
    notes = (
        "() => (document.querySelector('#component-chart_scatter .js-plotly-plot').layout"
        ".annotations || []).map((a) => a.text)"
    )
    assert page.evaluate(notes) == []
    set_control(page, "count_slider", -1)
    wait_for_generation(page, len(steps) + 1)
    expect(page.locator('#component-rows [id*="table-caption"]')).to_have_text(
        "No rows match the filters"
    )
    assert page.evaluate(notes) == ["No rows match the filters"]
    set_control(page, "count_slider", 80)
    wait_for_generation(page, len(steps) + 2)
    assert page.evaluate(notes) == []
    assert table_total(page, "rows") == f"{len(frame[mask]):,}"

    # The folded section's select gets its options once the section is opened.
    page.get_by_role("button", name="More").click()
    options = page.locator("#component-site_select")
    expect(options).to_be_visible()
    page.click("#component-site_select input")
    expect(page.get_by_role("option")).to_have_count(frame["site"].nunique())
    page.keyboard.press("Escape")

    # The second tab fetches on first show, with the filters in force.
    page.click("#tab-second")
    expect(page.locator('#component-later_rows [id*="table-caption"]')).to_contain_text(
        f"of {len(frame[mask]):,}"
    )


def chart_points(page: Page, kind: str) -> int | None:
    """The points the chart draws now (None before it is on the page)."""
    found: int | None = page.evaluate(
        f"""() => {{ const gd = document.querySelector('#component-chart_{kind} .js-plotly-plot');
            return gd && gd.data ? gd.data.length : null; }}"""
    )
    return found


def note_update(updates: list[str], request: Request) -> None:
    # The Viewer's callbacks only: the home page the sign-in leads to may still be asking
    # for its own (at /_dash-update-component) when the dashboard is opened.
    if urlsplit(request.url).path == "/dashboard/_dash-update-component":
        updates.append(request.url)


def test_webgl_figures_are_drawn_at_the_screens_pixel_ratio(
    browser: Browser, ui_stack: UiStack, people: People, every_component: tuple[str, Any]
) -> None:
    # Plotly's default draws WebGL at twice the screen's resolution: four times the pixels on
    # a usual screen. The page tells the server its pixel ratio with the layout request.
    dashboard_id, _ = every_component
    for scale in (1, 2):
        with fresh_page(browser, ui_stack.ui_url, scale=scale) as page:
            sign_in(page, people.admin.email, people.admin.password)
            page.goto(f"/dashboard/{dashboard_id}")
            page.wait_for_function(
                "(document.querySelector('#component-chart_scatter .js-plotly-plot') || {})"
                ".data?.length > 0"
            )
            ratio = page.evaluate(
                "document.querySelector('#component-chart_scatter .js-plotly-plot')"
                "._context.plotGlPixelRatio"
            )
            assert ratio == scale


# Each script's fetches, at either address (with or without Dash's fingerprint in the name):
# when they started and how many bytes came over the network (0: from the browser's cache);
# for the layout, when its answer ended.
SCRIPT_FETCHES = """
(paths) => {
  const entries = performance.getEntriesByType("resource");
  const layout = entries.find((e) => e.name.endsWith("/_dash-layout"));
  const plain = (url) => new URL(url).pathname.replace(/\\.v[\\w-]+m[0-9a-f]+\\./, ".");
  return {
    layoutStart: layout.startTime,
    layoutEnd: layout.responseEnd,
    fetches: paths.map((path) => entries.filter((e) => plain(e.name).endsWith(path))
        .map((e) => [e.startTime, e.transferSize, e.name])),
  };
}
"""


def test_plotly_and_the_graph_and_table_code_load_while_the_layout_is_built(
    browser: Browser, ui_stack: UiStack, people: People, every_component: tuple[str, Any]
) -> None:
    # Dash would fetch them one after another once the layout is rendered; the page asks for
    # each once, after sending the layout request (evaluating Plotly first would delay it)
    # and before its answer has arrived; Dash's loaders do not ask again. The next open takes
    # them from the browser's cache without asking the server.
    dashboard_id, _ = every_component
    with fresh_page(browser, ui_stack.ui_url) as page:
        sign_in(page, people.admin.email, people.admin.password)
        opens = []
        for _ in range(2):
            page.goto(f"/dashboard/{dashboard_id}")
            page.wait_for_function(
                "(document.querySelector('#component-chart_scatter .js-plotly-plot') || {})"
                ".data?.length > 0"
            )
            page.wait_for_selector(".ag-row")
            opens.append(page.evaluate(SCRIPT_FETCHES, list(FIGURE_AND_TABLE_SCRIPTS)))
    first, second = opens
    for path, fetches in zip(FIGURE_AND_TABLE_SCRIPTS, first["fetches"], strict=True):
        assert len(fetches) == 1, f"{path} fetched {len(fetches)} times"
        started, transferred, _ = fetches[0]
        assert started < first["layoutEnd"], f"{path} asked for after the layout arrived"
        assert started >= first["layoutStart"], f"{path} asked for before the layout"
        assert transferred > 0, f"{path} already in a new browser's cache"
    for path, fetches in zip(FIGURE_AND_TABLE_SCRIPTS, second["fetches"], strict=True):
        assert [transferred for _, transferred, _ in fetches] == [0], f"{path} asked for again"


def on_plotly(then: str) -> str:
    """A page script that runs `then` (JavaScript, with `plotly` bound) each time the page
    defines `window.Plotly`."""
    return f"""
(() => {{
  let defined;
  Object.defineProperty(window, "Plotly", {{
    configurable: true,
    get: () => defined,
    set: (plotly) => {{ defined = plotly; {then} }},
  }});
}})();
"""


# When Plotly is defined (each time) and when the first component is on the page.
WATCH_PLOTLY = (
    on_plotly("window.__dptSeen.plotly.push(performance.now());")
    + """
(() => {
  window.__dptSeen = {plotly: [], component: null};
  new MutationObserver((changes, observer) => {
    if (document.querySelector(".dpt-component")) {
      window.__dptSeen.component = performance.now();
      observer.disconnect();
    }
  }).observe(document, {childList: true, subtree: true});
})();
"""
)
PLOTLY_URL = re.compile(r"/plotly/package_data/plotly(\.v[\w-]+m[0-9a-f]+)?\.min\.js$")


def open_with_slow_plotly(
    browser: Browser, ui_stack: UiStack, people: People, dashboard_id: str, delay_s: float
) -> dict[str, Any]:
    """Opens the dashboard with Plotly's script answered `delay_s` late; what WATCH_PLOTLY saw
    once the scatter is drawn."""

    def late(route: Route) -> None:
        time.sleep(delay_s)
        route.continue_()

    with fresh_page(browser, ui_stack.ui_url) as page:
        sign_in(page, people.admin.email, people.admin.password)
        page.add_init_script(WATCH_PLOTLY)
        page.route(PLOTLY_URL, late)
        page.goto(f"/dashboard/{dashboard_id}")
        page.wait_for_function(
            "(document.querySelector('#component-chart_scatter .js-plotly-plot') || {})"
            ".data?.length > 0"
        )
        seen: dict[str, Any] = page.evaluate("window.__dptSeen")
    return seen


def test_the_layout_is_rendered_once_plotly_has_run(
    browser: Browser, ui_stack: UiStack, people: People, every_component: tuple[str, Any]
) -> None:
    # Plotly 0.3 s late: the layout waits for it, so the graphs find it in place (rendered
    # before, each graph would add Plotly's script again: Plotly evaluated twice).
    dashboard_id, _ = every_component
    seen = open_with_slow_plotly(browser, ui_stack, people, dashboard_id, 0.3)
    assert len(seen["plotly"]) == 1, f"Plotly evaluated {len(seen['plotly'])} times"
    assert seen["plotly"][0] < seen["component"], "components rendered before Plotly ran"


def test_a_plotly_later_than_the_hold_does_not_hold_the_page(
    browser: Browser, ui_stack: UiStack, people: People, every_component: tuple[str, Any]
) -> None:
    # Plotly 3 s late: the cards and tables are not held up that long; the figures follow.
    dashboard_id, _ = every_component
    seen = open_with_slow_plotly(browser, ui_stack, people, dashboard_id, 3.0)
    assert seen["plotly"], "Plotly never ran"
    assert seen["component"] < seen["plotly"][0] - 1000, seen


# Counts the relayouts of every graph from its first plot on.
COUNT_RELAYOUTS = "window.__dptRelayouts = 0;" + on_plotly("""
  const react = plotly.react;
  plotly.react = function (gd) {
    const drawn = react.apply(this, arguments);
    Promise.resolve(drawn).then(() => {
      if (gd.dptCounted) { return; }
      gd.dptCounted = true;
      gd.on("plotly_relayout", () => { window.__dptRelayouts += 1; });
    });
    return drawn;
  };
""")


def test_graphs_are_fitted_again_only_when_their_size_changes(
    browser: Browser, ui_stack: UiStack, people: People, every_component: tuple[str, Any]
) -> None:
    # Dash asks each graph to fit its container again right after its first plot: skipped
    # when the size is the same (it was a full relayout of each figure); a narrower window
    # refits every graph.
    dashboard_id, _ = every_component
    width = "document.querySelector('#component-chart_scatter .js-plotly-plot')._fullLayout.width"
    with fresh_page(browser, ui_stack.ui_url, height=2000) as page:
        sign_in(page, people.admin.email, people.admin.password)
        page.add_init_script(COUNT_RELAYOUTS)
        page.goto(f"/dashboard/{dashboard_id}")
        bottom = CHARTS[-1]
        page.wait_for_function(
            f"(document.querySelector('#component-chart_{bottom} .js-plotly-plot') || {{}})"
            ".data?.length > 0"
        )
        page.wait_for_timeout(800)
        assert page.evaluate("window.__dptRelayouts") == 0
        before = page.evaluate(width)
        page.set_viewport_size({"width": 1000, "height": 2000})
        page.wait_for_function(f"window.__dptRelayouts === {len(CHARTS)}")
        assert page.evaluate(width) < before - 50


def test_the_page_loads_what_the_window_shows_first(
    browser: Browser, ui_stack: UiStack, people: People, every_component: tuple[str, Any]
) -> None:
    # The charts' last row starts 15 grid rows down (1,080 px below the grid's top). In a
    # window 900 px high it is off-screen: nothing is fetched for it until it is scrolled to.
    # In one 2,000 px high the layout request brings it with the rest of the first screen: no
    # update request follows.
    dashboard_id, _ = every_component
    bottom = CHARTS[-1]
    drawn = (
        f"(document.querySelector('#component-chart_{bottom} .js-plotly-plot') || {{}})"
        ".data?.length > 0"
    )
    for height in (900, 2000):
        with fresh_page(browser, ui_stack.ui_url, height=height) as page:
            sign_in(page, people.admin.email, people.admin.password)
            updates: list[str] = []
            page.on("request", partial(note_update, updates))
            page.goto(f"/dashboard/{dashboard_id}")
            page.wait_for_function(
                "(document.querySelector('#component-chart_scatter .js-plotly-plot') || {})"
                ".data?.length > 0"
            )
            if height == 900:
                page.wait_for_timeout(500)
                assert chart_points(page, bottom) == 0, "fetched while off-screen"
                page.locator(f"#component-chart_{bottom}").scroll_into_view_if_needed()
                page.wait_for_function(drawn)
                assert updates, "the row scrolled to came without an update request"
            else:
                page.wait_for_function(drawn)
                page.wait_for_timeout(500)
                assert updates == [], "the first screen took more than the layout request"
