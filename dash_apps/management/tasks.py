"""Background tasks in the Management app: table maintenance an owner starts from the project
page, with its progress, and the admins' list of recent tasks with durations and errors.

Tasks are queued with `depictio.tasks.submit` (a token minted for the task, acting for the visitor)
and followed in the worker's task registry; the pages poll it only while a task is unfinished.
"""

from __future__ import annotations

import time
from typing import Any

import dash_mantine_components as dmc
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from grpc import aio
from redis.exceptions import RedisError

from dash_apps.management.widgets import refused, row, table
from dash_apps.service_calls import ServiceCalls
from dash_apps.session import current_identity, rpc_message
from depictio.config import get_settings
from depictio.tasks.names import OPTIMIZE, VACUUM
from depictio.tasks.registry import TaskRecord, TaskState, TasksUnavailable, get_task, recent_tasks
from depictio.tasks.submit import submit

POLL_MS = 1000
ADMIN_POLL_MS = 5000
RECENT_LIMIT = 50
# Files younger than a week are kept by a vacuum started from the UI (time travel stays
# possible within it).
VACUUM_RETENTION_HOURS = 168
OPERATIONS = {
    "optimize": (OPTIMIZE, "Optimize", "Compact the table's small files"),
    "vacuum": (VACUUM, "Vacuum", f"Delete files unreferenced for {VACUUM_RETENTION_HOURS} h"),
}
STATE_COLOURS = {
    TaskState.QUEUED: "gray",
    TaskState.RUNNING: "blue",
    TaskState.SUCCEEDED: "green",
    TaskState.FAILED: "red",
}


def _duration(record: TaskRecord) -> str:
    if record.finished:
        return f"{record.duration_s:.1f} s"
    if record.started_at:
        return f"{time.time() - record.started_at:.0f} s so far"
    return "—"


def task_status(record: TaskRecord) -> Any:
    """A task's state, a progress bar while it is unfinished, and its error or result."""
    badge = dmc.Badge(record.state.value, color=STATE_COLOURS[record.state], variant="light")
    parts: list[Any] = [badge]
    if not record.finished:
        parts.append(
            dmc.Progress(
                value=max(record.progress * 100, 5),
                animated=True,
                striped=True,
                w=160,
                className="dpt-task-progress",
            )
        )
        parts.append(dmc.Text(record.progress_message or "waiting for a worker", size="xs"))
    elif record.state == TaskState.FAILED:
        parts.append(dmc.Text(record.error, size="xs", c="red", className="dpt-task-error"))
    else:
        summary = ", ".join(f"{key}: {value}" for key, value in record.result.items())
        parts.append(dmc.Text(f"done in {record.duration_s:.1f} s · {summary}", size="xs"))
    return dmc.Group(parts, gap="xs", className=f"dpt-task dpt-task-{record.state.value}")


def maintenance_controls(dc_id: str) -> Any:
    """The owner's Optimize and Vacuum buttons of one data collection, and their task's status."""
    buttons = [
        dmc.Tooltip(
            dmc.Button(
                label,
                id={"type": "dc-maintenance", "operation": operation, "dc": dc_id},
                variant="light",
                size="xs",
            ),
            label=hint,
        )
        for operation, (_, label, hint) in OPERATIONS.items()
    ]
    return dmc.Group(
        [*buttons, html.Div(id={"type": "dc-task-status", "dc": dc_id})],
        gap="xs",
    )


def maintenance_poll() -> list[Any]:
    """The project page's task store (data collection id → task id) and its poll timer."""
    return [
        dcc.Store(id="project-tasks", data={}),
        dcc.Interval(id="project-tasks-poll", interval=POLL_MS, disabled=True),
    ]


def _unavailable(exc: Exception) -> str:
    if isinstance(exc, aio.AioRpcError):
        return rpc_message(exc)
    if isinstance(exc, RedisError):
        return f"the task queue (Redis) cannot be reached: {exc}"
    return str(exc)


def recent_tasks_section() -> Any:
    """The admin page's recent tasks, refreshed every few seconds."""
    return dmc.Stack(
        [
            dmc.Title("Recent tasks", order=2),
            dcc.Interval(id="admin-tasks-poll", interval=ADMIN_POLL_MS),
            html.Div(recent_tasks_table(), id="admin-tasks"),
        ]
    )


