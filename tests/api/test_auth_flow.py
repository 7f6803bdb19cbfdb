"""Accounts, sessions and API tokens through the gateway, against real services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from .gateway_client import (
    AUTH,
    Account,
    StackLike,
    bearer,
    login,
    new_password,
    new_request_id,
    random_part,
    unique_email,
)

pytestmark = pytest.mark.timeout(120)

USER_FIELDS = {"id", "email", "is_admin", "is_active", "created_at", "last_login_at"}


def test_register_login_me_refresh_logout(api: httpx.Client) -> None:
    email, password = unique_email("flow"), new_password()

    registered = api.post(f"{AUTH}/register", json={"email": email, "password": password})
    assert registered.status_code == 201, registered.text
    user = registered.json()
    assert set(user) == USER_FIELDS
    assert (user["email"], user["is_admin"], user["is_active"]) == (email, False, True)
    assert password not in registered.text

    tokens = login(api, email, password)
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] > 0
    me = api.get(f"{AUTH}/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200, me.text
    assert (me.json()["id"], me.json()["email"]) == (user["id"], email)
    assert me.json()["last_login_at"] is not None

    refreshed = api.post(f"{AUTH}/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    renewed = refreshed.json()
    assert renewed["refresh_token"] != tokens["refresh_token"]
    me_again = api.get(f"{AUTH}/me", headers=bearer(renewed["access_token"]))
    assert me_again.status_code == 200, me_again.text

    logout = api.post(
        f"{AUTH}/logout",
        headers=bearer(renewed["access_token"]),
        json={"refresh_token": renewed["refresh_token"]},
    )
    assert logout.status_code == 204, logout.text
    after = api.post(f"{AUTH}/refresh", json={"refresh_token": renewed["refresh_token"]})
    assert after.status_code == 401, after.text
    assert after.headers["WWW-Authenticate"].startswith("Bearer")
    ended = api.get(f"{AUTH}/me", headers=bearer(renewed["access_token"]))
    assert ended.status_code == 401, ended.text
    assert "session has ended" in ended.json()["detail"]


def test_logout_without_body_ends_the_calling_session(api: httpx.Client, user: Account) -> None:
    logout = api.post(f"{AUTH}/logout", headers=bearer(user.access_token))
    assert logout.status_code == 204, logout.text
    assert (
        api.post(f"{AUTH}/refresh", json={"refresh_token": user.refresh_token}).status_code == 401
    )


def test_reused_refresh_token_revokes_the_session(api: httpx.Client, user: Account) -> None:
    first = api.post(f"{AUTH}/refresh", json={"refresh_token": user.refresh_token})
    assert first.status_code == 200, first.text
    reused = api.post(f"{AUTH}/refresh", json={"refresh_token": user.refresh_token})
    assert reused.status_code == 401
    assert "already used" in reused.json()["detail"]
    newest = api.post(f"{AUTH}/refresh", json={"refresh_token": first.json()["refresh_token"]})
    assert newest.status_code == 401, "the whole family must be revoked after a reuse"


def test_api_token_create_use_list_revoke(api: httpx.Client, user: Account) -> None:
    created = api.post(
        f"{AUTH}/tokens",
        headers=bearer(user.access_token),
        json={"name": "ci", "expires_in_days": 30},
    )
    assert created.status_code == 201, created.text
    token = created.json()
    secret = token["secret"]
    assert secret.startswith("dpt_")
    assert token["name"] == "ci" and token["revoked"] is False
    expires_at = datetime.fromisoformat(token["expires_at"])
    assert abs(expires_at - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=5)

    for _ in range(2):  # the second call is served from the gateway's exchange cache
        me = api.get(f"{AUTH}/me", headers=bearer(secret))
        assert me.status_code == 200, me.text
        assert me.json()["id"] == user.user_id

    listed = api.get(f"{AUTH}/tokens", headers=bearer(secret))
    assert listed.status_code == 200, listed.text
    assert [t["id"] for t in listed.json()] == [token["id"]]
    assert all("secret" not in t for t in listed.json())
    assert secret not in listed.text and random_part(secret) not in listed.text

    revoked = api.delete(f"{AUTH}/tokens/{token['id']}", headers=bearer(user.access_token))
    assert revoked.status_code == 204, revoked.text
    refused = api.get(f"{AUTH}/me", headers=bearer(secret))
    assert refused.status_code == 401, refused.text
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")

    assert api.get(f"{AUTH}/tokens", headers=bearer(user.access_token)).json() == []
    with_revoked = api.get(
        f"{AUTH}/tokens", headers=bearer(user.access_token), params={"include_revoked": True}
    )
    assert [(t["id"], t["revoked"]) for t in with_revoked.json()] == [(token["id"], True)]


def test_api_token_of_another_user_cannot_be_revoked(
    api: httpx.Client, user: Account, stack: StackLike
) -> None:
    other = api.post(f"{AUTH}/tokens", headers=bearer(user.access_token), json={"name": "mine"})
    intruder = login(api, *_register(api))
    response = api.delete(
        f"{AUTH}/tokens/{other.json()['id']}", headers=bearer(intruder["access_token"])
    )
    assert response.status_code == 404, response.text
    assert api.get(f"{AUTH}/me", headers=bearer(other.json()["secret"])).status_code == 200


def _register(api: httpx.Client) -> tuple[str, str]:
    email, password = unique_email("other"), new_password()
    response = api.post(f"{AUTH}/register", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return email, password


def test_duplicate_email_is_409(api: httpx.Client, user: Account) -> None:
    response = api.post(
        f"{AUTH}/register", json={"email": user.email.upper(), "password": new_password()}
    )
    assert response.status_code == 409, response.text
    assert response.json()["detail"]


def test_bad_password_and_unknown_email_are_401_alike(api: httpx.Client, user: Account) -> None:
    wrong = api.post(f"{AUTH}/login", json={"email": user.email, "password": "not-the-password"})
    unknown = api.post(
        f"{AUTH}/login", json={"email": unique_email("nobody"), "password": "whatever-it-is"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "invalid e-mail or password"}


def test_weak_password_and_bad_email_are_400(api: httpx.Client) -> None:
    weak = api.post(f"{AUTH}/register", json={"email": unique_email(), "password": "short"})
    assert weak.status_code == 400, weak.text
    assert "password" in weak.json()["detail"]
    bad_email = api.post(
        f"{AUTH}/register", json={"email": "not-an-address", "password": new_password()}
    )
    assert bad_email.status_code == 400, bad_email.text
    assert "email" in bad_email.json()["detail"]
    # Look-alikes of an address (invisible characters) and markup are not addresses either.
    address = unique_email("lookalike")
    for unusable in ("\u200b", "\u202e", "\x00", "<b>", "\u00a0"):
        name, domain = address.split("@")
        refused = api.post(
            f"{AUTH}/register",
            json={"email": f"{name}{unusable}@{domain}", "password": new_password()},
        )
        assert refused.status_code == 400, (unusable, refused.text)
        assert "is not a valid e-mail address" in refused.json()["detail"]
    accented = api.post(
        f"{AUTH}/register", json={"email": f"zoë.{address}", "password": new_password()}
    )
    assert accented.status_code == 201, accented.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("register", {"email": "a@example.org"}),
        ("register", {"email": "a@example.org", "password": "long-enough-pw", "admin": True}),
        ("login", {"email": ["a@example.org"], "password": "x"}),
        ("login", "not an object"),
        ("refresh", {}),
        ("tokens", {"name": "x", "expires_in_days": -1}),
    ],
)
def test_invalid_body_is_422(api: httpx.Client, user: Account, path: str, body: object) -> None:
    response = api.post(f"{AUTH}/{path}", headers=bearer(user.access_token), json=body)
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], list)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "me"),
        ("POST", "logout"),
        ("POST", "tokens"),
        ("GET", "tokens"),
        ("DELETE", "tokens/abc123"),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer x.y.z"])
def test_user_routes_refuse_missing_or_bad_credentials(
    api: httpx.Client, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    body = {"name": "x"} if path == "tokens" and method == "POST" else None
    response = api.request(method, f"{AUTH}/{path}", headers=headers, json=body)
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["detail"]


def test_request_id_is_propagated_to_the_services_and_returned(
    api: httpx.Client, user: Account, stack: StackLike
) -> None:
    request_id = new_request_id("propagated")
    response = api.get(
        f"{AUTH}/me", headers={**bearer(user.access_token), "X-Request-ID": request_id}
    )
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == request_id
    assert request_id in stack.log_text("auth_svc")
    assert request_id in stack.log_text("gateway")

    generated = api.get(f"{AUTH}/me", headers=bearer(user.access_token)).headers["X-Request-ID"]
    assert generated and generated != request_id
    unsafe = api.get("/healthz", headers={"X-Request-ID": "two words\tand a tab"})
    assert unsafe.headers["X-Request-ID"] != "two words\tand a tab"
