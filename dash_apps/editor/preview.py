"""The stepper's live preview: the component being configured, drawn by the Viewer's
renderers with the data the dashboard's active filters keep.

`preview` is one plain function registered by `register_preview`, so that it can run as a
Dash background callback (`background=True, manager=…`, on Celery when
DEPICTIO_CELERY_ENABLED is on) by passing those options to the helper. It reads the session
token with `current_identity()`, which in a background callback reads the cookies the callback
context keeps and acts with a token minted for the task.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash_mantine_components as dmc
from celery.exceptions import SoftTimeLimitExceeded
from dash import Dash, Input, Output, State, html
from grpc import aio

from dash_apps.dashboard_access import OpenedDashboard
from dash_apps.editor.document import delete_component, put_component, tab_of
from dash_apps.service_calls import ServiceCalls
from dash_apps.session import current_identity, rpc_message
from dash_apps.viewer.context import build_context
from dash_apps.viewer.data_batch import fetch
from dash_apps.viewer.layout import component_body
from dash_apps.viewer.queries import SELECT_LIKE
from depictio.dashboards.models import DashboardDocument
from depictio.v1 import metadata_pb2 as pb

# The previewed component's id: its own, on the page, would collide with its grid cell.
PREVIEW_ID = "__preview__"


def preview_document(
    document: dict[str, Any], component: dict[str, Any], editing: str | None, tab_id: str | None
) -> tuple[DashboardDocument, str]:
    """The document with the previewed component in place of the edited one (or added)."""
    data = document
    tab = tab_id or document["tabs"][0]["id"]
    if editing:
        try:
            tab = tab_of(document, editing)
            data = delete_component(document, editing)
        except ValueError:
            pass  # a new component: nothing to replace
    data = put_component(data, tab, {**component, "id": PREVIEW_ID})
    return DashboardDocument.model_validate(data), PREVIEW_ID


def draw_preview(
    calls: ServiceCalls,
    component_json: dict[str, Any],
    filters: dict[str, Any] | None,
    document: dict[str, Any],
    target: dict[str, Any],
    meta: dict[str, Any],
    dark: bool | None,
) -> Any:
    """The component drawn as it will show, with the active filters' data."""
    token = current_identity().token
    try:
        shown, cid = preview_document(
            document, component_json, target.get("editing"), target.get("tab")
        )
        project = calls.run(calls.metadata(token).get_project(meta["project_id"]))
    except ValueError as exc:
        return dmc.Alert(str(exc), color="red", id="preview-error")
    except aio.AioRpcError as exc:
        return dmc.Alert(rpc_message(exc), color="red", id="preview-error")
    context = build_context(calls, token, OpenedDashboard(pb.Dashboard(), project, shown, True))
    entry = context["components"][cid]
    state = filters or {"controls": {}, "selections": {}}
    spec = entry["spec"]
    unfiltered = spec["type"] == "interactive" and spec["interactive_type"] in SELECT_LIKE
    round_ = fetch(calls, token, context, state, [cid], filtered=not unfiltered)
    active = [
        dmc.Badge(f"{a.label}: {a.description}", variant="light", className="dpt-preview-filter")
        for a in round_.active
    ]
    return [
        dmc.Group(active or [dmc.Text("No active filters", size="xs", c="dimmed")], gap=4),
        html.Div(
            component_body(entry, context, round_, "dark" if dark else "light"),
            id="preview-body",
            style={"flex": "1", "minHeight": 0, "display": "flex", "flexDirection": "column"},
        ),
    ]


def make_preview(calls: ServiceCalls) -> Callable[..., Any]:
    def preview(
        component_json: dict[str, Any] | None,
        filters: dict[str, Any] | None,
        document: dict[str, Any],
        target: dict[str, Any] | None,
        meta: dict[str, Any],
        dark: bool | None,
    ) -> Any:
        """The preview, or why there is none (nothing chosen yet; past the time limit)."""
        if not component_json or not target:
            return dmc.Text("Choose the data, the type and the fields to see the component.")
        try:
            return draw_preview(calls, component_json, filters, document, target, meta, dark)
        except SoftTimeLimitExceeded:
            limit = calls.settings.task_soft_time_limit_seconds
            return dmc.Alert(
                f"The preview stopped: it took longer than the {limit} s background work may "
                "take. Choose fewer points or a smaller table.",
                color="red",
                id="preview-error",
            )

    return preview


def register_preview(app: Dash, calls: ServiceCalls, **callback_options: Any) -> None:
    """Registers `preview`; `callback_options` (e.g. background=True, manager=…) go to
    `app.callback` as they are."""
    app.callback(
        Output("stepper-preview", "children"),
        Input("stepper-component", "data"),
        State("filter-state", "data"),
        State("editor-document", "data"),
        State("stepper-target", "data"),
        State("editor-meta", "data"),
        State("scheme-switch", "checked"),
        prevent_initial_call=True,
        **callback_options,
    )(make_preview(calls))
