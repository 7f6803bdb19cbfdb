"""Minting of access and refresh tokens, and of API token secrets."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from auth_svc.keys import SigningKey
from auth_svc.store import Doc, now
from depictio.config import Settings
from depictio.tokens import ACCESS, REFRESH

API_TOKEN_PREFIX = "dpt_"


def hash_secret(secret: str) -> str:
    """SHA-256 of an API token secret (secrets are random, so no salt or stretching is needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_token_secret(token_id: str) -> str:
    """A fresh secret: the prefix, the token id (for recognising it) and 256 random bits."""
    return f"{API_TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"


@dataclass(frozen=True)
class MintedRefresh:
    """A refresh token and its stored record."""

    token: str
    record: Doc


class TokenIssuer:
    """Signs access and refresh tokens with the service's key."""

    def __init__(self, key: SigningKey, settings: Settings) -> None:
        self.key = key
        self.settings = settings

    def _claims(
        self, user: Doc, token_type: str, lifetime: int, issued: datetime
    ) -> dict[str, Any]:
        return {
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "sub": user["_id"],
            "iat": issued,
            "nbf": issued,
            "exp": issued + timedelta(seconds=lifetime),
            "jti": uuid.uuid4().hex,
            "typ": token_type,
        }

    def access_token(self, user: Doc, session_id: str = "", api_token_id: str = "") -> str:
        """An access token for the user, tied to a session or to an API token."""
        claims = self._claims(user, ACCESS, self.settings.access_token_ttl_seconds, now())
        claims["email"] = user["email"]
        claims["adm"] = bool(user.get("is_admin"))
        if session_id:
            claims["sid"] = session_id
        if api_token_id:
            claims["tid"] = api_token_id
        return self.key.sign(claims)

    def task_token(self, user: Doc, task_name: str, session_id: str, api_token_id: str) -> str:
        """A short-lived access token for a background task acting for the user.

        It keeps the caller's session or API token, so that revoking those revokes it too.
        """
        claims = self._claims(user, ACCESS, self.settings.task_token_ttl_seconds, now())
        claims["email"] = user["email"]
        claims["adm"] = bool(user.get("is_admin"))
        claims["tsk"] = task_name
        if session_id:
            claims["sid"] = session_id
        if api_token_id:
            claims["tid"] = api_token_id
        return self.key.sign(claims)

    def refresh_token(self, user: Doc, session_id: str) -> MintedRefresh:
        """A refresh token of the session's family, with the record to store."""
        issued = now()
        lifetime = self.settings.refresh_token_ttl_seconds
        claims = self._claims(user, REFRESH, lifetime, issued)
        claims["sid"] = session_id
        record = {
            "_id": claims["jti"],
            "family_id": session_id,
            "user_id": user["_id"],
            "issued_at": issued,
            "expires_at": claims["exp"],
            "rotated_at": None,
        }
        return MintedRefresh(token=self.key.sign(claims), record=record)
