"""Saving and loading in the Editor: save (a new version), version history with restore, YAML
export of the saved dashboard and YAML import as a new dashboard of the same project.
Each new version (a save, a restore) asks the worker to redraw the dashboard's thumbnails.

The server has the last word: its validation errors (unknown columns, options a column's
type does not allow, a version saved meanwhile by someone else) are shown as it words them.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import dash_mantine_components as dmc
from dash import ALL, Dash, Input, Output, State, ctx, dcc, no_update
from dash.exceptions import PreventUpdate
from grpc import aio

from dash_apps.service_calls import ServiceCalls
from dash_apps.session import current_identity, rpc_message
from dash_apps.thumbnails import request_thumbnail
from depictio.v1 import metadata_pb2 as pb


def saved_state(dashboard: pb.Dashboard) -> dict[str, Any]:
    """What the page keeps of the stored dashboard: its version and document."""
    return {"version": dashboard.version, "document": json.loads(dashboard.document_json)}


def error(message: str) -> dmc.Alert:
    return dmc.Alert(message, color="red", title="The server refused", id="editor-error")


def versions_table(versions: list[pb.DashboardVersion], current: int) -> Any:
    rows = []
    for version in versions:
        saved = version.saved_at.ToDatetime().strftime("%Y-%m-%d %H:%M:%S")
        restore: Any = (
            dmc.Text("current", size="xs", c="dimmed")
            if version.version == current
            else dmc.Button(
                "Restore",
                id={"type": "restore-version", "version": version.version},
                size="compact-xs",
                variant="light",
            )
        )
        rows.append(
            dmc.TableTr(
                [
                    dmc.TableTd(str(version.version)),
                    dmc.TableTd(version.title),
                    dmc.TableTd(saved),
                    dmc.TableTd(restore),
                ],
                className="dpt-version",
                **{"data-version": str(version.version)},
            )
        )
    return dmc.Table(
        [
            dmc.TableThead(
                dmc.TableTr([dmc.TableTh(h) for h in ("Version", "Title", "Saved (UTC)", "")])
            ),
            dmc.TableTbody(rows),
        ],
        id="history-table",
    )


def stale_note(editing: int, latest: int) -> dmc.Alert:
    """Why saving here is refused: the dashboard was saved elsewhere since it was opened."""
    return dmc.Alert(
        f"This editor holds version {editing}; version {latest} was saved since, elsewhere. "
        "Saving here is refused: restore a version or reload the page first.",
        color="yellow",
        id="history-stale",
    )


def register_persistence(app: Dash, calls: ServiceCalls) -> None:
    """Save, history, restore, export and import."""

    @app.callback(
        Output("editor-saved", "data"),
        Output("editor-document", "data", allow_duplicate=True),
        Output("editor-message", "children", allow_duplicate=True),
        Input("editor-save", "n_clicks"),
        State("editor-document", "data"),
        State("editor-saved", "data"),
        State("editor-meta", "data"),
        prevent_initial_call=True,
    )
    def save(
        clicks: int | None, document: dict[str, Any], saved: dict[str, Any], meta: dict[str, Any]
    ) -> Any:
        if not clicks:
            raise PreventUpdate
        token = current_identity().token
        client = calls.metadata(token)
        try:
            stored = calls.run(
                client.update_dashboard(
                    meta["dashboard_id"], json.dumps(document), int(saved["version"])
                )
            )
        except aio.AioRpcError as exc:
            return no_update, no_update, error(rpc_message(exc))
        request_thumbnail(token, meta["dashboard_id"])
        state = saved_state(stored)
        message = dmc.Text(f"Saved as version {stored.version}", c="green", id="editor-saved-as")
        return state, state["document"], message

    @app.callback(
        Output("history-modal", "opened"),
        Output("history-list", "children"),
        Input("history-open", "n_clicks"),
        State("editor-meta", "data"),
        State("editor-saved", "data"),
        prevent_initial_call=True,
    )
    def history(clicks: int | None, meta: dict[str, Any], saved: dict[str, Any]) -> Any:
        client = calls.metadata(current_identity().token)
        try:
            versions = calls.run(client.list_dashboard_versions(meta["dashboard_id"]))
        except aio.AioRpcError as exc:
            return True, error(rpc_message(exc))
        # The current version is the newest stored (versions come newest first), which may
        # be newer than the one this editor opened, if another session saved since.
        editing = int(saved["version"])
        latest = versions[0].version if versions else editing
        listing = [versions_table(versions, latest)]
        if latest > editing:
            listing.insert(0, stale_note(editing, latest))
        return True, listing

    @app.callback(
        Output("editor-saved", "data", allow_duplicate=True),
        Output("editor-document", "data", allow_duplicate=True),
        Output("canvas-request", "data", allow_duplicate=True),
        Output("history-modal", "opened", allow_duplicate=True),
        Output("editor-message", "children", allow_duplicate=True),
        Output("editor-title-input", "value"),
        Output("editor-description", "value"),
        Input({"type": "restore-version", "version": ALL}, "n_clicks"),
        State("editor-meta", "data"),
        State("canvas-request", "data"),
        prevent_initial_call=True,
    )
    def restore(clicks: list[int | None], meta: dict[str, Any], request: dict[str, Any]) -> Any:
        if not any(clicks) or not isinstance(ctx.triggered_id, dict):
            raise PreventUpdate
        version = int(ctx.triggered_id["version"])
        token = current_identity().token
        client = calls.metadata(token)
        try:
            stored = calls.run(client.restore_dashboard_version(meta["dashboard_id"], version))
        except aio.AioRpcError as exc:
            return (no_update,) * 4 + (error(rpc_message(exc)), no_update, no_update)
        request_thumbnail(token, meta["dashboard_id"])
        state = saved_state(stored)
        document = state["document"]
        message = dmc.Text(
            f"Version {version} restored as version {stored.version}",
            c="green",
            id="editor-saved-as",
        )
        again = {"revision": int((request or {}).get("revision", 0)) + 1, "tab": None}
        return (
            state,
            document,
            again,
            False,
            message,
            document["title"],
            document.get("description", ""),
        )

    @app.callback(
        Output("editor-download", "data"),
        Output("editor-message", "children", allow_duplicate=True),
        Input("editor-export", "n_clicks"),
        State("editor-meta", "data"),
        prevent_initial_call=True,
    )
    def export(clicks: int | None, meta: dict[str, Any]) -> Any:
        client = calls.metadata(current_identity().token)
        try:
            text = calls.run(client.export_dashboard_yaml(meta["dashboard_id"]))
        except aio.AioRpcError as exc:
            return no_update, error(rpc_message(exc))
        return dcc.send_string(text, f"dashboard-{meta['dashboard_id']}.yaml"), no_update

    @app.callback(
        Output("import-result", "children"),
        Input("editor-import", "contents"),
        State("editor-import", "filename"),
        State("editor-meta", "data"),
        prevent_initial_call=True,
    )
    def import_dashboard(contents: str | None, filename: str | None, meta: dict[str, Any]) -> Any:
        if not contents:
            raise PreventUpdate
        try:
            text = base64.b64decode(contents.split(",", 1)[1]).decode("utf-8")
        except (IndexError, binascii.Error, UnicodeDecodeError):
            return error(f"{filename or 'the file'}: not a UTF-8 text file")
        client = calls.metadata(current_identity().token)
        try:
            created = calls.run(client.import_dashboard_yaml(text, meta["project_id"]))
        except aio.AioRpcError as exc:
            return error(f"{filename or 'YAML'}: {rpc_message(exc)}")
        return dmc.Group(
            [
                dmc.Text(f"Imported “{created.title}” as a new dashboard:", size="sm"),
                dmc.Anchor(
                    "open it in the viewer",
                    href=f"/dashboard/{created.id}",
                    refresh=True,
                    id="imported-view-link",
                ),
                dmc.Anchor(
                    "edit it",
                    href=f"/dashboard-edit/{created.id}",
                    refresh=True,
                    id="imported-edit-link",
                ),
            ],
            gap="xs",
        )
