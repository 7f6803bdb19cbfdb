"""The admin page (`/admin`, admins only): users, promoted or demoted, deactivated or
reactivated. auth_svc has the last word (the last admin cannot be demoted): its refusals are
shown as it words them."""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
from dash import ALL, Dash, Input, Output, ctx, html, no_update
from grpc import aio

from dash_apps.management.tasks import recent_tasks_section
from dash_apps.management.widgets import done, refused_call, row, table, when
from dash_apps.service_calls import ServiceCalls
from dash_apps.session import current_identity
from dash_apps.shell import message_page
from depictio.clients.auth import AuthClient
from depictio.tokens import Identity
from depictio.v1 import auth_pb2

FEEDBACK_ID = "admin-feedback"


async def _all_users(client: AuthClient) -> list[auth_pb2.User]:
    users: list[auth_pb2.User] = []
    token = ""
    while True:
        response = await client.list_users(page_size=500, page_token=token)
        users.extend(response.users)
        token = response.page.next_page_token
        if not token:
            return users


def _user_row(user: auth_pb2.User, identity: Identity) -> dmc.TableTr:
    badges = [
        *([dmc.Badge("admin", color="violet", variant="light")] if user.is_admin else []),
        *([] if user.is_active else [dmc.Badge("inactive", color="gray", variant="light")]),
        *([dmc.Badge("you", variant="outline")] if user.id == identity.user_id else []),
    ]
    return row(
        [
            user.email,
            dmc.Group(badges, gap=4, id=f"user-status-{user.id}"),
            when(user.created_at),
            when(user.last_login_at),
            dmc.Group(
                [
                    dmc.Button(
                        "Demote" if user.is_admin else "Make admin",
                        id={"type": "toggle-admin", "id": user.id},
                        variant="subtle",
                        size="xs",
                    ),
                    dmc.Button(
                        "Deactivate" if user.is_active else "Reactivate",
                        id={"type": "toggle-active", "id": user.id},
                        color="red" if user.is_active else "blue",
                        variant="subtle",
                        size="xs",
                    ),
                ],
                gap="sm",
            ),
        ],
        f"user-row-{user.id}",
    )


def users_table(calls: ServiceCalls, identity: Identity, feedback: Any = None) -> Any:
    """Every user, under the outcome of the last action."""
    try:
        users = calls.run(_all_users(calls.auth(identity.token)))
    except aio.AioRpcError as exc:
        return refused_call(exc, FEEDBACK_ID)
    return dmc.Stack(
        [
            *([feedback] if feedback is not None else []),
            table(
                ["E-mail", "Status", "Registered", "Last sign-in", ""],
                [_user_row(user, identity) for user in users],
                "users-table",
                "No users.",
            ),
        ]
    )


def admin_page(calls: ServiceCalls, identity: Identity) -> Any:
    """The users page for admins; 'No access' for everyone else."""
    if not identity.is_admin:
        return message_page("No access", "Only administrators may manage users.")
    return dmc.Stack(
        [
            dmc.Title("Users", order=2),
            html.Div(users_table(calls, identity), id="users-list"),
            recent_tasks_section(),
        ]
    )


def _toggle(calls: ServiceCalls, identity: Identity, action: str, user_id: str) -> Any:
    client = calls.auth(identity.token)
    try:
        user = calls.run(client.get_user(user_id))
        if action == "toggle-admin":
            changed = calls.run(client.update_user(user_id, is_admin=not user.is_admin))
            outcome = "is now an admin" if changed.is_admin else "is no longer an admin"
        else:
            changed = calls.run(client.update_user(user_id, is_active=not user.is_active))
            outcome = "was reactivated" if changed.is_active else "was deactivated"
    except aio.AioRpcError as exc:
        return refused_call(exc, FEEDBACK_ID)
    return done(f"{changed.email} {outcome}.", FEEDBACK_ID)


def register_admin(app: Dash, calls: ServiceCalls) -> None:
    """The callback of the admin page: promote, demote, deactivate, reactivate."""

    @app.callback(
        Output("users-list", "children"),
        Input({"type": "toggle-admin", "id": ALL}, "n_clicks"),
        Input({"type": "toggle-active", "id": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def change_user(_admins: Any, _actives: Any) -> Any:
        trigger = ctx.triggered_id
        if trigger is None or not (ctx.triggered and ctx.triggered[0]["value"]):
            return no_update
        identity = current_identity()
        feedback = _toggle(calls, identity, trigger["type"], trigger["id"])
        return users_table(calls, identity, feedback)
