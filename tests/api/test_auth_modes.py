"""Single-user mode (no sign-in: the local admin) and public mode (anonymous callers)."""

from __future__ import annotations

import time

import pytest

from .gateway_client import ADMIN, AUTH, MakeStack, bearer, client_for, login, sign_up

pytestmark = pytest.mark.timeout(120)


def test_single_user_mode_acts_as_the_local_admin(make_stack: MakeStack) -> None:
    # Short-lived tokens with no leeway: the local session must be renewed before it expires.
    env = {
        "DEPICTIO_AUTH_MODE": "single-user",
        "DEPICTIO_ACCESS_TOKEN_TTL_SECONDS": "2",
        "DEPICTIO_JWT_LEEWAY_SECONDS": "0",
    }
    with make_stack(**env) as stack, client_for(stack) as client:
        me = client.get(f"{AUTH}/me")
        assert me.status_code == 200, me.text
        assert (me.json()["email"], me.json()["is_admin"]) == (stack.admin_email, True)
        assert client.get(f"{ADMIN}/users").status_code == 200

        # Ending the local session makes the gateway start a new one on the next request.
        assert client.post(f"{AUTH}/logout").status_code == 204
        assert client.get(f"{AUTH}/me").status_code == 200

        # A token that is sent is still verified, and a bad one is refused.
        assert client.get(f"{AUTH}/me", headers=bearer("not.a.token")).status_code == 401
        other = sign_up(client, "single")
        as_other = client.get(f"{AUTH}/me", headers=bearer(other.access_token))
        assert as_other.json()["email"] == other.email

        time.sleep(2.5)
        renewed = client.get(f"{AUTH}/me")
        assert renewed.status_code == 200, renewed.text


def test_public_mode_refuses_anonymous_callers_on_user_routes(make_stack: MakeStack) -> None:
    with make_stack(DEPICTIO_AUTH_MODE="public") as stack, client_for(stack) as client:
        for method, path in (("GET", f"{AUTH}/me"), ("GET", f"{ADMIN}/users")):
            response = client.request(method, path)
            assert response.status_code == 401, response.text
            assert "sign-in required" in response.json()["detail"]
        assert client.get("/healthz").status_code == 200
        assert client.get("/.well-known/jwks.json").status_code == 200
        token = login(client, stack.admin_email, stack.admin_password)["access_token"]
        assert client.get(f"{AUTH}/me", headers=bearer(token)).status_code == 200
