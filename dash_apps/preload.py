"""Scripts a dashboard page needs, fetched while its layout is on the way.

Dash loads Plotly and the code of graphs and tables only when the first one mounts: after
the layout request's answer has been rendered, one fetch and evaluation after another. A
page whose layout holds figures and tables asks for them as soon as its layout request is
sent instead; they are evaluated while the server builds the layout (Plotly alone takes
50–100 ms to evaluate), and the renderer gets the layout once they have run (or at most
LAYOUT_HOLD_MS after it arrived). Dash's loaders then find them in place: Plotly as
`window.Plotly`, the chunks as installed webpack chunks. Rendered before Plotly had run, each
graph would add Plotly's script once more (evaluated twice, seen in traces) and the graphs
would be drawn after the rest of the page instead of with it.

They are asked for at fingerprinted addresses (package version and file time in the name,
as Dash names its own bundles), which Dash serves as cacheable for a year: an open with them
in the browser's cache sends no request for them. At the plain addresses Dash's loaders use,
every open revalidated each one while the server was building the layout.
"""

from __future__ import annotations

import importlib
import json
import os

from dash import Dash
from dash.fingerprint import build_fingerprint

from dash_apps.shell import add_to_head

# How long an arrived layout waits for the scripts at most (a first visit over a slow link
# downloads Plotly's 4.8 MB: the cards and tables are not held up longer than this for it).
LAYOUT_HOLD_MS = 1000
# Paths under `_dash-component-suites/`, as Dash's loaders ask for them (serving locally).
PLOTLY_SCRIPT = "plotly/package_data/plotly.min.js"
FIGURE_AND_TABLE_SCRIPTS = (
    PLOTLY_SCRIPT,
    "dash/dcc/async-graph.js",
    "dash_ag_grid/async-community.js",
)


def fingerprinted(path: str) -> str:
    """`path` (package/file) with its package's version and the file's modification time in
    the file name, as Dash fingerprints the bundles it serves as cacheable."""
    package, _, relative = path.partition("/")
    module = importlib.import_module(package)
    file = os.path.join(os.path.dirname(module.__file__ or ""), relative)
    version = getattr(module, "__version__", "0")
    return f"{package}/{build_fingerprint(relative, version, int(os.stat(file).st_mtime))}"


def preload_urls(app: Dash) -> list[str]:
    """The cacheable address of each script of FIGURE_AND_TABLE_SCRIPTS on `app`'s pages."""
    prefix = app.config.requests_pathname_prefix
    return [
        f"{prefix}_dash-component-suites/{fingerprinted(path)}" for path in FIGURE_AND_TABLE_SCRIPTS
    ]


def preload_figures_and_tables(app: Dash) -> None:
    """`app`'s pages fetch Plotly and the graph and table code as soon as the renderer has
    sent the layout request (async scripts: evaluated whenever they arrive).

    Not before: evaluated before the renderer starts, Plotly would delay the layout request
    itself (by ~50 ms, measured). The page's first script watches `fetch` until that request
    is sent, then restores it. A graph that mounts before Plotly has been evaluated adds
    Plotly's script itself, from `window._dashPlotlyJSURL`, which the renderer sets to the
    plain address: that address stays the cacheable one (same file, one fetch)."""
    scripts = preload_urls(app)
    plotly = scripts[FIGURE_AND_TABLE_SCRIPTS.index(PLOTLY_SCRIPT)]
    script = f"""<script>
(() => {{
    const scripts = {json.dumps(scripts)};
    Object.defineProperty(window, "_dashPlotlyJSURL", {{
        configurable: true, get: () => {json.dumps(plotly)}, set: () => {{}},
    }});
    const send = window.fetch;
    window.fetch = function (input, init) {{
        const answer = send.apply(this, arguments);
        const url = typeof input === "string" ? input : (input && input.url) || "";
        if (!url.endsWith("_dash-layout")) {{ return answer; }}
        window.fetch = send;
        const loaded = Promise.all(scripts.map((src) => new Promise((done) => {{
            const script = document.createElement("script");
            script.async = true;
            script.src = src;
            script.onload = script.onerror = done;
            document.head.appendChild(script);
        }})));
        const held = (ms) => new Promise((done) => setTimeout(done, ms));
        return answer.then((layout) =>
            Promise.race([loaded, held({LAYOUT_HOLD_MS})]).then(() => layout));
    }};
}})();
</script>"""
    add_to_head(app, script)
