"""The project page (`/projects/<id>`): workflows, data collections with their tables, runs,
and who has access (dash_apps/management/project_access.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import dash_mantine_components as dmc
import grpc
from dash import dcc, html
from grpc import aio

from dash_apps.management.project_access import access_section
from dash_apps.management.projects import PROJECT_TYPES, data_collections
from dash_apps.management.tasks import maintenance_controls, maintenance_poll
from dash_apps.management.widgets import may_manage, refused_call, role_label, row, table, when
from dash_apps.service_calls import ServiceCalls
from dash_apps.session import rpc_message
from dash_apps.shell import message_page
from depictio.tokens import Identity
from depictio.v1 import data_pb2
from depictio.v1 import metadata_pb2 as pb

RUNS_SHOWN = 500


@dataclass(frozen=True)
class TableState:
    """What data_svc says of a data collection's table: its description, or why there is none."""

    described: data_pb2.DescribeResponse | None
    missing: bool
    problem: str


@dataclass(frozen=True)
class ProjectView:
    """Everything the project page shows."""

    project: pb.Project
    runs: pb.ListRunsResponse
    tables: dict[str, TableState]


async def _table_state(calls: ServiceCalls, token: str, dc_id: str) -> TableState:
    try:
        return TableState(await calls.data(token).describe(dc_id), False, "")
    except aio.AioRpcError as exc:
        missing = exc.code() is grpc.StatusCode.NOT_FOUND
        return TableState(None, missing, rpc_message(exc))


async def _project_view(calls: ServiceCalls, token: str, project_id: str) -> ProjectView:
    client = calls.metadata(token)
    project = await client.get_project(project_id)
    dc_ids = [dc.id for dc in data_collections(project)]
    runs, states = await asyncio.gather(
        client.list_runs(project_id, page_size=RUNS_SHOWN),
        asyncio.gather(*(_table_state(calls, token, dc_id) for dc_id in dc_ids)),
    )
    return ProjectView(project, runs, dict(zip(dc_ids, states, strict=True)))


def _workflows(project: pb.Project) -> Any:
    rows = [
        row(
            [
                workflow.name,
                " ".join(part for part in (workflow.engine_name, workflow.engine_version) if part),
                workflow.description,
                str(len(workflow.data_collections)),
            ],
            f"workflow-row-{workflow.id}",
        )
        for workflow in project.workflows
    ]
    return table(
        ["Name", "Engine", "Description", "Data collections"],
        rows,
        "workflows-table",
        "No workflows: the data collections belong to the project itself.",
    )


def _schema(state: TableState, dc_id: str) -> Any:
    if state.described is None:
        if state.missing:
            return dmc.Text("no data yet", c="dimmed", id=f"dc-empty-{dc_id}")
        return dmc.Alert(
            f"The table could not be described: {state.problem}",
            color="orange",
            id=f"dc-problem-{dc_id}",
        )
    described = state.described
    return dmc.Stack(
        [
            dmc.Text(
                [
                    html.Span(f"{described.rows:,}", id=f"dc-rows-{dc_id}"),
                    f" rows · table version {described.version}",
                ],
                size="sm",
            ),
            table(
                ["Column", "Type"],
                [
                    row([column.name, dmc.Code(column.type)], f"dc-column-{dc_id}-{column.name}")
                    for column in described.columns
                ],
                f"dc-schema-{dc_id}",
                "No columns.",
            ),
        ],
        gap="xs",
    )


def _data_collection(
    dc: pb.DataCollection, workflow: str, state: TableState, maintainable: bool
) -> dmc.Card:
    where = f"{workflow} / " if workflow else ""
    return dmc.Card(
        dmc.Stack(
            [
                dmc.Group(
                    [
                        dmc.Title(f"{where}{dc.data_collection_tag}", order=4),
                        dmc.Badge(dc.type or "table", variant="outline"),
                        *([dmc.Badge(dc.format, variant="outline")] if dc.format else []),
                    ]
                ),
                *([dmc.Text(dc.description, size="sm", c="dimmed")] if dc.description else []),
                _schema(state, dc.id),
                *([maintenance_controls(dc.id)] if maintainable and state.described else []),
            ],
            gap="xs",
        ),
        id=f"dc-{dc.id}",
        withBorder=True,
        padding="md",
    )


def _runs(project: pb.Project, runs: pb.ListRunsResponse) -> Any:
    workflow_names = {workflow.id: workflow.name for workflow in project.workflows}
    rows = [
        row(
            [
                run.run_tag,
                workflow_names.get(run.workflow_id, "—"),
                run.location,
                when(run.created_at),
            ],
            f"run-row-{run.id}",
        )
        for run in runs.runs
    ]
    shown = (
        [dmc.Text(f"The first {len(rows)} of {runs.page.total_size} runs.", size="sm")]
        if runs.page.next_page_token
        else []
    )
    return dmc.Stack(
        [
            *shown,
            table(["Run", "Workflow", "Location", "Registered"], rows, "runs-table", "No runs."),
        ]
    )


def project_page(calls: ServiceCalls, identity: Identity, project_id: str) -> Any:
    """The whole project page, or why it cannot be shown."""
    try:
        view = calls.run(_project_view(calls, identity.token, project_id))
    except aio.AioRpcError as exc:
        if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED):
            return message_page(
                "No access", "This project does not exist or you have no access to it."
            )
        return refused_call(exc, "project-error")
    project = view.project
    workflow_of = {
        dc.id: workflow.name for workflow in project.workflows for dc in workflow.data_collections
    }
    return dmc.Stack(
        [
            dcc.Store(id="project-detail-id", data=project.id),
            dmc.Anchor("← All projects", href="/projects", size="sm"),
            dmc.Title(project.name, order=2, id="project-title"),
            dmc.Group(
                [
                    dmc.Badge(PROJECT_TYPES.get(project.project_type, "—"), variant="outline"),
                    dmc.Text(
                        f"Your role: {role_label(project.caller_role, identity)}",
                        size="sm",
                        id="project-role",
                    ),
                ]
            ),
            *([dmc.Text(project.description)] if project.description else []),
            dmc.Title("Who has access", order=3),
            html.Div(access_section(project, identity), id="project-access"),
            dmc.Title("Workflows", order=3),
            _workflows(project),
            dmc.Title("Data collections", order=3),
            *maintenance_poll(),
            html.Div(id="project-task-feedback"),
            *[
                _data_collection(
                    dc,
                    workflow_of.get(dc.id, ""),
                    view.tables[dc.id],
                    may_manage(project.caller_role, identity),
                )
                for dc in data_collections(project)
            ],
            *([] if data_collections(project) else [dmc.Text("No data collections.", c="dimmed")]),
            dmc.Title("Runs", order=3),
            _runs(project, view.runs),
        ]
    )
