"""Background tasks: table maintenance and server-side ingestion, and their status.

Tasks run on the Celery worker for the user who submitted them, with a short-lived token
auth_svc mints for the task. A task is visible to its submitter and to admins only; to
anyone else it does not exist (404).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import grpc
import redis
from fastapi import APIRouter, Query, status
from grpc import aio
from kombu.exceptions import OperationalError

from depictio.errors import DepictioError, NotFound
from depictio.tasks.names import INGEST, OPTIMIZE, VACUUM
from depictio.tasks.registry import TasksUnavailable, get_task, recent_tasks
from depictio.tasks.submit import submit
from gateway.errors import ServiceCallError
from gateway.identity import CurrentUser, Services
from gateway.metadata_backend import ERRORS, require_access
from gateway.task_models import (
    IngestCreate,
    MaintenanceCreate,
    TaskPublic,
    TaskSubmitted,
)

T = TypeVar("T")
router = APIRouter(
    tags=["tasks"],
    responses={
        **ERRORS,
        503: {"description": "Background tasks are not configured or Redis does not answer."},
    },
)


class TasksUnreachable(DepictioError):
    """Redis (the task queue) is configured but does not answer."""

    code = grpc.StatusCode.UNAVAILABLE


async def with_task_queue(services: Any, call: Callable[[], T]) -> T:
    """Runs a blocking task-queue call in a thread; its failures become HTTP errors."""
    try:
        return await asyncio.to_thread(call)
    except TasksUnavailable as exc:
        raise TasksUnreachable(str(exc)) from exc
    except (redis.RedisError, OperationalError) as exc:
        raise TasksUnreachable(
            f"background tasks are unavailable: Redis does not answer ({type(exc).__name__})"
        ) from exc
    except aio.AioRpcError as exc:
        raise ServiceCallError("auth", services.settings.auth_addr, exc) from exc


@router.post(
    "/api/v1/datacollections/{dc}/maintenance",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TaskSubmitted,
)
async def submit_maintenance(
    dc: str, body: MaintenanceCreate, user: CurrentUser, services: Services
) -> TaskSubmitted:
    """Queues an optimize or vacuum of the data collection's table (project owners)."""
    await require_access(services, user, "manage", dc=dc)
    kwargs: dict[str, Any]
    if body.operation == "optimize":
        name, kwargs = OPTIMIZE, {"data_collection_id": dc}
    else:
        name = VACUUM
        kwargs = {"data_collection_id": dc, "retention_hours": body.retention_hours}
    task_id = await with_task_queue(
        services,
        lambda: submit(name, user_token=user.access_token, kwargs=kwargs, target=dc),
    )
    return TaskSubmitted(task_id=task_id)


@router.post(
    "/api/v1/projects/{project_id}/ingest",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TaskSubmitted,
)
async def submit_ingest(
    project_id: str, body: IngestCreate, user: CurrentUser, services: Services
) -> TaskSubmitted:
    """Queues the ingestion of a project whose files are on the server (editors)."""
    await require_access(services, user, "write", project_id=project_id)
    kwargs = {
        "project_id": project_id,
        "project_file": body.project_file,
        "overwrite": body.overwrite,
    }
    task_id = await with_task_queue(
        services,
        lambda: submit(INGEST, user_token=user.access_token, kwargs=kwargs, target=project_id),
    )
    return TaskSubmitted(task_id=task_id)


@router.get("/api/v1/tasks/{task_id}", response_model=TaskPublic)
async def read_task(task_id: str, user: CurrentUser, services: Services) -> TaskPublic:
    """One task (its submitter or an admin; anyone else is told it does not exist)."""
    record = await with_task_queue(services, lambda: get_task(services.settings, task_id))
    if record is None or (record.user_id != user.user_id and not user.is_admin):
        raise NotFound(f"no task '{task_id}'")
    return TaskPublic.from_record(record)


@router.get("/api/v1/tasks", response_model=list[TaskPublic])
async def list_tasks(
    user: CurrentUser,
    services: Services,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[TaskPublic]:
    """Recent tasks, newest first: all of them for admins, one's own for everyone else."""
    owner = None if user.is_admin else user.user_id
    records = await with_task_queue(services, lambda: recent_tasks(services.settings, limit, owner))
    return [TaskPublic.from_record(record) for record in records]
