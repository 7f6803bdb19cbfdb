"""The Editor app: `/dashboard-edit/<id>` lets the project's editors and owners design a
dashboard; anonymous visitors are asked to sign in and viewers are refused.

The document being edited lives in one client-side store (`editor-document`). Title, notes
and grid moves and resizes change it in the browser; structural edits (tabs, sections, adding,
duplicating or deleting a component) go through `edit`, which applies the pure functions of
`document` and asks for the canvas to be drawn again. Previews and saving are the other
server round trips.
"""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
from dash import ALL, Dash, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate
from flask import Flask

from dash_apps.background import background_options
from dash_apps.dashboard_access import AccessRefused, open_dashboard
from dash_apps.editor import document as edits
from dash_apps.editor.canvas import render_canvas
from dash_apps.editor.page import editor_page
from dash_apps.editor.persistence import register_persistence
from dash_apps.editor.preview import register_preview
from dash_apps.editor.sources import data_sources
from dash_apps.editor.stepper import FIELDS, field_values, register_stepper, spec_source_id
from dash_apps.graph_fit import fit_graphs_on_change
from dash_apps.preload import preload_figures_and_tables
from dash_apps.service_calls import ServiceCalls
from dash_apps.session import current_identity
from dash_apps.shell import current_scheme, dash_app, message_page
from dash_apps.viewer.clientside import register_filter_state
from dash_apps.viewer.frame import add_frame_styles
from depictio.dashboards.models import DashboardDocument

PREFIX = "/dashboard-edit/"

# Title and notes → the document (and the page's heading), in the browser.
TITLE_AND_NOTES = """
function(title, notes, document) {
    if (!document) { return [dash_clientside.no_update, dash_clientside.no_update]; }
    const text = title || "";
    if (document.title === text && (document.description || "") === (notes || "")) {
        return [dash_clientside.no_update, text];
    }
    return [Object.assign({}, document, {title: text, description: notes || ""}), text];
}
"""

# The grids' layouts → the tabs' layout items ({i, x, y, w, h}, "cell-" prefix dropped).
GRID_LAYOUT = """
function(layouts, document) {
    if (!document) { return dash_clientside.no_update; }
    const ctx = dash_clientside.callback_context;
    const tabs = document.tabs.map(t => Object.assign({}, t));
    let changed = false;
    ctx.inputs_list[0].forEach((entry, n) => {
        const items = layouts[n];
        const tab = tabs.find(t => t.id === entry.id.tab);
        if (!items || !tab) { return; }
        const known = new Set(tab.components.map(c => c.id));
        const next = items
            .map(it => ({i: String(it.i).replace(/^cell-/, ""),
                         x: it.x, y: it.y, w: it.w, h: it.h}))
            .filter(it => known.has(it.i));
        const order = new Map(tab.layout.map((it, k) => [it.i, k]));
        next.sort((a, b) => (order.get(a.i) ?? 1e9) - (order.get(b.i) ?? 1e9));
        if (JSON.stringify(next) !== JSON.stringify(tab.layout)) {
            tab.layout = next;
            changed = true;
        }
    });
    if (!changed) { return dash_clientside.no_update; }
    return Object.assign({}, document, {tabs: tabs});
}
"""

# Unsaved changes: the document against the last stored one (keys sorted, so order of keys
# written by the browser or the server does not count).
DIRTY = """
function(document, saved) {
    const stable = (v) => JSON.stringify(v, (k, x) => (x && typeof x === "object" &&
        !Array.isArray(x)) ? Object.keys(x).sort().reduce((o, key) => {
            o[key] = x[key]; return o; }, {}) : x);
    const dirty = stable(document) !== stable(saved.document);
    // Leaving the page (a link, reload, closing the tab) with unsaved changes asks first.
    window.onbeforeunload = dirty ? (event) => { event.preventDefault(); event.returnValue = ""; }
        : null;
    return [dirty ? "Unsaved changes" : "Saved", dirty ? "orange" : "green",
            "version " + saved.version];
}
"""


