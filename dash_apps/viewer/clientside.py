"""The Viewer's browser-side callbacks: filter state, reset, visibility, colour scheme.

All filter values live in one store (`filter-state`) that these functions update in the
browser; the server is asked for data once per change of that store.
"""

from __future__ import annotations

from dash import ALL, MATCH, Dash, Input, Output, State

# Every control value and selection → one filter state; unchanged state → no update, so
# that a grid clearing an empty selection never costs a round trip.
FILTER_STATE = """
function(selects, values, checks, selections, rows, state) {
    const ctx = dash_clientside.callback_context;
    const controls = {};
    const chosen = {};
    ctx.inputs_list[0].forEach((e, i) => { controls[e.id.id] = selects[i]; });
    ctx.inputs_list[1].forEach((e, i) => { controls[e.id.id] = values[i]; });
    ctx.inputs_list[2].forEach((e, i) => { controls[e.id.id] = checks[i]; });
    ctx.inputs_list[3].forEach((e, i) => {
        const sel = selections[i];
        if (!sel) { return; }
        if (sel.points && sel.points.length && sel.lassoPoints) {
            chosen[e.id.id] = {kind: "points", points: sel.points.map(p => [p.x, p.y])};
        } else if (sel.range) {
            chosen[e.id.id] = {kind: "box", x: sel.range.x, y: sel.range.y};
        } else if (sel.points && sel.points.length) {
            chosen[e.id.id] = {kind: "points", points: sel.points.map(p => [p.x, p.y])};
        }
    });
    ctx.inputs_list[4].forEach((e, i) => {
        const picked = rows[i];
        if (picked && picked.length) {
            chosen[e.id.id] = {kind: "rows", rows: picked};
        }
    });
    const previous = state || {controls: {}, selections: {}, generation: 0};
    const same = JSON.stringify([controls, chosen]) ===
        JSON.stringify([previous.controls || {}, previous.selections || {}]);
    if (same) { return dash_clientside.no_update; }
    return {controls: controls, selections: chosen, generation: (previous.generation || 0) + 1};
}
"""

# Reset: every control back to its default, every selection cleared.
RESET = """
function(clicks, defaults) {
    const ctx = dash_clientside.callback_context;
    const pick = (list) => list.map(e => (e.id.id in defaults ? defaults[e.id.id] : null));
    return [
        pick(ctx.outputs_list[0]),
        pick(ctx.outputs_list[1]),
        ctx.outputs_list[2].map(() => false),
        ctx.outputs_list[3].map(() => null),
        ctx.outputs_list[4].map(() => []),
    ];
}
"""

# Reports which components are on screen; the server fetches only those.
VISIBILITY = """
function(context) {
    if (window.depictioObserver) { window.depictioObserver.disconnect(); }
    const seen = new Set();
    let timer = null;
    const report = () => {
        timer = null;
        dash_clientside.set_props("visible-components", {data: Array.from(seen).sort()});
    };
    const observer = new IntersectionObserver((entries) => {
        entries.forEach((entry) => {
            const id = entry.target.getAttribute("data-component");
            if (entry.isIntersecting && entry.target.offsetParent !== null) { seen.add(id); }
            else { seen.delete(id); }
        });
        if (timer === null) { timer = setTimeout(report, 50); }
    });
    window.depictioObserver = observer;
    setTimeout(() => {
        document.querySelectorAll(".dpt-component[data-component]").forEach(
            (el) => observer.observe(el));
    }, 0);
    return dash_clientside.no_update;
}
"""

# Figures follow the colour scheme without asking the server.
RECOLOR = """
function(checked, figures) {
    const dark = !!checked;
    const font = dark ? "#c9c9c9" : "#212529";
    const grid = dark ? "#373a40" : "#e9ecef";
    const zero = dark ? "#5c5f66" : "#ced4da";
    return figures.map((fig) => {
        if (!fig) { return dash_clientside.no_update; }
        const layout = Object.assign({}, fig.layout || {});
        layout.font = Object.assign({}, layout.font || {}, {color: font});
        const axis = {gridcolor: grid, zerolinecolor: zero};
        layout.xaxis = Object.assign({}, layout.xaxis || {}, axis);
        layout.yaxis = Object.assign({}, layout.yaxis || {}, axis);
        return Object.assign({}, fig, {layout: layout});
    });
}
"""

LOAD_ALL = """
function(clicks, current) {
    const ctx = dash_clientside.callback_context;
    const chosen = new Set(current || []);
    ctx.inputs_list[0].forEach((e, i) => { if (clicks[i]) { chosen.add(e.id.id); } });
    return Array.from(chosen).sort();
}
"""


