"""The API tokens page (`/tokens`): the visitor's tokens, creating one (its secret shown once)
and revoking."""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from grpc import aio

from dash_apps.management.widgets import done, refused, refused_call, row, table, when
from dash_apps.service_calls import ServiceCalls
from dash_apps.session import current_identity
from depictio.tokens import Identity
from depictio.v1 import auth_pb2

FEEDBACK_ID = "tokens-feedback"
MAX_EXPIRY_DAYS = 3650


def _token_row(token: auth_pb2.ApiToken) -> dmc.TableTr:
    status: Any = (
        dmc.Badge("revoked", color="red", variant="light", id=f"token-revoked-{token.id}")
        if token.revoked
        else dmc.Button(
            "Revoke",
            id={"type": "revoke-token", "id": token.id},
            color="red",
            variant="subtle",
            size="xs",
        )
    )
    return row(
        [
            token.name,
            when(token.created_at),
            when(token.expires_at) if token.HasField("expires_at") else "never",
            when(token.last_used_at),
            status,
        ],
        f"token-row-{token.id}",
    )


def tokens_table(calls: ServiceCalls, identity: Identity, feedback: Any = None) -> Any:
    """The visitor's tokens, revoked ones included, under the outcome of the last action."""
    try:
        tokens = calls.run(calls.auth(identity.token).list_api_tokens(include_revoked=True))
    except aio.AioRpcError as exc:
        return refused_call(exc, FEEDBACK_ID)
    return dmc.Stack(
        [
            *([feedback] if feedback is not None else []),
            table(
                ["Name", "Created", "Expires", "Last used", ""],
                [_token_row(token) for token in tokens],
                "tokens-table",
                "No API tokens yet.",
            ),
        ]
    )


def secret_box(secret: str) -> dmc.Alert:
    """The new token's secret, with a copy button and the warning that it is shown once."""
    return dmc.Alert(
        dmc.Stack(
            [
                dmc.Text(
                    [
                        "This is the only time the secret is shown: only its hash is stored. "
                        "Copy it now into your script or the command line: ",
                        dmc.Code("depictio login --token <secret>"),
                    ]
                ),
                dmc.Group(
                    [
                        dmc.Code(secret, id="token-secret-value", style={"userSelect": "all"}),
                        dcc.Clipboard(target_id="token-secret-value", title="Copy"),
                    ]
                ),
            ]
        ),
        title="Copy your new API token now",
        color="yellow",
        id="token-secret-alert",
    )


def tokens_page(calls: ServiceCalls, identity: Identity) -> dmc.Stack:
    """The create form, the place of the new secret, then the tokens."""
    return dmc.Stack(
        [
            dmc.Title("API tokens", order=2),
            dmc.Text(
                "API tokens let the depictio command line and scripts act as you. "
                "Revoke a token you no longer use.",
                size="sm",
            ),
            dmc.Group(
                [
                    dmc.TextInput(id="token-name", label="Name", w=260),
                    dmc.NumberInput(
                        id="token-expiry-days",
                        label="Expires after (days; empty: never)",
                        min=1,
                        max=MAX_EXPIRY_DAYS,
                        allowDecimal=False,
                        w=240,
                    ),
                    dmc.Button("Create token", id="token-create"),
                ],
                align="flex-end",
            ),
            html.Div(id="token-secret"),
            html.Div(tokens_table(calls, identity), id="tokens-list"),
        ]
    )


def _create(calls: ServiceCalls, identity: Identity, name: str, days: Any) -> tuple[Any, Any]:
    """(feedback, secret box) of a create request."""
    if not name:
        return refused("Name the token so that you can recognise it.", FEEDBACK_ID), []
    if days in (None, ""):
        expiry = 0  # auth_svc's "never"
    elif isinstance(days, int | float) and days == int(days) and 1 <= days <= MAX_EXPIRY_DAYS:
        expiry = int(days)
    else:
        return refused(
            f"Expiry must be 1 to {MAX_EXPIRY_DAYS} days, or empty for a token that never expires.",
            FEEDBACK_ID,
        ), []
    try:
        created = calls.run(calls.auth(identity.token).create_api_token(name, expiry))
    except aio.AioRpcError as exc:
        return refused_call(exc, FEEDBACK_ID), []
    return done(f"Created “{created.token.name}”.", FEEDBACK_ID), secret_box(created.secret)


def _revoke(calls: ServiceCalls, identity: Identity, token_id: str) -> Any:
    try:
        token = calls.run(calls.auth(identity.token).revoke_api_token(token_id))
    except aio.AioRpcError as exc:
        return refused_call(exc, FEEDBACK_ID)
    return done(f"Revoked “{token.name}”: it is refused from now on.", FEEDBACK_ID)


def register_tokens(app: Dash, calls: ServiceCalls) -> None:
    """The callback of the tokens page: create or revoke, then list again."""

    @app.callback(
        Output("tokens-list", "children"),
        Output("token-secret", "children"),
        Output("token-name", "value"),
        Input("token-create", "n_clicks"),
        Input({"type": "revoke-token", "id": ALL}, "n_clicks"),
        State("token-name", "value"),
        State("token-expiry-days", "value"),
        prevent_initial_call=True,
    )
    def change_tokens(_create_clicks: Any, _revokes: Any, name: Any, days: Any) -> tuple[Any, ...]:
        trigger = ctx.triggered_id
        if trigger is None or not (ctx.triggered and ctx.triggered[0]["value"]):
            return no_update, no_update, no_update
        identity = current_identity()
        if trigger == "token-create":
            feedback, secret = _create(calls, identity, (name or "").strip(), days)
            cleared = "" if secret else no_update
            return tokens_table(calls, identity, feedback), secret, cleared
        feedback = _revoke(calls, identity, trigger["id"])
        return tokens_table(calls, identity, feedback), [], no_update
