"""Sign-in and registration pages: plain HTML forms posted to the session routes.

The forms post to /auth/login and /auth/register (dash_apps/session.py), which set the
HTTP-only cookies; a refused attempt comes back here with `?error=` to show (signed by the
server: a text a link brings is not shown).
"""

from __future__ import annotations

from urllib.parse import parse_qs

import dash_mantine_components as dmc
from dash import dcc, html

from dash_apps.session import error_from


def query_value(search: str | None, name: str) -> str:
    """One value of the page's query string ('' when absent)."""
    values = parse_qs((search or "").lstrip("?")).get(name, [""])
    return values[0]


def _error(search: str | None) -> list[dmc.Alert]:
    error = error_from(query_value(search, "error"))
    return [dmc.Alert(error, color="red", id="auth-error")] if error else []


def sign_in_page(search: str | None, registration_open: bool) -> dmc.Container:
    """The sign-in form; `next` in the query says where to go afterwards."""
    footer = (
        [dmc.Anchor("No account yet? Register", href="/register", id="to-register")]
        if registration_open
        else []
    )
    return dmc.Container(
        dmc.Paper(
            html.Form(
                dmc.Stack(
                    [
                        dmc.Title("Sign in", order=2),
                        *_error(search),
                        dmc.TextInput(
                            label="E-mail", name="email", id="sign-in-email", required=True
                        ),
                        dmc.PasswordInput(
                            label="Password", name="password", id="sign-in-password", required=True
                        ),
                        dcc.Input(
                            type="hidden", name="next", value=query_value(search, "next") or "/"
                        ),
                        dmc.Button("Sign in", buttonProps={"type": "submit"}, id="sign-in-submit"),
                        *footer,
                    ]
                ),
                action="/auth/login",
                method="POST",
            ),
            p="lg",
            withBorder=True,
        ),
        size="xs",
        pt="xl",
    )


def register_page(search: str | None, registration_open: bool) -> dmc.Container:
    """The registration form (or why there is none)."""
    if not registration_open:
        return dmc.Container(
            dmc.Alert("Registration is closed on this server; ask an admin for an account.")
        )
    return dmc.Container(
        dmc.Paper(
            html.Form(
                dmc.Stack(
                    [
                        dmc.Title("Register", order=2),
                        *_error(search),
                        dmc.TextInput(
                            label="E-mail", name="email", id="register-email", required=True
                        ),
                        dmc.PasswordInput(
                            label="Password", name="password", id="register-password", required=True
                        ),
                        dmc.PasswordInput(
                            label="Password again",
                            name="password_again",
                            id="register-password-again",
                            required=True,
                        ),
                        dmc.Button(
                            "Register", buttonProps={"type": "submit"}, id="register-submit"
                        ),
                        dmc.Anchor("Already registered? Sign in", href="/login"),
                    ]
                ),
                action="/auth/register",
                method="POST",
            ),
            p="lg",
            withBorder=True,
        ),
        size="xs",
        pt="xl",
    )
