"""Request and response bodies of the dashboard routes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from depictio.v1 import metadata_pb2 as pb
from gateway.models import INT64_MAX, Input, from_timestamp

DOCUMENT_DESCRIPTION = (
    "A dashboard document (title, description, is_public, tabs), as described by "
    "GET /api/v1/dashboards/schema; validated by metadata_svc, errors name the field path."
)


class DashboardCreate(Input):
    """A new dashboard."""

    project_id: str = Field(min_length=1, max_length=64)
    document: dict[str, Any] = Field(description=DOCUMENT_DESCRIPTION)


class DashboardUpdate(Input):
    """A save of a dashboard; each save stores a version."""

    document: dict[str, Any] = Field(description=DOCUMENT_DESCRIPTION)
    expected_version: int | None = Field(
        None,
        ge=1,
        le=INT64_MAX,
        description="Refuse (409) unless the dashboard is at this version.",
    )


class DashboardDuplicate(Input):
    """A copy of a dashboard."""

    title: str | None = Field(None, max_length=200, description="Default: '<title> (copy)'.")


class DashboardPublic(BaseModel):
    """A dashboard (or one saved version of it)."""

    id: str
    project_id: str
    title: str
    is_public: bool
    version: int
    document: dict[str, Any]
    created_at: datetime | None
    created_by: str
    updated_at: datetime | None

    @classmethod
    def from_pb(cls, dashboard: pb.Dashboard) -> DashboardPublic:
        return cls(
            id=dashboard.id,
            project_id=dashboard.project_id,
            title=dashboard.title,
            is_public=dashboard.is_public,
            version=dashboard.version,
            document=json.loads(dashboard.document_json),
            created_at=from_timestamp(dashboard.created_at, dashboard.HasField("created_at")),
            created_by=dashboard.created_by,
            updated_at=from_timestamp(dashboard.updated_at, dashboard.HasField("updated_at")),
        )


class DashboardVersionPublic(BaseModel):
    """One saved version."""

    version: int
    title: str
    saved_at: datetime | None
    saved_by: str

    @classmethod
    def from_pb(cls, version: pb.DashboardVersion) -> DashboardVersionPublic:
        return cls(
            version=version.version,
            title=version.title,
            saved_at=from_timestamp(version.saved_at, version.HasField("saved_at")),
            saved_by=version.saved_by,
        )
