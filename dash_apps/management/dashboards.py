"""The dashboards page (`/dashboards`): every readable dashboard, and the forms to change them.

Write controls (create, edit, duplicate, public toggle, delete) appear only where the visitor
may edit the dashboard's project: admins, and its editors and owners. The actions themselves
are in dash_apps/management/dashboard_actions.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import dash_mantine_components as dmc
from dash import dcc, html

from dash_apps.management.projects import all_projects
from dash_apps.management.widgets import may_edit, public_badge, row, table, when
from dash_apps.service_calls import ServiceCalls
from dash_apps.shell import current_scheme
from dash_apps.thumbnails import thumbnail_image
from depictio.clients.metadata import MetadataClient
from depictio.tokens import Identity
from depictio.v1 import metadata_pb2 as pb

FEEDBACK_ID = "dashboards-feedback"


@dataclass(frozen=True)
class Listing:
    """The readable dashboards with the projects they belong to."""

    dashboards: list[pb.Dashboard]
    projects: dict[str, pb.Project]

    def editable_projects(self, identity: Identity) -> list[pb.Project]:
        """The projects in which the visitor may create dashboards."""
        return [p for p in self.projects.values() if may_edit(p.caller_role, identity)]


async def _all_dashboards(client: MetadataClient) -> list[pb.Dashboard]:
    dashboards: list[pb.Dashboard] = []
    token = ""
    while True:
        response = await client.list_dashboards(page_size=500, page_token=token)
        dashboards.extend(response.dashboards)
        token = response.page.next_page_token
        if not token:
            return dashboards


async def _listing(client: MetadataClient) -> Listing:
    dashboards, projects = await asyncio.gather(_all_dashboards(client), all_projects(client))
    return Listing(dashboards, {project.id: project for project in projects})


def fetch_listing(calls: ServiceCalls, identity: Identity) -> Listing:
    """The visitor's dashboards and projects (the AioRpcError of a refusal is raised)."""
    return calls.run(_listing(calls.metadata(identity.token)))


def _actions(dashboard: pb.Dashboard, editable: bool) -> dmc.Group:
    links: list[Any] = [
        dmc.Anchor("Open", href=f"/dashboard/{dashboard.id}", id=f"open-dashboard-{dashboard.id}")
    ]
    if not editable:
        return dmc.Group(links, gap="sm")
    return dmc.Group(
        [
            *links,
            dmc.Anchor(
                "Edit", href=f"/dashboard-edit/{dashboard.id}", id=f"edit-dashboard-{dashboard.id}"
            ),
            dmc.Button(
                "Duplicate",
                id={"type": "duplicate-dashboard", "id": dashboard.id},
                variant="subtle",
                size="xs",
            ),
            dmc.Button(
                "Make private" if dashboard.is_public else "Make public",
                id={"type": "toggle-dashboard-public", "id": dashboard.id},
                variant="subtle",
                size="xs",
            ),
            dmc.Button(
                "Delete",
                id={"type": "delete-dashboard", "id": dashboard.id},
                color="red",
                variant="subtle",
                size="xs",
            ),
        ],
        gap="sm",
    )


def visibility_badge(dashboard: pb.Dashboard, project: pb.Project | None) -> dmc.Badge:
    """Who may open the dashboard: non-members only when it and its project are public."""
    badge_id = f"dashboard-public-{dashboard.id}"
    if dashboard.is_public and project is not None and not project.is_public:
        return dmc.Badge(
            "public · project private (members only)", color="yellow", variant="light", id=badge_id
        )
    return public_badge(dashboard.is_public, badge_id)


def _dashboard_row(dashboard: pb.Dashboard, listing: Listing, identity: Identity) -> dmc.TableTr:
    project = listing.projects.get(dashboard.project_id)
    editable = project is not None and may_edit(project.caller_role, identity)
    return row(
        [
            thumbnail_image(dashboard, current_scheme()),
            dashboard.title,
            project.name if project is not None else dashboard.project_id,
            visibility_badge(dashboard, project),
            str(dashboard.version),
            when(dashboard.updated_at),
            _actions(dashboard, editable),
        ],
        f"dashboard-row-{dashboard.id}",
    )


def dashboards_table(listing: Listing, identity: Identity, feedback: Any = None) -> dmc.Stack:
    """The table of dashboards, under the outcome of the last action (if any)."""
    return dmc.Stack(
        [
            *([feedback] if feedback is not None else []),
            table(
                ["", "Title", "Project", "Visibility", "Version", "Updated", ""],
                [_dashboard_row(d, listing, identity) for d in listing.dashboards],
                "dashboards-table",
                "No dashboards yet.",
            ),
        ]
    )


def _create_form(projects: list[pb.Project]) -> dmc.Group:
    return dmc.Group(
        [
            dmc.Select(
                id="new-dashboard-project",
                label="Project",
                data=[{"value": p.id, "label": p.name} for p in projects],
                value=projects[0].id,
                allowDeselect=False,
                w=260,
            ),
            dmc.TextInput(id="new-dashboard-title", label="Title", w=280),
            dmc.Button("Create dashboard", id="new-dashboard-create"),
        ],
        align="flex-end",
    )


def _delete_modal() -> Any:
    return [
        dcc.Store(id="delete-dashboard-pending"),
        dmc.Modal(
            dmc.Stack(
                [
                    dmc.Text(id="delete-dashboard-question"),
                    dmc.Group(
                        [
                            dmc.Button("Cancel", id="delete-dashboard-cancel", variant="default"),
                            dmc.Button("Delete", id="delete-dashboard-confirm", color="red"),
                        ],
                        justify="flex-end",
                    ),
                ]
            ),
            id="delete-dashboard-modal",
            title="Delete dashboard",
            opened=False,
        ),
    ]


def dashboards_page(listing: Listing, identity: Identity) -> dmc.Stack:
    """The page: the create form (where the visitor may create), then the table."""
    editable = listing.editable_projects(identity)
    return dmc.Stack(
        [
            dmc.Title("Dashboards", order=2),
            *([_create_form(editable)] if editable else []),
            html.Div(dashboards_table(listing, identity), id="dashboards-list"),
            *(_delete_modal() if editable else []),
        ]
    )
