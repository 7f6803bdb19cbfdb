"""Request and response bodies of the REST API: XCreate/XUpdate inputs, XPublic outputs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from depictio.v1 import auth_pb2

# The largest number an int64 field of the services' messages holds: a path or query number
# above it is refused as invalid input (it failed the call's encoding: a 500).
INT64_MAX = 2**63 - 1


def from_timestamp(stamp: Timestamp, present: bool) -> datetime | None:
    """The aware UTC datetime of a protobuf Timestamp field, None when it is unset."""
    if not present:
        return None
    return stamp.ToDatetime(tzinfo=UTC)


class Input(BaseModel):
    """Base of request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class ErrorPublic(BaseModel):
    """Every error response."""

    detail: str = Field(description="What went wrong, for a person to read.")


# accounts and sessions


class UserCreate(Input):
    """Register: a new account."""

    email: str = Field(min_length=3, max_length=254, description="Sign-in e-mail.")
    password: SecretStr = Field(min_length=1, description="At least 8 characters.")


class LoginCreate(Input):
    """Login: opens a session."""

    email: str = Field(min_length=1, max_length=254, description="Sign-in e-mail.")
    password: SecretStr = Field(min_length=1, description="The account's password.")


class RefreshCreate(Input):
    """Refresh: renews a session's tokens."""

    refresh_token: SecretStr = Field(min_length=1, description="The current refresh token.")


class LogoutCreate(Input):
    """Logout: ends a session."""

    refresh_token: SecretStr | None = Field(
        None, description="The session's refresh token; default: the calling token's session."
    )


class UserPublic(BaseModel):
    """A user account."""

    id: str
    email: str
    is_admin: bool
    is_active: bool
    created_at: datetime | None
    last_login_at: datetime | None = None

    @classmethod
    def from_pb(cls, user: auth_pb2.User) -> UserPublic:
        return cls(
            id=user.id,
            email=user.email,
            is_admin=user.is_admin,
            is_active=user.is_active,
            created_at=from_timestamp(user.created_at, user.HasField("created_at")),
            last_login_at=from_timestamp(user.last_login_at, user.HasField("last_login_at")),
        )


class TokenPairPublic(BaseModel):
    """A session's tokens."""

    access_token: str = Field(description="Send as 'Authorization: Bearer <access_token>'.")
    refresh_token: str = Field(description="Single use: exchange at /api/v1/auth/refresh.")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_expires_in: int = Field(description="Seconds until the refresh token expires.")

    @classmethod
    def from_pb(cls, tokens: auth_pb2.TokenPair) -> TokenPairPublic:
        return cls(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_in=tokens.expires_in,
            refresh_expires_in=tokens.refresh_expires_in,
        )


# API tokens


class ApiTokenCreate(Input):
    """A new API token."""

    name: str = Field(min_length=1, max_length=100, description="A name to recognise it by.")
    expires_in_days: int | None = Field(
        None, ge=1, le=3650, description="Lifetime in days; omitted means no expiry."
    )


def _api_token_fields(token: auth_pb2.ApiToken) -> dict[str, object]:
    return {
        "id": token.id,
        "name": token.name,
        "created_at": from_timestamp(token.created_at, token.HasField("created_at")),
        "expires_at": from_timestamp(token.expires_at, token.HasField("expires_at")),
        "last_used_at": from_timestamp(token.last_used_at, token.HasField("last_used_at")),
        "revoked": token.revoked,
    }


class ApiTokenPublic(BaseModel):
    """An API token's description (never its secret)."""

    id: str
    name: str
    created_at: datetime | None
    expires_at: datetime | None
    last_used_at: datetime | None = None
    revoked: bool = False

    @classmethod
    def from_pb(cls, token: auth_pb2.ApiToken) -> ApiTokenPublic:
        return cls.model_validate(_api_token_fields(token))


class ApiTokenCreated(ApiTokenPublic):
    """A new API token with its secret, shown this once."""

    secret: str = Field(description="Send as 'Authorization: Bearer <secret>'. Shown once.")

    @classmethod
    def from_response(cls, response: auth_pb2.CreateApiTokenResponse) -> ApiTokenCreated:
        return cls.model_validate({**_api_token_fields(response.token), "secret": response.secret})


# admin


class UserUpdate(Input):
    """Admin changes to an account; omitted fields stay as they are."""

    is_admin: bool | None = Field(None, description="Promote (true) or demote (false).")
    is_active: bool | None = Field(None, description="Reactivate (true) or deactivate (false).")


class UsersPage(BaseModel):
    """One page of users."""

    items: list[UserPublic]
    next_page_token: str | None = Field(description="Pass as page_token for the next page.")
    total: int = Field(description="Users across all pages.")


# system


class JsonWebKeyPublic(BaseModel):
    """One public signing key (RFC 8037, Ed25519)."""

    kty: str
    crv: str
    x: str
    kid: str
    alg: str
    use: str


class JwksPublic(BaseModel):
    """The JSON Web Key Set that verifies access tokens."""

    keys: list[JsonWebKeyPublic]


class ServiceHealth(BaseModel):
    """One service's health."""

    status: str = Field(description="SERVING, NOT_SERVING, UNAVAILABLE, …")
    address: str


class HealthPublic(BaseModel):
    """The health of the gateway's services."""

    status: Literal["ok", "degraded"]
    services: dict[str, ServiceHealth]
