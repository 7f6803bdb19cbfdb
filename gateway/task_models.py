"""Request and response bodies of the background-task routes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from depictio.tasks.registry import TaskRecord
from gateway.models import Input


class MaintenanceCreate(Input):
    """A table maintenance task for one data collection (owners)."""

    operation: Literal["optimize", "vacuum"] = Field(
        description="optimize: compact small files; vacuum: delete unreferenced files."
    )
    retention_hours: int = Field(
        168,
        ge=0,
        le=24 * 365 * 10,
        description="vacuum only: files unreferenced for this long are deleted (versions "
        "older than that can no longer be read).",
    )


class IngestCreate(Input):
    """Server-side ingestion of a project whose files are on the server (editors)."""

    project_file: str = Field(
        min_length=1,
        max_length=4096,
        description="Path on the server of the project.yaml, under the server's projects "
        "directory (DEPICTIO_SERVER_PROJECTS_DIR).",
    )
    overwrite: bool = Field(False, description="Rebuild every table from all files.")


class TaskSubmitted(BaseModel):
    """A queued task."""

    task_id: str = Field(description="GET /api/v1/tasks/{task_id} tells how it goes.")


class ProgressPublic(BaseModel):
    """How far a running task is."""

    fraction: float = Field(ge=0, le=1, description="0 to 1.")
    message: str = Field(description="What it is doing.")


def _time(seconds: float) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


class TaskPublic(BaseModel):
    """A background task as its submitter (or an admin) sees it."""

    id: str
    name: str = Field(description="e.g. depictio.optimize, depictio.ingest_project.")
    user_id: str = Field(description="Who submitted it.")
    user_email: str
    target: str = Field(description="What it works on (data collection id, project id…).")
    state: Literal["queued", "running", "succeeded", "failed"]
    submitted_at: datetime | None
    started_at: datetime | None = Field(description="Start of the latest attempt.")
    finished_at: datetime | None
    duration_s: float | None = Field(description="Of the latest attempt, once finished.")
    progress: ProgressPublic
    error: str | None = Field(description="Why it failed, in one sentence.")
    result: dict[str, Any] | None = Field(description="A summary of what it did.")
    attempts: int = Field(description="Times it started (more than 1: its worker was lost).")

    @classmethod
    def from_record(cls, record: TaskRecord) -> TaskPublic:
        return cls(
            id=record.id,
            name=record.name,
            user_id=record.user_id,
            user_email=record.user_email,
            target=record.target,
            state=record.state.value,
            submitted_at=_time(record.submitted_at),
            started_at=_time(record.started_at),
            finished_at=_time(record.finished_at),
            duration_s=record.duration_s if record.finished else None,
            progress=ProgressPublic(fraction=record.progress, message=record.progress_message),
            error=record.error or None,
            result=record.result if record.finished and record.result else None,
            attempts=record.attempts,
        )
