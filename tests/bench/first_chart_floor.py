"""The floor of the dashboard benchmark's first chart: the least any Dash page takes.

Run as `python first_chart_floor.py <port>`: a server (waitress, as the UI's) of two pages, each
with one three-bar Plotly chart whose figure is in the page's first response — no sign-in, no
data service, nothing else on the page:
- `/` a Dash app (the Dash, dcc and Plotly.js the Viewer uses, Dash's defaults: scripts at
  cacheable addresses), which draws its chart as every Dash page does, after the renderer has
  started and fetched the layout and the callbacks;
- `/plain` a static page loading the same Plotly.js and drawing the same chart inline.

`first_chart_ms` times warm opens of either in Chromium the way the benchmark times the
Viewer's, so the Viewer's first chart can be read against what Dash itself costs here.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import dash
import plotly
import plotly.graph_objects as go
import waitress
from dash import dcc, html
from flask import Response, send_file
from playwright.sync_api import BrowserContext

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
BARS = {"x": ["a", "b", "c"], "y": [1, 3, 2]}
PLAIN_PAGE = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>plain</title></head>
<body><div id="chart" style="height:450px"></div>
<script src="/plotly.min.js"></script>
<script>
Plotly.newPlot("chart", [{{type: "bar", x: {BARS["x"]}, y: {BARS["y"]}}}])
  .then((gd) => gd.classList.add("js-plotly-plot"));
</script></body></html>
"""
# Stamps the first animation frame after the one in which a chart with its bars is in the DOM.
PROBE = """
(() => {
  window.__firstChart = null;
  let seen = false;
  const tick = () => {
    if (seen && window.__firstChart === null) { window.__firstChart = performance.now(); }
    const gd = document.querySelector(".js-plotly-plot");
    seen = !!(gd && gd._fullData && gd.querySelector(".main-svg .bars .point"));
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""


def app() -> dash.Dash:
    """The one-chart Dash app, with the plain page and Plotly.js on its server."""
    floor = dash.Dash(__name__, serve_locally=True)
    floor.layout = html.Div([dcc.Graph(id="chart", figure=go.Figure(go.Bar(**BARS)))])

    @floor.server.route("/plain")
    def plain() -> Response:
        return Response(PLAIN_PAGE, mimetype="text/html")

    @floor.server.route("/plotly.min.js")
    def plotly_js() -> Response:
        return send_file(PLOTLY_JS, max_age=31_536_000)

    return floor


def first_chart_ms(context: BrowserContext, url: str, warm_up: int, rounds: int) -> float:
    """The median ms from the navigation's start to the chart painted, over `rounds` opens of
    `url` in `context` after `warm_up` opens (the HTTP and code caches filled)."""
    page = context.new_page()
    page.add_init_script(PROBE)
    times = []
    for _ in range(warm_up + rounds):
        page.goto(url, wait_until="commit")
        page.wait_for_function("() => window.__firstChart !== null", timeout=30_000)
        times.append(float(page.evaluate("() => window.__firstChart")))
    page.close()
    return statistics.median(times[warm_up:])


def main() -> None:
    waitress.serve(app().server, host="127.0.0.1", port=int(sys.argv[1]), threads=4)


if __name__ == "__main__":
    main()
