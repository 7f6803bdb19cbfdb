"""No password, token or API token secret ever reaches a log line, whatever the request."""

from __future__ import annotations

import httpx
import pytest

from .gateway_client import (
    AUTH,
    CHILD_NAMES,
    StackLike,
    bearer,
    login,
    new_password,
    new_request_id,
    random_part,
    sign_up,
)

pytestmark = pytest.mark.timeout(120)


def signature_of(jwt_token: str) -> str:
    """A JWT's signature: enough to find the token even if a log cut it short."""
    return jwt_token.rsplit(".", 1)[-1]


def test_logs_hold_no_secrets(api: httpx.Client, stack: StackLike) -> None:
    account = sign_up(api, "secretive")
    wrong_password = new_password()
    request_ids = [new_request_id(f"secrets-{n}") for n in range(8)]

    def tagged(n: int, token: str = "") -> dict[str, str]:
        return {"X-Request-ID": request_ids[n], **(bearer(token) if token else {})}

    api.post(
        f"{AUTH}/login",
        json={"email": account.email, "password": wrong_password},
        headers=tagged(0),
    )
    renewed = api.post(
        f"{AUTH}/refresh", json={"refresh_token": account.refresh_token}, headers=tagged(1)
    ).json()
    secret = api.post(
        f"{AUTH}/tokens", json={"name": "logged?"}, headers=tagged(2, renewed["access_token"])
    ).json()["secret"]
    api.get(f"{AUTH}/me", headers=tagged(3, secret))
    # Tokens in a query string are not accepted, and must not be logged either.
    api.get(
        f"{AUTH}/me",
        params={"access_token": renewed["access_token"], "token": secret},
        headers=tagged(4, renewed["access_token"]),
    )
    api.get(f"{AUTH}/me", headers=tagged(5, renewed["access_token"] + "x"))
    api.post(
        f"{AUTH}/register",
        json={"email": "not-an-address", "password": account.password},
        headers=tagged(6),
    )
    admin = login(api, stack.admin_email, stack.admin_password)
    api.post(
        f"{AUTH}/logout",
        json={"refresh_token": renewed["refresh_token"]},
        headers=tagged(7, renewed["access_token"]),
    )

    secrets = {
        "password": account.password,
        "wrong password": wrong_password,
        "admin password": stack.admin_password,
        "API token secret": secret,
        "API token secret's random part": random_part(secret),
    }
    for name, token in {
        "first access token": account.access_token,
        "first refresh token": account.refresh_token,
        "access token": renewed["access_token"],
        "refresh token": renewed["refresh_token"],
        "admin access token": admin["access_token"],
        "admin refresh token": admin["refresh_token"],
    }.items():
        secrets[name] = token
        secrets[f"{name}'s signature"] = signature_of(token)

    logs = {name: stack.log_text(name) for name in CHILD_NAMES}
    for request_id in request_ids:
        assert request_id in logs["gateway"], "the requests must have been logged"
    for child, text in logs.items():
        leaked = [name for name, value in secrets.items() if value in text]
        assert leaked == [], f"{child}'s log contains the {', '.join(leaked)}"
