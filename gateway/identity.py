"""Who is calling: bearer tokens verified at the edge, before any service is called.

A bearer value is an access token (an EdDSA JWT verified against auth_svc's JWKS) or an API
token secret (`dpt_…`, exchanged at auth_svc for an access token, cached briefly). Without a
token the caller is the local admin (single-user mode), anonymous (public mode) or refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from depictio.config import AuthMode, Settings
from depictio.errors import PermissionDenied, Unauthenticated
from depictio.local_session import LocalSession
from depictio.tokens import KeySet, TokenVerifier
from gateway.backends import Backends
from gateway.token_cache import ApiTokenCache

API_TOKEN_PREFIX = "dpt_"

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="An access token from /api/v1/auth/login, or an API token secret (dpt_…).",
)


class Source(StrEnum):
    """How the caller's access token was obtained."""

    ACCESS_TOKEN = "access_token"
    API_TOKEN = "api_token"
    LOCAL_SESSION = "local_session"
    NONE = "none"


@dataclass(frozen=True)
class Principal:
    """The caller of a request, with the access token to forward to the services."""

    user_id: str
    is_admin: bool = False
    email: str = ""
    access_token: str = field(default="", repr=False)
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False)
    source: Source = Source.NONE

    @property
    def anonymous(self) -> bool:
        """True for a caller without a token (public mode)."""
        return not self.user_id

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], token: str, source: Source) -> Principal:
        """The principal a verified access token describes."""
        return cls(
            user_id=str(claims["sub"]),
            is_admin=bool(claims.get("adm", False)),
            email=str(claims.get("email", "")),
            access_token=token,
            claims=claims,
            source=source,
        )


ANONYMOUS = Principal(user_id="")


class Authenticator:
    """Turns an Authorization header into a Principal."""

    def __init__(self, settings: Settings, backends: Backends) -> None:
        self.mode = settings.auth_mode
        self.backends = backends
        self.verifier = TokenVerifier(
            KeySet(backends.fetch_jwks, settings.jwks_refresh_min_seconds),
            settings.jwt_issuer,
            settings.jwt_audience,
            settings.jwt_leeway_seconds,
        )
        self.api_tokens = ApiTokenCache(settings.api_token_cache_seconds)
        self.local_session = LocalSession(self._start_local_session)

    async def _start_local_session(self) -> tuple[str, float]:
        tokens = await self.backends.auth().start_local_session()
        return tokens.access_token, float(tokens.expires_in)

    async def principal(self, credentials: HTTPAuthorizationCredentials | None) -> Principal:
        """The caller named by the bearer credentials (None when no Authorization was sent)."""
        if credentials is None:
            if self.mode is AuthMode.SINGLE_USER:
                token = await self.local_session.access_token()
                return await self._verified(token, Source.LOCAL_SESSION)
            if self.mode is AuthMode.PUBLIC:
                return ANONYMOUS
            raise Unauthenticated("sign-in required: send 'Authorization: Bearer <token>'")
        value = credentials.credentials.strip()
        if value.startswith(API_TOKEN_PREFIX):
            return await self._api_token_principal(value)
        return await self._verified(value, Source.ACCESS_TOKEN)

    async def _verified(self, token: str, source: Source) -> Principal:
        claims = await self.verifier.verify(token)
        return Principal.from_claims(claims, token, source)

    async def _api_token_principal(self, secret: str) -> Principal:
        cached = self.api_tokens.get(secret)
        if cached is not None:
            return await self._verified(cached.access_token, Source.API_TOKEN)
        exchanged = await self.backends.auth().exchange_api_token(secret)
        principal = await self._verified(exchanged.access_token, Source.API_TOKEN)
        self.api_tokens.put(
            secret,
            exchanged.access_token,
            exchanged.token_id,
            principal.user_id,
            float(exchanged.expires_in),
        )
        return principal


def authenticator_of(request: Request) -> Authenticator:
    """The app's Authenticator."""
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


def backends_of(request: Request) -> Backends:
    """The app's service clients."""
    backends: Backends = request.app.state.backends
    return backends


Auth = Annotated[Authenticator, Depends(authenticator_of)]
Services = Annotated[Backends, Depends(backends_of)]


async def current_principal(
    request: Request,
    authenticator: Auth,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> Principal:
    """The caller, possibly anonymous (public mode); a bad token is refused with 401."""
    if credentials is None and "authorization" in request.headers:
        raise Unauthenticated("Authorization must be 'Bearer <token>'")
    principal = await authenticator.principal(credentials)
    request.state.user_id = principal.user_id
    return principal


async def current_user(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """The signed-in caller; anonymous callers are refused with 401."""
    if principal.anonymous:
        raise Unauthenticated("sign-in required: send 'Authorization: Bearer <token>'")
    return principal


async def current_admin(principal: Annotated[Principal, Depends(current_user)]) -> Principal:
    """A signed-in admin (per the token's claim; auth_svc checks again); others get 403."""
    if not principal.is_admin:
        raise PermissionDenied("admin role required")
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]
AdminUser = Annotated[Principal, Depends(current_admin)]
