"""Forged and misused tokens are refused at the gateway with 401, before any service call.

The stack under test signs with an Ed25519 key this module generated and handed to auth_svc
(DEPICTIO_SIGNING_KEY_FILE), so tokens that are wrong in exactly one respect — expired, not
yet valid, wrong audience, wrong issuer, missing a claim — can be minted with the real key,
end to end, with no fake verifier. A control test shows that a token minted the same way but
correct in every respect is accepted, so each refusal is caused by the defect under test.

"Before any service call" is checked through the logs: auth_svc logs one line per RPC with its
request id, so the X-Request-ID sent with a refused request must appear in no service's log
(the gateway's own JWKS refetch for an unknown kid is made with a request id of its own).
A service writes that line just after sending a failed RPC's status, so the logs are read
only once a later request has been logged by auth_svc.
A revoked API token is the exception: only auth_svc knows it is revoked, so the gateway must
ask it (ExchangeApiToken) — and nothing else.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .gateway_client import (
    AUTH,
    SERVICE_NAMES,
    MakeStack,
    StackLike,
    bearer,
    client_for,
    login,
    new_request_id,
    sign_up,
)

pytestmark = pytest.mark.timeout(120)

AUTH_SERVICE = "/depictio.v1.AuthService"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Keyed:
    """A stack signing with `key`, and a genuine session of its admin."""

    stack: StackLike
    client: httpx.Client
    key: Ed25519PrivateKey
    kid: str
    jwk_x: str
    access_token: str
    refresh_token: str
    claims: dict[str, Any]

    def sign(self, key: Ed25519PrivateKey | None = None, kid: str = "", **changes: Any) -> str:
        """The genuine claims with `changes` (None removes a claim), signed with the stack key."""
        claims = {**self.claims, "jti": uuid.uuid4().hex, **changes}
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode(
            claims, key or self.key, algorithm="EdDSA", headers={"kid": kid or self.kid}
        )


@pytest.fixture(scope="module")
def keyed(make_stack: MakeStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keyed]:
    key = Ed25519PrivateKey.generate()
    key_file = Path(tmp_path_factory.mktemp("signing-key")) / "ed25519.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with make_stack(DEPICTIO_SIGNING_KEY_FILE=str(key_file)) as stack, client_for(stack) as client:
        jwks = client.get("/.well-known/jwks.json").json()["keys"]
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        assert [k["x"] for k in jwks] == [b64url(raw)], "auth_svc must publish the test's key"
        tokens = login(client, stack.admin_email, stack.admin_password)
        yield Keyed(
            stack=stack,
            client=client,
            key=key,
            kid=jwks[0]["kid"],
            jwk_x=jwks[0]["x"],
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            claims=jwt.decode(tokens["access_token"], options={"verify_signature": False}),
        )


def alg_none(k: Keyed) -> str:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": k.kid}).encode())
    payload = b64url(json.dumps(k.claims).encode())
    return f"{header}.{payload}."


def hs256_with_public_key(k: Keyed) -> str:
    return jwt.encode(k.claims, k.jwk_x, algorithm="HS256", headers={"kid": k.kid})


def expired(k: Keyed) -> str:
    now = int(time.time())
    return k.sign(iat=now - 7200, nbf=now - 7200, exp=now - 3600)


def not_yet_valid(k: Keyed) -> str:
    now = int(time.time())
    return k.sign(iat=now, nbf=now + 3600, exp=now + 7200)


def wrong_audience(k: Keyed) -> str:
    return k.sign(aud="another-service")


def wrong_issuer(k: Keyed) -> str:
    return k.sign(iss="https://issuer.example.org")


def missing_typ(k: Keyed) -> str:
    return k.sign(typ=None)


def unknown_kid(k: Keyed) -> str:
    return k.sign(key=Ed25519PrivateKey.generate(), kid=f"unknown-{uuid.uuid4().hex}")


def known_kid_foreign_key(k: Keyed) -> str:
    return k.sign(key=Ed25519PrivateKey.generate())


def tampered_sub(k: Keyed) -> str:
    header, _, signature = k.access_token.split(".")
    payload = b64url(json.dumps({**k.claims, "sub": uuid.uuid4().hex}).encode())
    return f"{header}.{payload}.{signature}"


def refresh_as_access(k: Keyed) -> str:
    return k.refresh_token


FORGERIES: dict[str, tuple[Callable[[Keyed], str], str]] = {
    "alg-none": (alg_none, "token algorithm must be EdDSA"),
    "hs256-with-public-key": (hs256_with_public_key, "token algorithm must be EdDSA"),
    "expired": (expired, "token expired"),
    "nbf-in-future": (not_yet_valid, "token not valid yet"),
    "wrong-aud": (wrong_audience, "token audience is wrong"),
    "wrong-iss": (wrong_issuer, "token issuer is wrong"),
    "missing-typ": (missing_typ, "token lacks the typ claim"),
    "unknown-kid": (unknown_kid, "token signed with an unknown key"),
    "known-kid-foreign-key": (known_kid_foreign_key, "token signature is invalid"),
    "tampered-sub": (tampered_sub, "token signature is invalid"),
    "refresh-as-access": (refresh_as_access, "token type must be 'access'"),
}


def services_logging(keyed: Keyed, request_id: str) -> dict[str, list[str]]:
    """The RPCs each service logged for `request_id`, read after a later request was logged."""
    barrier = new_request_id("barrier")
    response = keyed.client.get(
        f"{AUTH}/me", headers={**bearer(keyed.access_token), "X-Request-ID": barrier}
    )
    assert response.status_code == 200, response.text
    assert barrier in keyed.stack.log_text("auth_svc")
    found: dict[str, list[str]] = {}
    for name in SERVICE_NAMES:
        lines = [line for line in keyed.stack.log_text(name).splitlines() if request_id in line]
        if lines:
            found[name] = [json.loads(line)["method"] for line in lines]
    return found


def test_a_correct_token_signed_with_the_stack_key_is_accepted(keyed: Keyed) -> None:
    request_id = new_request_id("control")
    response = keyed.client.get(
        f"{AUTH}/me", headers={**bearer(keyed.sign()), "X-Request-ID": request_id}
    )
    assert response.status_code == 200, response.text
    assert response.json()["email"] == keyed.stack.admin_email
    assert services_logging(keyed, request_id) == {"auth_svc": [f"{AUTH_SERVICE}/GetMe"]}


@pytest.mark.parametrize("case", list(FORGERIES))
def test_forged_token_is_refused_at_the_edge(keyed: Keyed, case: str) -> None:
    forge, message = FORGERIES[case]
    request_id = new_request_id(case)
    response = keyed.client.get(
        f"{AUTH}/me", headers={**bearer(forge(keyed)), "X-Request-ID": request_id}
    )
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert message in response.json()["detail"]
    assert response.headers["X-Request-ID"] == request_id
    assert request_id in keyed.stack.log_text("gateway")
    assert services_logging(keyed, request_id) == {}, "no service may see the request"


def test_revoked_api_token_is_refused_by_the_exchange_alone(keyed: Keyed) -> None:
    account = sign_up(keyed.client, "revoked")
    created = keyed.client.post(
        f"{AUTH}/tokens", headers=bearer(account.access_token), json={"name": "to revoke"}
    ).json()
    assert keyed.client.get(f"{AUTH}/me", headers=bearer(created["secret"])).status_code == 200
    revoke = keyed.client.delete(
        f"{AUTH}/tokens/{created['id']}", headers=bearer(account.access_token)
    )
    assert revoke.status_code == 204

    request_id = new_request_id("revoked-api-token")
    response = keyed.client.get(
        f"{AUTH}/me", headers={**bearer(created["secret"]), "X-Request-ID": request_id}
    )
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "revoked" in response.json()["detail"]
    assert services_logging(keyed, request_id) == {"auth_svc": [f"{AUTH_SERVICE}/ExchangeApiToken"]}


def test_unknown_api_token_secret_is_refused(keyed: Keyed) -> None:
    response = keyed.client.get(f"{AUTH}/me", headers=bearer(f"dpt_{uuid.uuid4().hex}"))
    assert response.status_code == 401, response.text