def create_editor(server: Flask, calls: ServiceCalls) -> None:
    """Mounts the Editor at /dashboard-edit/."""
    app = dash_app("editor", server, PREFIX, "Depictio · editor")
    preload_figures_and_tables(app)
    fit_graphs_on_change(app)
    add_frame_styles(app)

    @app.callback(Output("page", "children"), Input("url", "pathname"))
    def route(pathname: str | None) -> Any:
        dashboard_id = (pathname or "").removeprefix(PREFIX).strip("/")
        identity = current_identity()
        if identity.anonymous:
            return message_page(
                "Sign in required",
                "Sign in as an editor to edit dashboards.",
                sign_in_to=pathname or "",
            )
        try:
            opened = open_dashboard(calls, identity, dashboard_id)
        except AccessRefused as refused:
            back = (pathname or "") if refused.sign_in else None
            return message_page(refused.title, refused.message, sign_in_to=back)
        if not opened.can_edit:
            return message_page(
                "No access",
                "Only the project's editors and owners may edit this dashboard.",
            )
        sources = data_sources(calls, identity.token, opened.project)
        canvas = render_canvas(
            calls, identity.token, opened.project, opened.document, None, current_scheme()
        )
        return editor_page(
            opened.dashboard.id,
            opened.project.id,
            opened.dashboard.version,
            opened.document.model_dump(mode="json"),
            sources,
            canvas,
        )

    register_browser_side(app)
    register_edits(app)
    register_canvas(app, calls)
    register_stepper(app)
    register_preview(app, calls, **background_options(calls.settings))
    register_persistence(app, calls)


