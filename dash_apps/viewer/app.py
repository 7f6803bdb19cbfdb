"""The Viewer app: `/dashboard/<id>` renders a stored dashboard and keeps it filtered.

One server callback (`refresh`) answers every change of the filter state, of the visible
components, of the active tab or of the open filter sections: it works out which components
are stale and on screen, asks data_svc for all of them in one batched `Query`, and updates
them in place (figures by `Patch`). Paging or sorting a table and exporting it are the only
other server callbacks.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import dash_mantine_components as dmc
import pyarrow as pa
import pyarrow.csv as pa_csv
from dash import ALL, MATCH, Input, Output, Patch, State, ctx, no_update
from dash.exceptions import PreventUpdate
from flask import Flask

from dash_apps.background import background_options
from dash_apps.dashboard_access import AccessRefused, open_dashboard
from dash_apps.graph_fit import fit_graphs_on_change
from dash_apps.preload import preload_figures_and_tables
from dash_apps.service_calls import ServiceCalls
from dash_apps.session import current_identity
from dash_apps.shell import current_scheme, dash_app, message_page, viewport_height
from dash_apps.viewer.clientside import register_clientside, register_gates
from dash_apps.viewer.context import build_context
from dash_apps.viewer.controls import control_defaults, option_values, segmented_options
from dash_apps.viewer.data_batch import Round, TableView, fetch
from dash_apps.viewer.figures import figure, shown_points
from dash_apps.viewer.frame import add_frame_styles
from dash_apps.viewer.layout import above_fold, sectioned_controls, viewer_page
from dash_apps.viewer.queries import SELECT_LIKE
from dash_apps.viewer.values import card_body, rows_caption, sample_note, table_rows
from depictio.clients.data import result_table

log = logging.getLogger("dash_apps.viewer")
PREFIX = "/dashboard/"
EXPORT_PAGE_ROWS = 10_000
EXPORT_MAX_ROWS = 100_000


def rendered_mark(state: dict[str, Any], load_all: bool) -> str:
    """What a component was last rendered for: the filter state's generation (and whether
    all its points were loaded). The browser compares it with the current one (REFRESH_GATE)."""
    return f"{state.get('generation', 0)}" + (":all" if load_all else "")


def table_view(data: dict[str, Any] | None) -> TableView:
    data = data or {}
    return TableView(int(data.get("page", 1)), [tuple(s) for s in data.get("sort", [])])


def create_viewer(server: Flask, calls: ServiceCalls) -> None:
    """Mounts the Viewer at /dashboard/."""

    def render(pathname: str) -> Any:
        """The Viewer page of `/dashboard/<id>` for the visitor."""
        dashboard_id = pathname.removeprefix(PREFIX).strip("/")
        identity = current_identity()
        try:
            opened = open_dashboard(calls, identity, dashboard_id)
        except AccessRefused as refused:
            back = pathname if refused.sign_in else None
            return message_page(refused.title, refused.message, "viewer-refused", back)
        context = build_context(calls, identity.token, opened)
        first = opened.document.tabs[0]
        state: dict[str, Any] = {"controls": control_defaults(context), "selections": {}}
        data_targets = [
            cid
            for cid in above_fold(first, viewport_height())
            if context["components"][cid]["spec"]["type"] != "interactive"
        ]
        open_sections = [s for s in first.filter_sections if not s.collapsed]
        option_targets = [
            cid
            for cid, entry in context["components"].items()
            if entry["tab"] == first.id
            and entry["spec"]["type"] == "interactive"
            and entry["spec"]["interactive_type"] in SELECT_LIKE
            and (
                cid not in sectioned_controls(first)
                or any(cid in s.component_ids for s in open_sections)
            )
        ]
        round_ = fetch(calls, identity.token, context, state, data_targets + option_targets)
        # Only what was answered counts as rendered: a failed component is asked again.
        answered = [cid for cid in data_targets if cid in round_.results]
        rendered = {cid: rendered_mark(state, False) for cid in answered}
        rendered |= {cid: "options" for cid in option_targets if cid in round_.results}
        return viewer_page(opened, context, round_, current_scheme(), state, rendered)

    app = dash_app("viewer", server, PREFIX, "Depictio · dashboard", prerender=render)
    preload_figures_and_tables(app)
    fit_graphs_on_change(app)
    add_frame_styles(app)
    register_clientside(app)
    register_gates(app)

    @app.callback(
        Output("page", "children"), Input("route-request", "data"), prevent_initial_call=True
    )
    def route(pathname: str | None) -> Any:
        return render(pathname or "")

    @app.callback(
        Output({"type": "figure", "id": ALL}, "figure"),
        Output({"type": "sample-note", "id": ALL}, "children"),
        Output({"type": "load-all", "id": ALL}, "style"),
        Output({"type": "card-body", "id": ALL}, "children"),
        Output({"type": "table", "id": ALL}, "rowData"),
        Output({"type": "table-caption", "id": ALL}, "children"),
        Output({"type": "table-pager", "id": ALL}, "total"),
        Output({"type": "table-pager", "id": ALL}, "value"),
        Output({"type": "table-view", "id": ALL}, "data"),
        Output({"type": "filter-select", "id": ALL}, "data"),
        Output({"type": "component-error", "id": ALL}, "children"),
        Output("rendered", "data"),
        Output("render-generation", "children"),
        Output("active-filters", "children"),
        Input("refresh-request", "data"),
        State("filter-state", "data"),
        State("load-all", "data"),
        State("viewer-context", "data"),
        State("rendered", "data"),
        State({"type": "table-view", "id": ALL}, "data"),
        State("scheme-switch", "checked"),
        prevent_initial_call=True,
    )
    def refresh(
        request: dict[str, Any],
        state: dict[str, Any],
        load_all: list[str],
        context: dict[str, Any],
        rendered: dict[str, str],
        views: list[dict[str, Any]],
        dark: bool | None,
    ) -> Any:
        outputs = ctx.outputs_list
        view_ids = [e["id"]["id"] for e in ctx.states_list[4]]
        # A table refreshed here shows new filters (or shows for the first time): from its
        # first page, its sort kept. (Its old page may lie past the new last one.)
        shown_views = {cid: table_view(v) for cid, v in zip(view_ids, views, strict=True)}
        table_views = {cid: TableView(1, view.sort) for cid, view in shown_views.items()}
        loaded_all = set(load_all or [])
        components = context["components"]
        targets = [cid for cid in request["targets"] if cid in components]
        option_targets = [
            cid for cid in targets if components[cid]["spec"]["type"] == "interactive"
        ]
        data_targets = [cid for cid in targets if cid not in option_targets]
        token = current_identity().token
        round_ = fetch(
            calls, token, context, state, data_targets, table_views, frozenset(loaded_all)
        )
        if option_targets:
            options = fetch(calls, token, context, state, option_targets, filtered=False)
            round_.results |= options.results
            round_.errors |= options.errors
        scheme = "dark" if dark else "light"
        new_rendered = dict(rendered)
        for cid in data_targets:
            if cid in round_.results:
                new_rendered[cid] = rendered_mark(state, cid in loaded_all)
        for cid in option_targets:
            if cid in round_.results:
                new_rendered[cid] = "options"
        selections = state.get("selections") or {}
        updates = render_updates(context, round_, scheme, table_views, selections)
        for cid, view in shown_views.items():
            if view.page == 1:  # already on its first page: its pager and view stay as they are
                updates.pop(("table-pager", cid, "value"), None)
                updates.pop(("table-view", cid, "data"), None)
        touched = set(data_targets) | set(option_targets)
        lists = [
            [
                updates.get((entry["id"]["type"], entry["id"]["id"], entry["property"]), no_update)
                if entry["id"]["id"] in touched
                else no_update
                for entry in group
            ]
            for group in outputs[:11]
        ]
        summary = [
            dmc.Badge(f"{a.label}: {a.description}", variant="light", className="dpt-active-filter")
            for a in round_.active
        ]
        return (
            *lists,
            new_rendered,
            str(state.get("generation", 0)),
            summary or dmc.Text("No filters", size="xs", c="dimmed"),
        )

    @app.callback(
        Output({"type": "table", "id": MATCH}, "rowData", allow_duplicate=True),
        Output({"type": "table-caption", "id": MATCH}, "children", allow_duplicate=True),
        Output({"type": "table-view", "id": MATCH}, "data"),
        Input({"type": "table-request", "id": MATCH}, "data"),
        State("viewer-context", "data"),
        State("filter-state", "data"),
        prevent_initial_call=True,
    )
    def page_table(wanted: dict[str, Any], context: dict[str, Any], state: dict[str, Any]) -> Any:
        cid = ctx.triggered_id["id"]
        view = table_view(wanted)
        round_ = fetch(calls, current_identity().token, context, state, [cid], {cid: view})
        result = round_.results.get(cid)
        if result is None:
            return no_update, round_.errors.get(cid, "The page could not be read."), no_update
        size = int(context["components"][cid]["spec"].get("page_size", 50))
        return (
            table_rows(result_table(result)),
            rows_caption(result, view.page, size),
            {"page": view.page, "sort": view.sort},
        )

    @app.callback(
        Output({"type": "table-download", "id": MATCH}, "data"),
        Input({"type": "table-export", "id": MATCH}, "n_clicks"),
        State({"type": "table-view", "id": MATCH}, "data"),
        State("viewer-context", "data"),
        State("filter-state", "data"),
        prevent_initial_call=True,
        # Up to 100,000 rows: on the worker when background callbacks are on.
        **background_options(calls.settings),
    )
    def export_table(
        clicks: int | None,
        view_data: dict[str, Any],
        context: dict[str, Any],
        state: dict[str, Any],
    ) -> Any:
        cid = ctx.triggered_id["id"]
        return export_csv(
            calls, current_identity().token, context, state, cid, table_view(view_data)
        )


def render_updates(
    context: dict[str, Any],
    round_: Round,
    scheme: str,
    views: dict[str, TableView],
    selections: dict[str, Any],
) -> dict[tuple[str, str, str], Any]:
    """(part, component id, property) → new value, for every component in the round."""
    updates: dict[tuple[str, str, str], Any] = {}
    for cid in set(round_.results) | set(round_.errors):
        updates[("component-error", cid, "children")] = round_.errors.get(cid, "")
    for cid, result in round_.results.items():
        spec = context["components"][cid]["spec"]
        kind = spec["type"]
        table = result_table(result)
        if kind == "figure":
            built = figure(spec, table, scheme)
            patch = Patch()
            patch["data"] = built["data"]
            patch["layout"]["annotations"] = built["layout"]["annotations"]
            if cid not in selections:
                patch["layout"]["selections"] = []
            updates[("figure", cid, "figure")] = patch
            shown = shown_points(built)
            note = sample_note(result, shown)
            updates[("sample-note", cid, "children")] = note
            updates[("load-all", cid, "style")] = {} if note else {"display": "none"}
        elif kind == "card":
            updates[("card-body", cid, "children")] = card_body(spec, table)
        elif kind == "table":
            size = int(spec.get("page_size", 50))
            view = views.get(cid, TableView())
            updates[("table", cid, "rowData")] = table_rows(table)
            updates[("table-caption", cid, "children")] = rows_caption(result, view.page, size)
            updates[("table-pager", cid, "total")] = max(1, -(-result.total_rows // size))
            updates[("table-pager", cid, "value")] = view.page
            updates[("table-view", cid, "data")] = {
                "page": view.page,
                "sort": [list(key) for key in view.sort],
            }
        elif kind == "interactive":
            updates[("filter-select", cid, "data")] = (
                segmented_options(round_, cid)
                if spec["interactive_type"] == "segmented_control"
                else option_values(round_, cid)
            )
    return updates


def export_csv(
    calls: ServiceCalls,
    token: str,
    context: dict[str, Any],
    state: dict[str, Any],
    cid: str,
    view: TableView,
) -> dict[str, Any]:
    """The filtered rows of a table (sorted as shown, at most EXPORT_MAX_ROWS) as a CSV file."""
    entry = context["components"][cid]
    spec = dict(entry["spec"], page_size=EXPORT_PAGE_ROWS)
    pages = EXPORT_MAX_ROWS // EXPORT_PAGE_ROWS
    page_context = {**context, "components": {**context["components"]}}
    ids = []
    for index in range(pages):
        page_id = f"{cid}--page{index}"
        page_context["components"][page_id] = {**entry, "spec": {**spec, "id": page_id}}
        ids.append(page_id)
    views = {page_id: TableView(index + 1, view.sort) for index, page_id in enumerate(ids)}
    round_ = fetch(calls, token, page_context, state, ids, views)
    if round_.errors:
        log.warning(
            "CSV export failed",
            extra={"component": cid, "errors": sorted(set(round_.errors.values()))},
        )
        raise PreventUpdate
    tables = [result_table(round_.results[i]) for i in ids if i in round_.results]
    combined = pa.concat_tables([t for t in tables if t.num_rows] or tables[:1])
    buffer = io.BytesIO()
    pa_csv.write_csv(combined, buffer)
    return {
        "content": buffer.getvalue().decode(),
        "filename": f"{spec.get('title') or cid}.csv".replace("/", "_"),
        "type": "text/csv",
    }
