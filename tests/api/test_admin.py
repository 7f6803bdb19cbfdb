"""User administration: admins only, paginated, and the last admin stays an admin."""

from __future__ import annotations

import httpx
import pytest

from .gateway_client import (
    ADMIN,
    AUTH,
    Account,
    MakeStack,
    StackLike,
    admin_token,
    bearer,
    client_for,
    login,
    sign_up,
)

pytestmark = pytest.mark.timeout(120)

ADMIN_ROUTES = [
    ("GET", "/users", None),
    ("GET", "/users/{user_id}", None),
    ("PATCH", "/users/{user_id}", {"is_admin": True}),
]


@pytest.fixture
def admin(api: httpx.Client, stack: StackLike) -> str:
    """An access token of the shared stack's first admin."""
    return admin_token(api, stack)


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_anonymous_is_401(
    api: httpx.Client, user: Account, method: str, path: str, body: object
) -> None:
    response = api.request(method, ADMIN + path.format(user_id=user.user_id), json=body)
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_non_admin_is_403(
    api: httpx.Client, user: Account, method: str, path: str, body: object
) -> None:
    response = api.request(
        method,
        ADMIN + path.format(user_id=user.user_id),
        json=body,
        headers=bearer(user.access_token),
    )
    assert response.status_code == 403, response.text
    assert response.json() == {"detail": "admin role required"}
    me = api.get(f"{AUTH}/me", headers=bearer(user.access_token)).json()
    assert me["is_admin"] is False, "a refused PATCH must change nothing"


def test_users_are_paginated(api: httpx.Client, admin: str) -> None:
    for _ in range(2):
        sign_up(api, "paged")
    first = api.get(f"{ADMIN}/users", headers=bearer(admin), params={"page_size": 1})
    assert first.status_code == 200, first.text
    page = first.json()
    assert len(page["items"]) == 1 and page["total"] >= 3
    assert page["next_page_token"]

    seen: list[str] = []
    token: str | None = None
    while True:
        params: dict[str, str | int] = {"page_size": 2}
        if token:
            params["page_token"] = token
        body = api.get(f"{ADMIN}/users", headers=bearer(admin), params=params).json()
        assert len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        token = body["next_page_token"]
        if token is None:
            break
    assert len(seen) == len(set(seen)) == page["total"]
    assert seen[0] == page["items"][0]["id"]

    bad = api.get(f"{ADMIN}/users", headers=bearer(admin), params={"page_token": "garbage!"})
    assert bad.status_code == 400, bad.text
    assert "page_token" in bad.json()["detail"]
    too_big = api.get(f"{ADMIN}/users", headers=bearer(admin), params={"page_size": 501})
    assert too_big.status_code == 422


def test_get_user_and_unknown_user(api: httpx.Client, admin: str, user: Account) -> None:
    found = api.get(f"{ADMIN}/users/{user.user_id}", headers=bearer(admin))
    assert found.status_code == 200, found.text
    assert (found.json()["id"], found.json()["email"]) == (user.user_id, user.email)
    missing = api.get(f"{ADMIN}/users/no-such-user", headers=bearer(admin))
    assert missing.status_code == 404, missing.text
    assert "no-such-user" in missing.json()["detail"]


def test_promote_then_demote(api: httpx.Client, admin: str, user: Account) -> None:
    promoted = api.patch(
        f"{ADMIN}/users/{user.user_id}", headers=bearer(admin), json={"is_admin": True}
    )
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["is_admin"] is True
    as_admin = login(api, user.email, user.password)["access_token"]
    assert api.get(f"{ADMIN}/users", headers=bearer(as_admin)).status_code == 200

    demoted = api.patch(
        f"{ADMIN}/users/{user.user_id}", headers=bearer(admin), json={"is_admin": False}
    )
    assert demoted.status_code == 200, demoted.text
    assert demoted.json()["is_admin"] is False
    # The token minted while an admin still claims it; auth_svc checks the role live.
    stale = api.get(f"{ADMIN}/users", headers=bearer(as_admin))
    assert stale.status_code == 403, stale.text
    fresh = login(api, user.email, user.password)["access_token"]
    assert api.get(f"{ADMIN}/users", headers=bearer(fresh)).status_code == 403


def test_patch_refuses_unknown_fields(api: httpx.Client, admin: str, user: Account) -> None:
    response = api.patch(
        f"{ADMIN}/users/{user.user_id}", headers=bearer(admin), json={"email": "x@example.org"}
    )
    assert response.status_code == 422, response.text


def test_deactivated_user_is_locked_out(api: httpx.Client, admin: str, user: Account) -> None:
    secret = api.post(
        f"{AUTH}/tokens", headers=bearer(user.access_token), json={"name": "script"}
    ).json()["secret"]
    assert api.get(f"{AUTH}/me", headers=bearer(secret)).status_code == 200  # now cached

    deactivated = api.patch(
        f"{ADMIN}/users/{user.user_id}", headers=bearer(admin), json={"is_active": False}
    )
    assert deactivated.status_code == 200, deactivated.text
    assert deactivated.json()["is_active"] is False

    refused_login = api.post(f"{AUTH}/login", json={"email": user.email, "password": user.password})
    assert refused_login.status_code in (401, 403), refused_login.text
    assert "deactivated" in refused_login.json()["detail"]
    assert api.get(f"{AUTH}/me", headers=bearer(secret)).status_code in (401, 403)
    assert api.get(f"{AUTH}/me", headers=bearer(user.access_token)).status_code in (401, 403)
    refresh = api.post(f"{AUTH}/refresh", json={"refresh_token": user.refresh_token})
    assert refresh.status_code in (401, 403)

    reactivated = api.patch(
        f"{ADMIN}/users/{user.user_id}", headers=bearer(admin), json={"is_active": True}
    )
    assert reactivated.status_code == 200, reactivated.text
    assert login(api, user.email, user.password)["access_token"]
    assert api.get(f"{AUTH}/me", headers=bearer(secret)).status_code == 401, "stays revoked"


def test_last_admin_cannot_be_demoted(make_stack: MakeStack) -> None:
    with make_stack() as stack, client_for(stack) as client:
        token = admin_token(client, stack)
        me = client.get(f"{AUTH}/me", headers=bearer(token)).json()
        for change in ({"is_admin": False}, {"is_active": False}):
            response = client.patch(f"{ADMIN}/users/{me['id']}", headers=bearer(token), json=change)
            assert response.status_code == 409, response.text
            assert response.json()["detail"] == (
                f"{stack.admin_email} is the last admin: promote another user first"
            )

        other = sign_up(client, "second-admin")
        promote = client.patch(
            f"{ADMIN}/users/{other.user_id}", headers=bearer(token), json={"is_admin": True}
        )
        assert promote.status_code == 200
        demote_self = client.patch(
            f"{ADMIN}/users/{me['id']}", headers=bearer(token), json={"is_admin": False}
        )
        assert demote_self.status_code == 200, "with a second admin the first may step down"
