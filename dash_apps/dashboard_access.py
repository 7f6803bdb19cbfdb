"""Opening a stored dashboard for the visitor: the dashboard, its project and the visitor's role.

Refusals become pages that say what happened: sign in first (anonymous visitors), or no access
(a dashboard that does not exist or that the visitor may not see — the two are not told apart).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import grpc
from grpc import aio

from dash_apps.service_calls import ServiceCalls
from depictio.dashboards.models import DashboardDocument
from depictio.tokens import Identity
from depictio.v1 import common_pb2
from depictio.v1 import metadata_pb2 as pb


class AccessRefused(Exception):
    """The visitor may not open the dashboard; `title` and `message` are shown as they are,
    with a way to sign in when that is what is missing."""

    def __init__(self, title: str, message: str, sign_in: bool = False) -> None:
        super().__init__(message)
        self.title = title
        self.message = message
        self.sign_in = sign_in


@dataclass(frozen=True)
class OpenedDashboard:
    """A dashboard the visitor may read, with its project."""

    dashboard: pb.Dashboard
    project: pb.Project
    document: DashboardDocument
    can_edit: bool


def open_dashboard(calls: ServiceCalls, identity: Identity, dashboard_id: str) -> OpenedDashboard:
    """The dashboard and its project as the visitor may see them; AccessRefused otherwise."""
    client = calls.metadata(identity.token)
    try:
        dashboard = calls.run(client.get_dashboard(dashboard_id))
        project = calls.run(client.get_project(dashboard.project_id))
    except aio.AioRpcError as exc:
        raise refusal(exc, identity) from exc
    document = DashboardDocument.model_validate(json.loads(dashboard.document_json))
    can_edit = not identity.anonymous and (
        identity.is_admin or project.caller_role >= common_pb2.ROLE_EDITOR
    )
    return OpenedDashboard(dashboard, project, document, can_edit)


def refusal(exc: aio.AioRpcError, identity: Identity) -> AccessRefused:
    """The page-level explanation of a refused metadata call."""
    code = exc.code()
    if code is grpc.StatusCode.UNAUTHENTICATED or (
        identity.anonymous and code is grpc.StatusCode.PERMISSION_DENIED
    ):
        return AccessRefused("Sign in required", "Sign in to open this dashboard.", sign_in=True)
    if code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND):
        return AccessRefused(
            "No access",
            "This dashboard does not exist or you have no access to it. Ask one of the "
            "project's owners to add you as a member.",
        )
    return AccessRefused("Service unavailable", exc.details() or code.name)
