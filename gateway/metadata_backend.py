"""The gateway's client of metadata_svc, and the caller dependencies of its routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query

from depictio.clients.metadata import ActionName, MetadataClient
from depictio.errors import PermissionDenied
from gateway.backends import LabelledCalls
from gateway.identity import Principal, current_principal
from gateway.models import ErrorPublic


class GatewayMetadataClient(LabelledCalls, MetadataClient):
    """MetadataClient whose errors say "metadata service … at <address>"."""

    service_label = "metadata"


def metadata_as(services: Any, principal: Principal) -> GatewayMetadataClient:
    """A client of metadata_svc acting as `principal` (anonymous: no token)."""
    settings = services.settings
    return GatewayMetadataClient(
        settings.metadata_addr,
        token=principal.access_token,
        timeout=settings.rpc_timeout_seconds,
    )


# The caller of a read route: signed in, or anonymous in public mode (metadata_svc then lets
# anonymous callers read public projects only).
Caller = Annotated[Principal, Depends(current_principal)]
PageSize = Annotated[int, Query(ge=0, le=500, description="0: the default (50).")]
PageToken = Annotated[str, Query(max_length=200, description="From next_page_token.")]

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorPublic, "description": "Invalid input; the detail names the field."},
    401: {"model": ErrorPublic, "description": "Sign-in required."},
    403: {"model": ErrorPublic, "description": "Your role does not allow this."},
    404: {"model": ErrorPublic, "description": "No such project or dashboard."},
    409: {"model": ErrorPublic, "description": "Conflicts with the current state."},
}


async def require_access(
    services: Any, user: Principal, action: ActionName, *, project_id: str = "", dc: str = ""
) -> None:
    """Refuses (403) a caller who may not `action` the project or data collection."""
    metadata = metadata_as(services, user)
    decision = await metadata.check_access(action, project_id=project_id, data_collection_id=dc)
    if not decision.allowed:
        raise PermissionDenied(decision.reason or f"your role does not allow '{action}'")
