"""The projects page (`/`, `/projects`): every project the visitor may read, with their role."""

from __future__ import annotations

import asyncio
from typing import Any

import dash_mantine_components as dmc
import grpc
from grpc import aio

from dash_apps.management.widgets import public_badge, refused_call, role_label, row, table
from dash_apps.service_calls import ServiceCalls
from depictio.clients.metadata import MetadataClient
from depictio.tokens import Identity
from depictio.v1 import metadata_pb2 as pb

PROJECT_TYPES = {pb.PROJECT_TYPE_BASIC: "basic", pb.PROJECT_TYPE_ADVANCED: "advanced"}


async def all_projects(client: MetadataClient) -> list[pb.Project]:
    """Every project the caller may read (summaries: no workflows, data collections, members)."""
    projects: list[pb.Project] = []
    token = ""
    while True:
        response = await client.list_projects(page_size=500, page_token=token)
        projects.extend(response.projects)
        token = response.page.next_page_token
        if not token:
            return projects


def data_collections(project: pb.Project) -> list[pb.DataCollection]:
    """A full project's data collections: its own, then each workflow's."""
    return [
        *project.data_collections,
        *(dc for workflow in project.workflows for dc in workflow.data_collections),
    ]


async def _in_full(client: MetadataClient, project_id: str) -> pb.Project | None:
    try:
        return await client.get_project(project_id)
    except aio.AioRpcError as exc:
        if exc.code() is grpc.StatusCode.NOT_FOUND:
            return None  # Deleted since it was listed.
        raise


async def projects_in_full(client: MetadataClient) -> list[pb.Project]:
    """Every readable project with its workflows and data collections."""
    summaries = await all_projects(client)
    found = await asyncio.gather(*(_in_full(client, project.id) for project in summaries))
    return [project for project in found if project is not None]


def project_row(project: pb.Project, identity: Identity) -> dmc.TableTr:
    return row(
        [
            dmc.Anchor(
                project.name, href=f"/projects/{project.id}", id=f"project-link-{project.id}"
            ),
            PROJECT_TYPES.get(project.project_type, "—"),
            public_badge(project.is_public),
            role_label(project.caller_role, identity),
            str(len(data_collections(project))),
        ],
        f"project-row-{project.id}",
    )


def projects_page(calls: ServiceCalls, identity: Identity) -> Any:
    """The table of the visitor's projects, each linking to its detail page."""
    try:
        projects = calls.run(projects_in_full(calls.metadata(identity.token)))
    except aio.AioRpcError as exc:
        return refused_call(exc, "projects-error")
    return dmc.Stack(
        [
            dmc.Title("Projects", order=2),
            table(
                ["Name", "Type", "Visibility", "Your role", "Data collections"],
                [project_row(project, identity) for project in projects],
                "projects-table",
                "No projects yet: create one with `depictio project create`.",
            ),
        ]
    )
