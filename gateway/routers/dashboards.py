"""/api/v1/dashboards: dashboards, their versions, copies, YAML export and import.

metadata_svc validates documents (schema, then the live data collections) and decides access.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import PlainTextResponse

from depictio.dashboards.models import yaml_json_schema
from depictio.errors import InvalidArgument
from gateway.dashboard_models import (
    DashboardCreate,
    DashboardDuplicate,
    DashboardPublic,
    DashboardUpdate,
    DashboardVersionPublic,
)
from gateway.identity import CurrentUser, Services
from gateway.metadata_backend import ERRORS, Caller, PageSize, PageToken, metadata_as
from gateway.models import INT64_MAX
from gateway.project_models import Page

router = APIRouter(prefix="/api/v1/dashboards", tags=["dashboards"], responses=ERRORS)
DashboardVersionNumber = Annotated[int, Path(ge=1, le=INT64_MAX, description="Version, from 1.")]

YAML_BODY = {
    "requestBody": {
        "required": True,
        "description": "A dashboard exported by GET /api/v1/dashboards/{id}/yaml.",
        "content": {"application/yaml": {"schema": {"type": "string"}}},
    }
}


def document_text(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


@router.get("/schema", response_model=dict[str, Any])
async def dashboard_schema() -> dict[str, Any]:
    """The JSON Schema of the dashboard YAML format (no sign-in needed)."""
    return yaml_json_schema()


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DashboardPublic)
async def create_dashboard(
    body: DashboardCreate, user: CurrentUser, services: Services
) -> DashboardPublic:
    """Creates a dashboard in a project (editors)."""
    dashboard = await metadata_as(services, user).create_dashboard(
        body.project_id, document_text(body.document)
    )
    return DashboardPublic.from_pb(dashboard)


@router.get("", response_model=Page[DashboardPublic])
async def list_dashboards(
    caller: Caller,
    services: Services,
    project_id: Annotated[str, Query(max_length=64, description="Only this project's.")] = "",
    page_size: PageSize = 0,
    page_token: PageToken = "",
) -> Page[DashboardPublic]:
    """The dashboards the caller can read, of one project or of all."""
    answer = await metadata_as(services, caller).list_dashboards(project_id, page_size, page_token)
    return Page[DashboardPublic].of(
        [DashboardPublic.from_pb(d) for d in answer.dashboards], answer.page
    )


@router.post(
    "/import",
    status_code=status.HTTP_201_CREATED,
    response_model=DashboardPublic,
    openapi_extra=YAML_BODY,
)
async def import_dashboard(
    request: Request,
    user: CurrentUser,
    services: Services,
    project_id: Annotated[str, Query(max_length=64, description="Default: the YAML's.")] = "",
) -> DashboardPublic:
    """Creates a dashboard from YAML, checked against the format, then against the project's
    data collections (unknown workflows, tags or columns are refused with their path)."""
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArgument("body: not UTF-8 text") from exc
    dashboard = await metadata_as(services, user).import_dashboard_yaml(text, project_id)
    return DashboardPublic.from_pb(dashboard)


@router.get("/{dashboard_id}", response_model=DashboardPublic)
async def get_dashboard(dashboard_id: str, caller: Caller, services: Services) -> DashboardPublic:
    """One dashboard, current version."""
    return DashboardPublic.from_pb(await metadata_as(services, caller).get_dashboard(dashboard_id))


@router.put("/{dashboard_id}", response_model=DashboardPublic)
async def update_dashboard(
    dashboard_id: str, body: DashboardUpdate, user: CurrentUser, services: Services
) -> DashboardPublic:
    """Saves a dashboard as a new version (editors)."""
    dashboard = await metadata_as(services, user).update_dashboard(
        dashboard_id, document_text(body.document), body.expected_version or 0
    )
    return DashboardPublic.from_pb(dashboard)


@router.delete("/{dashboard_id}", status_code=status.HTTP_204_NO_CONTENT, response_model=None)
async def delete_dashboard(dashboard_id: str, user: CurrentUser, services: Services) -> None:
    """Deletes a dashboard with its tabs and versions (editors)."""
    await metadata_as(services, user).delete_dashboard(dashboard_id)


@router.get("/{dashboard_id}/versions", response_model=Page[DashboardVersionPublic])
async def list_versions(
    dashboard_id: str, caller: Caller, services: Services
) -> Page[DashboardVersionPublic]:
    """Saved versions, newest first."""
    versions = await metadata_as(services, caller).list_dashboard_versions(dashboard_id)
    items = [DashboardVersionPublic.from_pb(v) for v in versions]
    return Page[DashboardVersionPublic].of(items)


@router.get("/{dashboard_id}/versions/{version}", response_model=DashboardPublic)
async def get_version(
    dashboard_id: str, version: DashboardVersionNumber, caller: Caller, services: Services
) -> DashboardPublic:
    """The dashboard as saved at one version."""
    dashboard = await metadata_as(services, caller).get_dashboard_version(dashboard_id, version)
    return DashboardPublic.from_pb(dashboard)


@router.post("/{dashboard_id}/versions/{version}/restore", response_model=DashboardPublic)
async def restore_version(
    dashboard_id: str, version: DashboardVersionNumber, user: CurrentUser, services: Services
) -> DashboardPublic:
    """Makes a saved version current, as a new version (editors)."""
    client = metadata_as(services, user)
    return DashboardPublic.from_pb(await client.restore_dashboard_version(dashboard_id, version))


@router.post(
    "/{dashboard_id}/duplicate", status_code=status.HTTP_201_CREATED, response_model=DashboardPublic
)
async def duplicate_dashboard(
    dashboard_id: str, user: CurrentUser, services: Services, body: DashboardDuplicate | None = None
) -> DashboardPublic:
    """Copies a dashboard into its project (editors of the project); the body is optional."""
    title = body.title if body is not None else None
    copy = await metadata_as(services, user).duplicate_dashboard(dashboard_id, title or "")
    return DashboardPublic.from_pb(copy)


@router.get("/{dashboard_id}/yaml", response_model=str, response_class=PlainTextResponse)
async def export_dashboard(dashboard_id: str, caller: Caller, services: Services) -> str:
    """The dashboard as YAML, ready for POST /api/v1/dashboards/import."""
    return await metadata_as(services, caller).export_dashboard_yaml(dashboard_id)
