"""Who has access to a project: its visibility and members, changed by owners (and admins).

Non-owners see the same section without any control; metadata_svc refuses their changes
anyway, and every refusal is shown with the server's message.
"""

from __future__ import annotations

from typing import Any, cast

import dash_mantine_components as dmc
from dash import ALL, Dash, Input, Output, State, ctx, no_update
from grpc import aio

from dash_apps.management.widgets import (
    done,
    may_manage,
    public_badge,
    refused,
    refused_call,
    row,
    table,
)
from dash_apps.service_calls import ServiceCalls
from dash_apps.session import current_identity
from depictio.clients.metadata import ROLES, RoleName, role_name
from depictio.tokens import Identity
from depictio.v1 import metadata_pb2 as pb

FEEDBACK_ID = "project-feedback"
ROLE_CHOICES = [{"value": name, "label": name} for name in ROLES]


def _member_row(member: pb.Member, manage: bool) -> dmc.TableTr:
    role: Any = role_name(member.role)
    actions: list[Any] = []
    if manage:
        role = dmc.Select(
            id={"type": "member-role", "id": member.user_id},
            data=ROLE_CHOICES,
            value=role_name(member.role),
            allowDeselect=False,
            w=130,
            size="xs",
        )
        actions = [
            dmc.Button(
                "Remove",
                id={"type": "remove-member", "id": member.user_id},
                color="red",
                variant="subtle",
                size="xs",
            )
        ]
    return row([member.email, role, dmc.Group(actions)], f"member-row-{member.user_id}")


def _add_member_form() -> dmc.Group:
    return dmc.Group(
        [
            dmc.TextInput(id="new-member-email", placeholder="e-mail of a registered user", w=280),
            dmc.Select(
                id="new-member-role", data=ROLE_CHOICES, value="viewer", allowDeselect=False, w=130
            ),
            dmc.Button("Add member", id="new-member-add"),
        ],
        align="flex-end",
    )


def access_section(project: pb.Project, identity: Identity, feedback: Any = None) -> dmc.Stack:
    """Visibility and members of a full project; controls only for those who may manage."""
    manage = may_manage(project.caller_role, identity)
    toggle = (
        [
            dmc.Button(
                "Make private" if project.is_public else "Make public",
                id={"type": "toggle-project-public", "id": project.id},
                variant="light",
                size="xs",
            )
        ]
        if manage
        else []
    )
    return dmc.Stack(
        [
            *([feedback] if feedback is not None else []),
            dmc.Group(
                [
                    dmc.Text("Visibility:", size="sm"),
                    public_badge(project.is_public, "project-visibility"),
                    *toggle,
                ]
            ),
            table(
                ["Member", "Role", ""],
                [_member_row(member, manage) for member in project.members],
                "members-table",
                "No members."
                if project.caller_role or identity.is_admin
                else "The project's members are listed to its members.",
            ),
            *([_add_member_form()] if manage else []),
        ]
    )


def _section_after(calls: ServiceCalls, identity: Identity, project_id: str, feedback: Any) -> Any:
    """The section as the project now is, under the outcome of the last action."""
    try:
        project = calls.run(calls.metadata(identity.token).get_project(project_id))
    except aio.AioRpcError as exc:
        return refused_call(exc, FEEDBACK_ID)
    return access_section(project, identity, feedback)


def _add_member(
    calls: ServiceCalls, identity: Identity, project_id: str, email: str, role: RoleName
) -> Any:
    if not email:
        return refused("Enter the e-mail of the user to add.", FEEDBACK_ID)
    try:
        # auth_svc answers the project's owners only (anyone else learns nothing of the e-mail).
        found = calls.run(calls.auth(identity.token).lookup_user(email, project_id))
        member = calls.run(
            calls.metadata(identity.token).set_member(project_id, found.user_id, role, found.email)
        )
    except aio.AioRpcError as exc:
        return refused_call(exc, FEEDBACK_ID)
    return done(f"{member.email} is now {role_name(member.role)}.", FEEDBACK_ID)


def _change(
    calls: ServiceCalls, identity: Identity, project_id: str, action: str, target: str, value: Any
) -> Any:
    """Carries out one control's action; None when there was nothing to do."""
    client = calls.metadata(identity.token)
    try:
        project = calls.run(client.get_project(project_id))
        if action == "toggle-project-public":
            changed = calls.run(client.update_project(project_id, is_public=not project.is_public))
            return done(
                f"The project is now {'public' if changed.is_public else 'private'}.", FEEDBACK_ID
            )
        member = next((m for m in project.members if m.user_id == target), None)
        if member is None:
            return refused("This user is no longer a member.", FEEDBACK_ID)
        if action == "remove-member":
            calls.run(client.remove_member(project_id, target))
            return done(f"{member.email} was removed.", FEEDBACK_ID)
        if value not in ROLES or value == role_name(member.role):
            return None
        calls.run(client.set_member(project_id, target, value, member.email))
        return done(f"{member.email} is now {value}.", FEEDBACK_ID)
    except aio.AioRpcError as exc:
        return refused_call(exc, FEEDBACK_ID)


def register_project_access(app: Dash, calls: ServiceCalls) -> None:
    """The callbacks of the access section: add a member, change a role, remove, toggle."""

    @app.callback(
        Output("project-access", "children", allow_duplicate=True),
        Input("new-member-add", "n_clicks"),
        State("new-member-email", "value"),
        State("new-member-role", "value"),
        State("project-detail-id", "data"),
        prevent_initial_call=True,
    )
    def add_member(clicks: int | None, email: str | None, role: str | None, project_id: str) -> Any:
        if not clicks:
            return no_update
        identity = current_identity()
        chosen = cast(RoleName, role if role in ROLES else "viewer")
        feedback = _add_member(calls, identity, project_id, (email or "").strip(), chosen)
        return _section_after(calls, identity, project_id, feedback)

    @app.callback(
        Output("project-access", "children"),
        Input({"type": "toggle-project-public", "id": ALL}, "n_clicks"),
        Input({"type": "member-role", "id": ALL}, "value"),
        Input({"type": "remove-member", "id": ALL}, "n_clicks"),
        State("project-detail-id", "data"),
        prevent_initial_call=True,
    )
    def change_access(_toggles: Any, _roles: Any, _removals: Any, project_id: str) -> Any:
        trigger = ctx.triggered_id
        value = ctx.triggered[0]["value"] if ctx.triggered else None
        if trigger is None or not value:
            return no_update
        identity = current_identity()
        feedback = _change(calls, identity, project_id, trigger["type"], trigger["id"], value)
        if feedback is None:
            return no_update
        return _section_after(calls, identity, project_id, feedback)
