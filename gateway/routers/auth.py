"""/api/v1/auth: accounts, sessions and the caller's API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from gateway.identity import Auth, CurrentUser, Services, Source
from gateway.models import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenPublic,
    ErrorPublic,
    LoginCreate,
    LogoutCreate,
    RefreshCreate,
    TokenPairPublic,
    UserCreate,
    UserPublic,
)

UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorPublic, "description": "Missing or invalid token."}
}

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    responses={
        400: {"model": ErrorPublic, "description": "Invalid e-mail or weak password."},
        403: {"model": ErrorPublic, "description": "Registration is disabled."},
        409: {"model": ErrorPublic, "description": "The e-mail is taken."},
    },
)
async def register(body: UserCreate, services: Services) -> UserPublic:
    """Creates an account."""
    user = await services.auth().register(body.email, body.password.get_secret_value())
    return UserPublic.from_pb(user)


@router.post(
    "/login",
    response_model=TokenPairPublic,
    responses={
        401: {"model": ErrorPublic, "description": "Wrong e-mail or password."},
        403: {"model": ErrorPublic, "description": "The account is deactivated."},
    },
)
async def login(body: LoginCreate, services: Services) -> TokenPairPublic:
    """Opens a session: an access token and a single-use refresh token."""
    tokens = await services.auth().login(body.email, body.password.get_secret_value())
    return TokenPairPublic.from_pb(tokens)


@router.post("/refresh", response_model=TokenPairPublic, responses=UNAUTHORIZED)
async def refresh(body: RefreshCreate, services: Services) -> TokenPairPublic:
    """Exchanges a refresh token for a new pair; the one presented is spent."""
    tokens = await services.auth().refresh(body.refresh_token.get_secret_value())
    return TokenPairPublic.from_pb(tokens)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=UNAUTHORIZED,
)
async def logout(
    user: CurrentUser, services: Services, auth: Auth, body: LogoutCreate | None = None
) -> Response:
    """Ends the session of the given refresh token, or else of the calling access token."""
    refresh_token = body.refresh_token.get_secret_value() if body and body.refresh_token else ""
    await services.auth(user.access_token).logout(refresh_token)
    if user.source is Source.LOCAL_SESSION:
        auth.local_session.forget(user.access_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=UserPublic, responses=UNAUTHORIZED)
async def me(user: CurrentUser, services: Services) -> UserPublic:
    """The calling user."""
    return UserPublic.from_pb(await services.auth(user.access_token).get_me())


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiTokenCreated,
    responses=UNAUTHORIZED,
)
async def create_api_token(
    body: ApiTokenCreate, user: CurrentUser, services: Services
) -> ApiTokenCreated:
    """Creates an API token for the caller; its secret is shown in this response only."""
    created = await services.auth(user.access_token).create_api_token(
        body.name, body.expires_in_days or 0
    )
    return ApiTokenCreated.from_response(created)


@router.get("/tokens", response_model=list[ApiTokenPublic], responses=UNAUTHORIZED)
async def list_api_tokens(
    user: CurrentUser, services: Services, include_revoked: bool = False
) -> list[ApiTokenPublic]:
    """The caller's API tokens, newest first, without their secrets."""
    tokens = await services.auth(user.access_token).list_api_tokens(include_revoked)
    return [ApiTokenPublic.from_pb(token) for token in tokens]


@router.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={**UNAUTHORIZED, 404: {"model": ErrorPublic, "description": "No such token."}},
)
async def revoke_api_token(
    token_id: str, user: CurrentUser, services: Services, auth: Auth
) -> Response:
    """Revokes an API token; this gateway stops accepting it at once."""
    await services.auth(user.access_token).revoke_api_token(token_id)
    auth.api_tokens.evict_token(token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
