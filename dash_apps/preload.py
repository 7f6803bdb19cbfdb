"""Scripts a dashboard page needs, fetched while its layout is on the way.

Dash loads Plotly and the code of graphs and tables only when the first one mounts: after
the layout request's answer has been rendered, one fetch and evaluation after another. A
page whose layout holds figures and tables asks for them as soon as its layout request is
sent instead; they are evaluated while the server builds the layout (Plotly alone takes 50–100 ms
to evaluate). Dash's loaders then find them in place: Plotly as `window.Plotly`, the chunks
as already installed webpack chunks.
"""

from __future__ import annotations

import json

from dash import Dash

# Paths under `_dash-component-suites/`, as Dash's loaders ask for them (serving locally).
FIGURE_AND_TABLE_SCRIPTS = (
    "plotly/package_data/plotly.min.js",
    "dash/dcc/async-graph.js",
    "dash_ag_grid/async-community.js",
)


def preload_urls(app: Dash) -> list[str]:
    """The address of each script of FIGURE_AND_TABLE_SCRIPTS on `app`'s pages."""
    prefix = app.config.requests_pathname_prefix
    return [f"{prefix}_dash-component-suites/{path}" for path in FIGURE_AND_TABLE_SCRIPTS]


def preload_figures_and_tables(app: Dash) -> None:
    """`app`'s pages fetch Plotly and the graph and table code as soon as the renderer has
    sent the layout request (async scripts: evaluated whenever they arrive).

    Not before: evaluated before the renderer starts, Plotly would delay the layout request
    itself (by ~50 ms, measured). The page's first script watches `fetch` until that request
    is sent, then restores it."""
    script = f"""<script>
(() => {{
    const scripts = {json.dumps(preload_urls(app))};
    const send = window.fetch;
    window.fetch = function (input, init) {{
        const answer = send.apply(this, arguments);
        const url = typeof input === "string" ? input : (input && input.url) || "";
        if (url.endsWith("_dash-layout")) {{
            window.fetch = send;
            scripts.forEach((src) => {{
                const script = document.createElement("script");
                script.async = true;
                script.src = src;
                document.head.appendChild(script);
            }});
        }}
        return answer;
    }};
}})();
</script>"""
    app.index_string = app.index_string.replace("</head>", f"{script}\n</head>", 1)
