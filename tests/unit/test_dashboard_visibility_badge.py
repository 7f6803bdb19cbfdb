"""The dashboards list says who may open a dashboard: non-members only when the dashboard and
its project are both public (metadata_svc.access.decide_dashboard)."""

from __future__ import annotations

import pytest

from dash_apps.management.dashboards import visibility_badge
from depictio.v1 import metadata_pb2 as pb


@pytest.mark.parametrize(
    ("dashboard_public", "project_public", "shown"),
    [
        (True, True, "public"),
        (False, True, "private"),
        (False, False, "private"),
        (True, False, "public · project private (members only)"),
    ],
)
def test_the_badge_follows_both_flags(
    dashboard_public: bool, project_public: bool, shown: str
) -> None:
    dashboard = pb.Dashboard(id="d1", is_public=dashboard_public)
    project = pb.Project(id="p1", is_public=project_public)
    badge = visibility_badge(dashboard, project)
    assert (badge.children, badge.id) == (shown, "dashboard-public-d1")
