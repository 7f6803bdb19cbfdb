"""/api/v1/admin: user administration, for admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from gateway.identity import AdminUser, Auth, Services
from gateway.models import ErrorPublic, UserPublic, UsersPage, UserUpdate

router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin"],
    responses={
        401: {"model": ErrorPublic, "description": "Missing or invalid token."},
        403: {"model": ErrorPublic, "description": "The caller is not an admin."},
    },
)


@router.get("/users", response_model=UsersPage)
async def list_users(
    admin: AdminUser,
    services: Services,
    page_size: Annotated[int, Query(ge=0, le=500, description="0: the default (50).")] = 0,
    page_token: Annotated[str, Query(max_length=200, description="From next_page_token.")] = "",
) -> UsersPage:
    """Users in order of creation, one page at a time."""
    response = await services.auth(admin.access_token).list_users(page_size, page_token)
    return UsersPage(
        items=[UserPublic.from_pb(user) for user in response.users],
        next_page_token=response.page.next_page_token or None,
        total=response.page.total_size,
    )


@router.get(
    "/users/{user_id}",
    response_model=UserPublic,
    responses={404: {"model": ErrorPublic, "description": "No such user."}},
)
async def get_user(user_id: str, admin: AdminUser, services: Services) -> UserPublic:
    """One user."""
    return UserPublic.from_pb(await services.auth(admin.access_token).get_user(user_id))


@router.patch(
    "/users/{user_id}",
    response_model=UserPublic,
    responses={
        404: {"model": ErrorPublic, "description": "No such user."},
        409: {"model": ErrorPublic, "description": "The last admin cannot be demoted."},
    },
)
async def update_user(
    user_id: str, body: UserUpdate, admin: AdminUser, services: Services, auth: Auth
) -> UserPublic:
    """Promotes, demotes, deactivates or reactivates a user."""
    user = await services.auth(admin.access_token).update_user(
        user_id, is_admin=body.is_admin, is_active=body.is_active
    )
    # Tokens exchanged for this user carry the old role and state: exchange them anew.
    auth.api_tokens.evict_user(user_id)
    return UserPublic.from_pb(user)
