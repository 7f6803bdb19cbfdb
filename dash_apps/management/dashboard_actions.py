"""What the dashboards page's controls do: create, duplicate, public toggle, delete (confirmed).

Each action calls metadata_svc as the visitor and re-renders the table with its outcome; a
refusal shows the server's message.
"""

from __future__ import annotations

import json
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, no_update
from grpc import aio
from pydantic import ValidationError

from dash_apps.management.dashboards import FEEDBACK_ID, dashboards_table, fetch_listing
from dash_apps.management.widgets import done, refused, refused_call
from dash_apps.service_calls import ServiceCalls
from dash_apps.session import current_identity
from depictio.dashboards.models import DashboardDocument
from depictio.tokens import Identity


def empty_document(title: str) -> str:
    """The document of a new dashboard: one empty tab (ValidationError for a bad title)."""
    document = DashboardDocument.model_validate(
        {"title": title, "tabs": [{"id": "main", "title": "Main"}]}
    )
    return document.model_dump_json()


def _table_after(calls: ServiceCalls, identity: Identity, feedback: Any) -> Any:
    try:
        listing = fetch_listing(calls, identity)
    except aio.AioRpcError as exc:
        return refused_call(exc, FEEDBACK_ID)
    return dashboards_table(listing, identity, feedback)


def _create(
    calls: ServiceCalls, identity: Identity, project_id: str, title: str
) -> tuple[Any, bool]:
    """The alert saying what became of a create request, and whether it was created."""
    if not project_id:
        return refused("Choose a project.", FEEDBACK_ID), False
    try:
        document = empty_document(title)
    except ValidationError:
        return refused("Enter a title of 1 to 200 characters.", FEEDBACK_ID), False
    try:
        created = calls.run(calls.metadata(identity.token).create_dashboard(project_id, document))
    except aio.AioRpcError as exc:
        return refused_call(exc, FEEDBACK_ID), False
    return done(f"Created “{created.title}”.", FEEDBACK_ID), True


def _duplicate(calls: ServiceCalls, identity: Identity, dashboard_id: str) -> Any:
    try:
        copy = calls.run(calls.metadata(identity.token).duplicate_dashboard(dashboard_id))
    except aio.AioRpcError as exc:
        return refused_call(exc, FEEDBACK_ID)
    return done(f"Created “{copy.title}”.", FEEDBACK_ID)


def _toggle_public(calls: ServiceCalls, identity: Identity, dashboard_id: str) -> Any:
    client = calls.metadata(identity.token)
    try:
        dashboard = calls.run(client.get_dashboard(dashboard_id))
        document = json.loads(dashboard.document_json)
        document["is_public"] = not dashboard.is_public
        saved = calls.run(
            client.update_dashboard(dashboard_id, json.dumps(document), dashboard.version)
        )
    except aio.AioRpcError as exc:
        return refused_call(exc, FEEDBACK_ID)
    state = "public" if saved.is_public else "private"
    return done(f"“{saved.title}” is now {state}.", FEEDBACK_ID)


def _delete(calls: ServiceCalls, identity: Identity, dashboard_id: str) -> Any:
    client = calls.metadata(identity.token)
    try:
        dashboard = calls.run(client.get_dashboard(dashboard_id))
        calls.run(client.delete_dashboard(dashboard_id))
    except aio.AioRpcError as exc:
        return refused_call(exc, FEEDBACK_ID)
    return done(f"Deleted “{dashboard.title}”.", FEEDBACK_ID)


def _ask_to_delete(calls: ServiceCalls, identity: Identity, dashboard_id: str) -> tuple[Any, ...]:
    """The outputs that open the confirmation for one dashboard (or say why not)."""
    try:
        dashboard = calls.run(calls.metadata(identity.token).get_dashboard(dashboard_id))
    except aio.AioRpcError as exc:
        return _table_after(calls, identity, refused_call(exc, FEEDBACK_ID)), False, "", None
    question = f"Delete “{dashboard.title}” and all its saved versions? This cannot be undone."
    return no_update, True, question, dashboard_id


def register_dashboard_actions(app: Dash, calls: ServiceCalls) -> None:
    """The callbacks of the dashboards page."""

    @app.callback(
        Output("dashboards-list", "children", allow_duplicate=True),
        Output("new-dashboard-title", "value"),
        Input("new-dashboard-create", "n_clicks"),
        State("new-dashboard-project", "value"),
        State("new-dashboard-title", "value"),
        prevent_initial_call=True,
    )
    def create_dashboard(
        clicks: int | None, project_id: str | None, title: str | None
    ) -> tuple[Any, Any]:
        if not clicks:
            return no_update, no_update
        identity = current_identity()
        feedback, created = _create(calls, identity, project_id or "", (title or "").strip())
        return _table_after(calls, identity, feedback), "" if created else no_update

    @app.callback(
        Output("dashboards-list", "children"),
        Output("delete-dashboard-modal", "opened"),
        Output("delete-dashboard-question", "children"),
        Output("delete-dashboard-pending", "data"),
        Input({"type": "duplicate-dashboard", "id": ALL}, "n_clicks"),
        Input({"type": "toggle-dashboard-public", "id": ALL}, "n_clicks"),
        Input({"type": "delete-dashboard", "id": ALL}, "n_clicks"),
        Input("delete-dashboard-confirm", "n_clicks"),
        Input("delete-dashboard-cancel", "n_clicks"),
        State("delete-dashboard-pending", "data"),
        prevent_initial_call=True,
    )
    def act_on_dashboard(
        _duplicates: Any, _toggles: Any, _deletes: Any, _confirm: Any, _cancel: Any, pending: Any
    ) -> tuple[Any, ...]:
        trigger = ctx.triggered_id
        if trigger is None or not (ctx.triggered and ctx.triggered[0]["value"]):
            return no_update, no_update, no_update, no_update
        if trigger == "delete-dashboard-cancel":
            return no_update, False, no_update, None
        identity = current_identity()
        if trigger == "delete-dashboard-confirm":
            if not pending:
                return no_update, False, no_update, None
            return _table_after(calls, identity, _delete(calls, identity, pending)), False, "", None
        action, dashboard_id = trigger["type"], trigger["id"]
        if action == "delete-dashboard":
            return _ask_to_delete(calls, identity, dashboard_id)
        if action == "duplicate-dashboard":
            feedback = _duplicate(calls, identity, dashboard_id)
        else:
            feedback = _toggle_public(calls, identity, dashboard_id)
        return _table_after(calls, identity, feedback), no_update, no_update, no_update