def recent_tasks_table() -> Any:
    """Everyone's latest tasks, newest first, with duration and error."""
    try:
        records = recent_tasks(get_settings(), RECENT_LIMIT)
    except (TasksUnavailable, RedisError) as exc:
        return dmc.Text(_unavailable(exc), c="dimmed", id="admin-tasks-table")
    rows = [
        row(
            [
                record.name.removeprefix("depictio."),
                record.user_email or record.user_id,
                dmc.Code(record.target) if record.target else "—",
                time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(record.submitted_at)),
                _duration(record),
                str(record.attempts),
                task_status(record),
            ],
            f"task-row-{record.id}",
        )
        for record in records
    ]
    return table(
        ["Task", "User", "Target", "Submitted", "Duration", "Attempts", "State"],
        rows,
        "admin-tasks-table",
        "No tasks yet.",
    )


def _may_maintain(calls: ServiceCalls, token: str, dc_id: str) -> str:
    """Why the visitor may not maintain this data collection's table ('' when they may): the
    gateway's maintenance route asks metadata_svc the same question."""
    try:
        decision = calls.run(calls.metadata(token).check_access("manage", data_collection_id=dc_id))
    except aio.AioRpcError as exc:
        return rpc_message(exc)
    if decision.allowed:
        return ""
    return decision.reason or "only the project's owners may optimize or vacuum its tables"


def register_tasks(app: Dash, calls: ServiceCalls) -> None:
    """The callbacks of the maintenance buttons, their status and the admin list."""

    @app.callback(
        Output("project-tasks", "data"),
        Output("project-tasks-poll", "disabled"),
        Output("project-task-feedback", "children"),
        Input({"type": "dc-maintenance", "operation": ALL, "dc": ALL}, "n_clicks"),
        State("project-tasks", "data"),
        prevent_initial_call=True,
    )
    def start(_clicks: Any, tasks: dict[str, str] | None) -> Any:
        trigger = ctx.triggered_id
        if trigger is None or not (ctx.triggered and ctx.triggered[0]["value"]):
            return no_update, no_update, no_update
        token = current_identity().token
        refusal = _may_maintain(calls, token, trigger["dc"])
        if refusal:
            return no_update, no_update, refused(refusal, "project-task-refused")
        name, _, _ = OPERATIONS[trigger["operation"]]
        kwargs: dict[str, Any] = {"data_collection_id": trigger["dc"]}
        if trigger["operation"] == "vacuum":
            kwargs["retention_hours"] = VACUUM_RETENTION_HOURS
        try:
            task_id = submit(
                name,
                user_token=token,
                kwargs=kwargs,
                target=trigger["dc"],
            )
        except (TasksUnavailable, RedisError, aio.AioRpcError) as exc:
            return no_update, no_update, refused(_unavailable(exc), "project-task-refused")
        return {**(tasks or {}), trigger["dc"]: task_id}, False, None

    @app.callback(
        Output({"type": "dc-task-status", "dc": ALL}, "children"),
        Output("project-tasks-poll", "disabled", allow_duplicate=True),
        Input("project-tasks-poll", "n_intervals"),
        Input("project-tasks", "data"),
        prevent_initial_call=True,
    )
    def follow(_ticks: Any, tasks: dict[str, str] | None) -> Any:
        settings = get_settings()
        statuses: list[Any] = []
        unfinished = False
        for output in ctx.outputs_list[0]:
            task_id = (tasks or {}).get(output["id"]["dc"])
            try:
                record = get_task(settings, task_id) if task_id else None
            except (TasksUnavailable, RedisError) as exc:
                statuses.append(dmc.Text(_unavailable(exc), size="xs", c="red"))
                continue
            statuses.append(task_status(record) if record else None)
            unfinished = unfinished or bool(record and not record.finished)
        return statuses, not unfinished

    @app.callback(
        Output("admin-tasks", "children"),
        Input("admin-tasks-poll", "n_intervals"),
        prevent_initial_call=True,
    )
    def refresh_admin_list(_ticks: Any) -> Any:
        if not current_identity().is_admin:
            return no_update
        return recent_tasks_table()