def register_filter_state(app: Dash) -> None:
    """The one store of filter values, kept by the browser from every control and selection
    (the Viewer's and the Editor's canvas alike)."""
    app.clientside_callback(
        FILTER_STATE,
        Output("filter-state", "data"),
        Input({"type": "filter-select", "id": ALL}, "value"),
        Input({"type": "filter-value", "id": ALL}, "value"),
        Input({"type": "filter-checked", "id": ALL}, "checked"),
        Input({"type": "figure", "id": ALL}, "selectedData"),
        Input({"type": "table", "id": ALL}, "selectedRows"),
        State("filter-state", "data"),
        prevent_initial_call=True,
    )


def register_clientside(app: Dash) -> None:
    """Registers the browser-side callbacks on the Viewer app."""
    register_filter_state(app)
    app.clientside_callback(
        RESET,
        Output({"type": "filter-select", "id": ALL}, "value"),
        Output({"type": "filter-value", "id": ALL}, "value"),
        Output({"type": "filter-checked", "id": ALL}, "checked"),
        Output({"type": "figure", "id": ALL}, "selectedData"),
        Output({"type": "table", "id": ALL}, "selectedRows"),
        Input("viewer-reset", "n_clicks"),
        State("control-defaults", "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        VISIBILITY,
        Output("visible-components", "data"),
        Input("viewer-context", "data"),
    )
    app.clientside_callback(
        RECOLOR,
        Output({"type": "figure", "id": ALL}, "figure", allow_duplicate=True),
        Input("scheme-switch", "checked"),
        State({"type": "figure", "id": ALL}, "figure"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        LOAD_ALL,
        Output("load-all", "data"),
        Input({"type": "load-all", "id": ALL}, "n_clicks"),
        State("load-all", "data"),
        prevent_initial_call=True,
    )


# Which components need data now: on the active tab, on screen (or, for controls, in an open
# filter section) and rendered for an older filter state. Nothing stale → no request at all.
# Until the page has said what is on screen, no grid component is: the first screen's came
# with the page, and the rest wait for the report rather than load off-screen.
REFRESH_GATE = """
function(state, tab, visible, sections, loadAll, context, rendered) {
    const open = new Set([].concat(...(sections || []).map(v => v || [])));
    const onScreen = visible ? new Set(visible) : null;
    const all = new Set(loadAll || []);
    const targets = [];
    Object.entries(context.components).forEach(([cid, entry]) => {
        const kind = entry.spec.type;
        if (entry.tab !== tab || kind === "text") { return; }
        if (kind === "interactive") {
            const selectLike = ["select", "multiselect", "segmented_control"].includes(
                entry.spec.interactive_type);
            const shown = entry.section
                ? open.has(entry.section) : (!onScreen || onScreen.has(cid));
            if (selectLike && shown && rendered[cid] !== "options") { targets.push(cid); }
            return;
        }
        if (!onScreen || !onScreen.has(cid)) { return; }
        const want = String(state.generation || 0) + (all.has(cid) ? ":all" : "");
        if (rendered[cid] !== want) { targets.push(cid); }
    });
    if (!targets.length) { return dash_clientside.no_update; }
    return {targets: targets, generation: state.generation || 0};
}
"""

# A table's page or sort changed → ask for that page, unless it is the one shown.
TABLE_GATE = """
function(page, columnState, view) {
    const sort = (columnState || []).filter(c => c.sort)
        .sort((a, b) => (a.sortIndex || 0) - (b.sortIndex || 0))
        .map(c => [c.colId, c.sort === "desc"]);
    const wanted = {page: page || 1, sort: columnState ? sort : (view.sort || [])};
    if (JSON.stringify(wanted) === JSON.stringify({page: view.page, sort: view.sort})) {
        return dash_clientside.no_update;
    }
    return wanted;
}
"""

# The page was rendered with the layout → no route request; else ask for the page.
ROUTE_GATE = """
function(pathname, prerendered) {
    if (pathname && pathname === prerendered) { return dash_clientside.no_update; }
    return pathname;
}
"""


def register_gates(app: Dash) -> None:
    """Registers the browser-side checks that decide whether the server is asked at all."""
    app.clientside_callback(
        REFRESH_GATE,
        Output("refresh-request", "data"),
        Input("filter-state", "data"),
        Input("viewer-tabs", "value"),
        Input("visible-components", "data"),
        Input({"type": "filter-sections", "id": ALL}, "value"),
        Input("load-all", "data"),
        State("viewer-context", "data"),
        State("rendered", "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        TABLE_GATE,
        Output({"type": "table-request", "id": MATCH}, "data"),
        Input({"type": "table-pager", "id": MATCH}, "value"),
        Input({"type": "table", "id": MATCH}, "columnState"),
        State({"type": "table-view", "id": MATCH}, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ROUTE_GATE,
        Output("route-request", "data"),
        Input("url", "pathname"),
        State("prerendered", "data"),
    )
