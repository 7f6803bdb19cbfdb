"""/healthz reports each service; a dead service turns into a clear 503, and recovers."""

from __future__ import annotations

import time

import httpx
import pytest

from .gateway_client import AUTH, SERVICE_NAMES, MakeStack, bearer, login, new_request_id

pytestmark = pytest.mark.timeout(120)


def test_healthz_and_dead_services(make_stack: MakeStack) -> None:
    with make_stack() as stack, httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
        healthy = client.get("/healthz")
        assert healthy.status_code == 200, healthy.text
        body = healthy.json()
        assert body["status"] == "ok"
        statuses = {name: s["status"] for name, s in body["services"].items()}
        assert statuses == dict.fromkeys(SERVICE_NAMES, "SERVING")
        assert body["services"]["auth_svc"]["address"] == stack.auth_addr
        token = login(client, stack.admin_email, stack.admin_password)["access_token"]

        stack.group.kill("metadata_svc")
        degraded = client.get("/healthz")
        assert degraded.status_code == 503, degraded.text
        assert degraded.json()["status"] == "degraded"
        statuses = {name: s["status"] for name, s in degraded.json()["services"].items()}
        assert statuses == {
            "auth_svc": "SERVING",
            "metadata_svc": "UNAVAILABLE",
            "data_svc": "SERVING",
        }

        stack.group.kill("auth_svc")
        unavailable = f"auth service unavailable at {stack.auth_addr}"
        request_id = new_request_id("auth-down")
        refused = client.post(
            f"{AUTH}/login",
            json={"email": stack.admin_email, "password": stack.admin_password},
            headers={"X-Request-ID": request_id},
        )
        assert refused.status_code == 503, refused.text
        assert refused.json() == {"detail": unavailable}
        assert refused.headers["X-Request-ID"] == request_id
        # A valid token still passes the edge (keys are cached); the call behind it fails.
        me = client.get(f"{AUTH}/me", headers=bearer(token))
        assert (me.status_code, me.json()) == (503, {"detail": unavailable})
        jwks = client.get("/.well-known/jwks.json")
        assert (jwks.status_code, jwks.json()) == (503, {"detail": unavailable})

        stack.group.start("auth_svc")
        # The gateway's channel reconnects with backoff (at most 2 s between attempts).
        deadline = time.monotonic() + 10
        while (me := client.get(f"{AUTH}/me", headers=bearer(token))).status_code == 503:
            assert time.monotonic() < deadline, "the gateway did not reconnect to auth_svc"
            time.sleep(0.2)
        assert me.status_code == 200, me.text
        assert login(client, stack.admin_email, stack.admin_password)["access_token"]
