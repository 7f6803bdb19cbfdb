"""Graphs refit to their container only when its size changed.

dcc.Graph asks Plotly to fit each graph to its container once more right after the first
plot (`Plotly.Plots.resize`, run 100 ms later): a full relayout of every figure of the page —
and, for WebGL figures, another readback of their canvases — for a size that has not changed
(~100 ms of the browser's time after a 16-component dashboard has appeared, seen in traces).
Plotly itself fits a graph to the size its container has, so a resize to the same size can
be skipped; one to another size (the window or the grid changed) still refits.

The page's script wraps `Plotly.Plots.resize` as soon as Plotly is defined, whoever loads it.
"""

from __future__ import annotations

from dash import Dash

from dash_apps.shell import add_to_head

FIT_ON_CHANGE = """<script>
(() => {
    // As Plots.plotAutoSize measures the size a graph is to fill, and keeps the size it has
    // when the difference is at most a pixel.
    const fitted = (gd) => {
        const full = gd && gd._fullLayout;
        if (!full || !gd.isConnected) { return false; }
        const style = window.getComputedStyle(gd);
        return Math.abs(parseFloat(style.width) - full.width) <= 1 &&
            Math.abs(parseFloat(style.height) - full.height) <= 1;
    };
    const wrap = (plotly) => {
        const plots = plotly && plotly.Plots;
        if (!plots || !plots.resize || plots.resize.fitsOnChange) { return; }
        const resize = plots.resize;
        plots.resize = function (graph) {
            const gd = typeof graph === "string" ? document.getElementById(graph) : graph;
            return fitted(gd) ? Promise.resolve(gd) : resize.apply(this, arguments);
        };
        plots.resize.fitsOnChange = true;
    };
    const before = Object.getOwnPropertyDescriptor(window, "Plotly");
    let value = before && "value" in before ? before.value : undefined;
    Object.defineProperty(window, "Plotly", {
        configurable: true,
        get: () => (before && before.get ? before.get() : value),
        set: (plotly) => {
            if (before && before.set) { before.set(plotly); } else { value = plotly; }
            wrap(plotly);
        },
    });
    wrap(value);
})();
</script>"""


def fit_graphs_on_change(app: Dash) -> None:
    """`app`'s graphs skip Plotly's refits to the size they already have."""
    add_to_head(app, FIT_ON_CHANGE)
