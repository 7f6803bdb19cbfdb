"""JWT verification against auth_svc's JSON Web Key Set (EdDSA only; algorithm pinned)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jwt
from jwt.algorithms import OKPAlgorithm

from depictio.errors import Unauthenticated

ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ["iss", "aud", "sub", "exp", "nbf", "iat", "jti", "typ"]
ACCESS = "access"
REFRESH = "refresh"

JwksFetcher = Callable[[], Awaitable[list[dict[str, str]]]]


@dataclass(frozen=True)
class Identity:
    """Who is calling: a verified user, or an anonymous visitor (public mode only)."""

    user_id: str
    email: str = ""
    is_admin: bool = False
    session_id: str = ""
    api_token_id: str = ""
    # Set on tokens auth_svc minted for a background task: the task's name.
    task_name: str = ""
    token: str = ""

    @property
    def anonymous(self) -> bool:
        """True for a caller without a token."""
        return not self.user_id

    @classmethod
    def from_claims(cls, claims: dict[str, Any], token: str) -> Identity:
        """The identity an access token's claims describe."""
        return cls(
            user_id=str(claims["sub"]),
            email=str(claims.get("email", "")),
            is_admin=bool(claims.get("adm", False)),
            session_id=str(claims.get("sid", "")),
            api_token_id=str(claims.get("tid", "")),
            task_name=str(claims.get("tsk", "")),
            token=token,
        )


ANONYMOUS = Identity(user_id="")


def public_key_from_jwk(jwk: dict[str, str]) -> Any:
    """An Ed25519 public key from its JWK; anything but OKP/Ed25519 is refused."""
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError(f"unsupported key type {jwk.get('kty')}/{jwk.get('crv')}")
    return OKPAlgorithm.from_jwk(jwk)


class KeySet:
    """Public keys by kid, fetched from a JWKS source and refetched when a kid is unknown."""

    def __init__(self, fetch: JwksFetcher, refresh_min_seconds: float = 5.0) -> None:
        self._fetch = fetch
        self._refresh_min = refresh_min_seconds
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _refresh(self) -> None:
        jwks = await self._fetch()
        self._keys = {k["kid"]: public_key_from_jwk(k) for k in jwks}
        self._fetched_at = time.monotonic()

    async def get(self, kid: str) -> Any | None:
        """The key for `kid`, refetching the set at most once per refresh interval."""
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._lock:
            key = self._keys.get(kid)
            if key is None and time.monotonic() - self._fetched_at >= self._refresh_min:
                await self._refresh()
                key = self._keys.get(kid)
        return key


class TokenVerifier:
    """Checks signature, algorithm, issuer, audience, times and token type of a JWT."""

    def __init__(self, keys: KeySet, issuer: str, audience: str, leeway_seconds: int) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds

    async def verify(self, token: str, expected_type: str = ACCESS) -> dict[str, Any]:
        """The claims of a valid token of `expected_type`; raises Unauthenticated otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated("malformed token") from exc
        if header.get("alg") != ALGORITHM:
            raise Unauthenticated(f"token algorithm must be {ALGORITHM}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("token has no key id")
        key = await self._keys.get(kid)
        if key is None:
            raise Unauthenticated("token signed with an unknown key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("token expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise Unauthenticated("token not valid yet") from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthenticated("token audience is wrong") from exc
        except jwt.InvalidIssuerError as exc:
            raise Unauthenticated("token issuer is wrong") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"token lacks the {exc.claim} claim") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("token signature is invalid") from exc
        if claims.get("typ") != expected_type:
            raise Unauthenticated(f"token type must be {expected_type!r}")
        return claims
