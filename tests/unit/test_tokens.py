"""TokenVerifier: each malformed or forged token is refused for the right reason."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from auth_svc.keys import SigningKey
from depictio.errors import Unauthenticated
from depictio.tokens import KeySet, TokenVerifier

ISSUER, AUDIENCE = "depictio-test", "depictio-test-aud"


def claims(**overrides: Any) -> dict[str, Any]:
    moment = int(time.time())
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "iat": moment,
        "nbf": moment,
        "exp": moment + 600,
        "jti": "j1",
        "typ": "access",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.from_private_key(Ed25519PrivateKey.generate())


class CountingJwks:
    """A JWKS source that counts its fetches."""

    def __init__(self, key: SigningKey) -> None:
        self.key = key
        self.fetches = 0

    async def __call__(self) -> list[dict[str, str]]:
        self.fetches += 1
        return [self.key.jwk()]


def verify(key: SigningKey, token: str, expected: str = "access") -> dict[str, Any]:
    verifier = TokenVerifier(KeySet(CountingJwks(key)), ISSUER, AUDIENCE, leeway_seconds=0)
    return asyncio.run(verifier.verify(token, expected))


def unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


def test_valid_token_is_accepted(key: SigningKey) -> None:
    assert verify(key, key.sign(claims()))["sub"] == "user-1"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": -5}, "expired"),
        ({"nbf": 300}, "not valid yet"),
        ({"aud": "someone-else"}, "audience"),
        ({"iss": "someone-else"}, "issuer"),
        ({"typ": "refresh"}, "token type must be 'access'"),
        ({"jti": None}, "jti"),
        ({"typ": None}, "typ"),
    ],
)
def test_claim_problems_are_refused(
    key: SigningKey, overrides: dict[str, Any], reason: str
) -> None:
    # exp and nbf are given relative to now: the test may run minutes after collection.
    now = int(time.time())
    claimed = {k: now + v if k in ("exp", "nbf") else v for k, v in overrides.items()}
    with pytest.raises(Unauthenticated, match=reason):
        verify(key, key.sign(claims(**claimed)))


def test_alg_none_is_refused(key: SigningKey) -> None:
    token = unsigned({"alg": "none", "typ": "JWT", "kid": key.kid}, claims())
    with pytest.raises(Unauthenticated, match="algorithm"):
        verify(key, token)


def test_hs256_signed_with_the_public_key_is_refused(key: SigningKey) -> None:
    token = jwt.encode(claims(), key.jwk()["x"], algorithm="HS256", headers={"kid": key.kid})
    with pytest.raises(Unauthenticated, match="algorithm"):
        verify(key, token)


def test_unknown_kid_refetches_once_then_refuses(key: SigningKey) -> None:
    stranger = SigningKey.from_private_key(Ed25519PrivateKey.generate())
    source = CountingJwks(key)
    verifier = TokenVerifier(KeySet(source, 60.0), ISSUER, AUDIENCE, 0)

    async def run() -> None:
        await verifier.verify(key.sign(claims()))
        for _ in range(3):
            with pytest.raises(Unauthenticated, match="unknown key"):
                await verifier.verify(stranger.sign(claims()))

    asyncio.run(run())
    assert source.fetches == 1  # refetches are rate-limited


def test_tampered_payload_is_refused(key: SigningKey) -> None:
    header, _, signature = key.sign(claims()).split(".")
    forged_payload = unsigned({}, claims(sub="admin")).split(".")[1]
    with pytest.raises(Unauthenticated, match="signature"):
        verify(key, f"{header}.{forged_payload}.{signature}")


def test_garbage_is_refused(key: SigningKey) -> None:
    with pytest.raises(Unauthenticated, match="malformed"):
        verify(key, "not-a-jwt")