def register_browser_side(app: Dash) -> None:
    """Edits that never leave the browser, the filter state and the unsaved badge (and the
    browser's question before leaving unsaved changes)."""
    app.clientside_callback(
        TITLE_AND_NOTES,
        Output("editor-document", "data", allow_duplicate=True),
        Output("editor-title", "children"),
        Input("editor-title-input", "value"),
        Input("editor-description", "value"),
        State("editor-document", "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        GRID_LAYOUT,
        Output("editor-document", "data", allow_duplicate=True),
        Input({"type": "editor-grid", "tab": ALL}, "layout"),
        State("editor-document", "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        DIRTY,
        Output("editor-dirty", "children"),
        Output("editor-dirty", "color"),
        Output("editor-version", "children"),
        Input("editor-document", "data"),
        Input("editor-saved", "data"),
        prevent_initial_call=True,
    )
    register_filter_state(app)


def structural_edit(
    trigger: Any, value: Any, document: dict[str, Any], inputs: dict[str, Any]
) -> tuple[dict[str, Any], str | None, bool]:
    """(document, tab to show, whether the canvas changes) after the triggered edit."""
    tab = inputs["tab"] or document["tabs"][0]["id"]
    if trigger == "tab-add":
        added, new_tab = edits.add_tab(document, inputs["tab_title"] or "")
        return added, new_tab, True
    if trigger == "tab-rename":
        return edits.rename_tab(document, tab, inputs["tab_title"] or ""), tab, True
    if trigger in ("tab-left", "tab-right"):
        return edits.move_tab(document, tab, -1 if trigger == "tab-left" else 1), tab, True
    if trigger == "tab-delete":
        return edits.delete_tab(document, tab), None, True
    if trigger == "section-add":
        return edits.add_section(document, tab, inputs["section_title"] or ""), tab, True
    if trigger == "stepper-done":
        component = inputs["component"]
        target = inputs["target"] or {}
        if not component:
            raise ValueError("the component is not complete: see the stepper's message")
        return edits.put_component(document, target.get("tab") or tab, component), tab, True
    kind, cid = trigger["type"], trigger["id"]
    if kind == "section-title":
        return edits.edit_section(document, cid, title=value or ""), tab, False
    if kind == "section-members":
        # Redrawn: a filter joining a section leaves the grid, one leaving every section
        # comes back to it (the layout changed, not only the section).
        return edits.edit_section(document, cid, members=value or []), tab, True
    if kind == "section-collapsed":
        return edits.edit_section(document, cid, collapsed=bool(value)), tab, False
    if kind == "section-delete":
        return edits.delete_section(document, cid), tab, True
    if kind == "component-duplicate":
        return edits.duplicate_component(document, cid), edits.tab_of(document, cid), True
    if kind == "component-delete":
        return edits.delete_component(document, cid), tab, True
    raise PreventUpdate


def register_edits(app: Dash) -> None:
    """Structural edits of the document (one callback; one round trip per edit)."""
    button_ids = ("tab-add", "tab-rename", "tab-left", "tab-right", "tab-delete", "section-add")
    patterns = (
        ("section-title", "value"),
        ("section-members", "value"),
        ("section-collapsed", "checked"),
        ("section-delete", "n_clicks"),
        ("component-duplicate", "n_clicks"),
        ("component-delete", "n_clicks"),
    )

    @app.callback(
        Output("editor-document", "data", allow_duplicate=True),
        Output("canvas-request", "data", allow_duplicate=True),
        Output("stepper-modal", "opened", allow_duplicate=True),
        Output("editor-message", "children", allow_duplicate=True),
        *[Input(b, "n_clicks") for b in button_ids],
        *[Input({"type": kind, "id": ALL}, prop) for kind, prop in patterns],
        Input("stepper-done", "n_clicks"),
        State("editor-document", "data"),
        State("editor-tabs", "value"),
        State("tab-title-input", "value"),
        State("section-new-title", "value"),
        State("stepper-target", "data"),
        State("stepper-component", "data"),
        State("canvas-request", "data"),
        prevent_initial_call=True,
    )
    def edit(*args: Any) -> Any:
        document, tab, tab_title, section_title, target, component, request = args[-7:]
        trigger = ctx.triggered_id
        value = ctx.triggered[0]["value"] if ctx.triggered else None
        clicked = isinstance(trigger, str) or trigger["type"] not in (
            "section-delete",
            "component-duplicate",
            "component-delete",
        )
        if trigger is None or (not clicked and not value):
            raise PreventUpdate
        inputs = {
            "tab": tab,
            "tab_title": tab_title,
            "section_title": section_title,
            "target": target,
            "component": component,
        }
        try:
            changed, show, redraw = structural_edit(trigger, value, document, inputs)
        except ValueError as exc:
            return no_update, no_update, no_update, dmc.Alert(str(exc), color="red")
        again = (
            {"revision": int((request or {}).get("revision", 0)) + 1, "tab": show}
            if redraw
            else no_update
        )
        closed = False if trigger == "stepper-done" else no_update
        return changed, again, closed, ""


def register_canvas(app: Dash, calls: ServiceCalls) -> None:
    """Draws the canvas again after a structural edit (filters start afresh)."""

    @app.callback(
        Output("editor-canvas", "children"),
        Output("filter-state", "data", allow_duplicate=True),
        Output("tab-delete", "disabled"),
        Input("canvas-request", "data"),
        State("editor-document", "data"),
        State("editor-meta", "data"),
        State("scheme-switch", "checked"),
        prevent_initial_call=True,
    )
    def redraw(
        request: dict[str, Any],
        document: dict[str, Any],
        meta: dict[str, Any],
        dark: bool | None,
    ) -> Any:
        token = current_identity().token
        project = calls.run(calls.metadata(token).get_project(meta["project_id"]))
        parsed = DashboardDocument.model_validate(document)
        canvas = render_canvas(
            calls, token, project, parsed, request.get("tab"), "dark" if dark else "light"
        )
        fresh = {"controls": {}, "selections": {}, "generation": 0}
        return canvas, fresh, len(parsed.tabs) <= 1

    @app.callback(
        Output("stepper-modal", "opened"),
        Output("stepper", "active", allow_duplicate=True),
        Output("stepper-target", "data"),
        *[Output(field, prop) for field, prop in FIELDS],
        Input("add-component", "n_clicks"),
        Input({"type": "component-edit", "id": ALL}, "n_clicks"),
        State("editor-document", "data"),
        State("editor-tabs", "value"),
        State("editor-meta", "data"),
        prevent_initial_call=True,
    )
    def open_stepper(
        add: int | None,
        edit_clicks: list[int | None],
        document: dict[str, Any],
        tab: str | None,
        meta: dict[str, Any],
    ) -> Any:
        trigger = ctx.triggered_id
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        if trigger == "add-component":
            target = {"id": edits.new_id(document, "component"), "tab": tab, "editing": None}
            return True, 0, target, *field_values(None, None)
        cid = trigger["id"]
        spec = next(c for t in document["tabs"] for c in t["components"] if c["id"] == cid)
        target = {"id": cid, "tab": edits.tab_of(document, cid), "editing": cid}
        source_id = spec_source_id(meta["sources"], spec)
        return True, 2, target, *field_values(spec, source_id)
