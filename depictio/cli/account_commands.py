"""`depictio login`, `logout` and `whoami`."""

from __future__ import annotations

import socket
import sys
from typing import Annotated

import typer

from depictio.cli.credentials import Credentials, forget, load_saved, normalized_url, resolve, save
from depictio.cli.failures import UsageFailure
from depictio.cli.gateway_api import GatewayApi
from depictio.cli.reporting import reported

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
UrlOption = Annotated[
    str | None, typer.Option("--url", help="Gateway URL (default: DEPICTIO_URL or the saved one).")
]


def login(
    url: UrlOption = None,
    email: Annotated[str | None, typer.Option("--email", help="Sign in with this account.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    token: Annotated[
        str | None, typer.Option("--token", help="Sign in with an API token (dpt_…).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Sign in and save the credentials (~/.config/depictio/config.toml, mode 0600).

    With --email the CLI creates an API token for itself (revoked again by logout)."""
    with reported(as_json) as reporter:
        if (email is None) == (token is None):
            raise UsageFailure("give either --email (with --password-stdin) or --token")
        if email is not None and not password_stdin:
            raise UsageFailure("--email needs --password-stdin (the password is never an option)")
        gateway = normalized_url(url or resolve_url_only())
        if token is not None:
            credentials = Credentials(url=gateway, token=token)
            with GatewayApi(credentials) as api:
                user = api.me()
        else:
            assert email is not None
            password = sys.stdin.readline().rstrip("\n")
            if not password:
                raise UsageFailure("--password-stdin: no password on standard input")
            with GatewayApi(Credentials(url=gateway, token="")) as api:
                access = api.login(email, password)
                name = f"depictio CLI on {socket.gethostname()}"[:100]
                token_id, secret = api.create_api_token(access, name)
            credentials = Credentials(url=gateway, token=secret, token_id=token_id)
            with GatewayApi(credentials) as api:
                user = api.me()
        path = save(
            Credentials(
                url=gateway,
                token=credentials.token,
                email=user["email"],
                token_id=credentials.token_id,
            )
        )
        reporter.result(
            {"url": gateway, "email": user["email"], "is_admin": user["is_admin"]},
            [f"Signed in to {gateway} as {user['email']} (credentials in {path})"],
        )


def resolve_url_only() -> str:
    """The gateway URL from DEPICTIO_URL or the saved config, for login without --url."""
    return resolve(None).url


def logout(as_json: JsonOption = False) -> None:
    """Forget the saved credentials (and revoke the API token login created)."""
    with reported(as_json) as reporter:
        saved = load_saved()
        revoked = False
        if saved is not None and saved.token_id and saved.token:
            with GatewayApi(saved) as api:
                api.revoke_api_token(saved.token_id)
                revoked = True
        removed = forget()
        reporter.result(
            {"signed_out": removed, "token_revoked": revoked},
            ["Signed out." if removed else "Nobody was signed in."],
        )


def whoami(url: UrlOption = None, as_json: JsonOption = False) -> None:
    """Show who the CLI acts as, and where."""
    with reported(as_json) as reporter:
        credentials = resolve(url)
        if not credentials.token:
            raise UsageFailure("not signed in: run `depictio login` or set DEPICTIO_TOKEN")
        with GatewayApi(credentials) as api:
            user = api.me()
        role = "admin" if user["is_admin"] else "user"
        reporter.result(
            {"url": credentials.url, **user},
            [f"{user['email']} ({role}) at {credentials.url}"],
        )
