"""The Celery worker on a real redis-server: optimize and vacuum through the gateway, a worker
killed mid-task, time limits. Delta tables are checked with deltalake directly."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import polars as pl
import pyarrow as pa
import pytest
import redis
from celery.result import AsyncResult
from conftest import Stack
from data_support import LinkedProject, linked_project
from deltalake import DeltaTable
from task_support import TASKS, running_worker, task_record, wait_for_task

from depictio.arrow_ipc import table_to_ipc
from depictio.config import Settings
from depictio.tasks.celery_app import make_celery_app
from depictio.tasks.registry import TaskRecord, TaskRegistry

pytestmark = pytest.mark.timeout(240)
ARROW = {"content-type": "application/vnd.apache.arrow.stream"}
COMMITS = 4


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def small_commit(index: int) -> pa.Table:
    return pa.table(
        {
            "sample": [f"s{index}-{n}" for n in range(3)],
            "site": ["north", "south", "east"],
            "ph": [6.0 + index, 6.5 + index, 7.0 + index],
        }
    )


def project_with_commits(stack: Stack, gateway: httpx.Client) -> tuple[LinkedProject, pl.DataFrame]:
    """A fresh project whose samples table got COMMITS small commits, and their rows."""
    project = linked_project(stack)
    tables = [small_commit(index) for index in range(COMMITS)]
    for index, table in enumerate(tables):
        response = gateway.post(
            f"/api/v1/datacollections/{project.samples}/upload",
            params={"run_id": f"run-{index}", "file": f"part-{index}.arrow"},
            content=table_to_ipc(table),
            headers={**bearer(project.people.editor), **ARROW},
        )
        assert response.status_code == 200, response.text
    expected = pl.from_arrow(pa.concat_tables(tables))
    assert isinstance(expected, pl.DataFrame)
    return project, expected


def delta_table(stack: Stack, project: LinkedProject) -> DeltaTable:
    return DeltaTable(str(stack.data_dir / "delta" / project.id / project.samples))


def rows_of(table: DeltaTable) -> pl.DataFrame:
    frame = pl.from_arrow(table.to_pyarrow_table(columns=["sample", "site", "ph"]))
    assert isinstance(frame, pl.DataFrame)
    return frame.sort("sample")


def operations(table: DeltaTable) -> list[str]:
    return [str(entry["operation"]) for entry in table.history()]


def submit_optimize(gateway: httpx.Client, project: LinkedProject) -> str:
    response = gateway.post(
        f"/api/v1/datacollections/{project.samples}/maintenance",
        json={"operation": "optimize"},
        headers=bearer(project.people.owner),
    )
    assert response.status_code == 202, response.text
    task_id: str = response.json()["task_id"]
    return task_id


def test_optimize_through_the_gateway_compacts_the_table(
    task_stack: Stack, gateway: httpx.Client, tmp_path: Path
) -> None:
    project, expected = project_with_commits(task_stack, gateway)
    before = delta_table(task_stack, project)
    files_before = len(before.file_uris())
    assert files_before == COMMITS
    with running_worker(task_stack.env, tmp_path / "worker.log"):
        task_id = submit_optimize(gateway, project)
        record = wait_for_task(gateway, project.people.owner, task_id)
        vacuum = gateway.post(
            f"/api/v1/datacollections/{project.samples}/maintenance",
            json={"operation": "vacuum", "retention_hours": 0},
            headers=bearer(project.people.owner),
        )
        assert vacuum.status_code == 202, vacuum.text
        vacuumed = wait_for_task(gateway, project.people.owner, vacuum.json()["task_id"])
    assert record["state"] == "succeeded", record
    assert vacuumed["state"] == "succeeded", vacuumed
    # The compacted files are no longer referenced by the latest version: all deleted.
    assert vacuumed["result"]["files_deleted"] == files_before
    after = delta_table(task_stack, project)
    assert operations(after).count("OPTIMIZE") == 1
    assert operations(after).count("VACUUM END") == 1
    assert len(after.file_uris()) == 1
    assert record["result"] == {
        "data_collection_id": project.samples,
        "files_removed": files_before,
        "files_added": 1,
    }
    assert rows_of(after).equals(expected.sort("sample"))
    assert record["attempts"] == 1
    assert record["target"] == project.samples
    assert record["name"] == "depictio.optimize"
    assert record["progress"]["fraction"] == 1.0
    assert record["error"] is None
    assert record["duration_s"] >= 0
    assert record["started_at"] >= record["submitted_at"]


def test_a_task_whose_worker_is_killed_runs_again_once(
    task_stack: Stack, gateway: httpx.Client, task_redis: str, tmp_path: Path
) -> None:
    project, expected = project_with_commits(task_stack, gateway)
    # Every attempt pauses 3 s once running; an unacknowledged task is redelivered after 10 s.
    settings = {
        "DEPICTIO_TASK_TEST_PAUSE_SECONDS": "3",
        "DEPICTIO_TASK_TIME_LIMIT_SECONDS": "8",
        "DEPICTIO_TASK_VISIBILITY_TIMEOUT_SECONDS": "10",
    }
    owner = project.people.owner
    with running_worker(task_stack.env, tmp_path / "first.log", **settings) as first:
        task_id = submit_optimize(gateway, project)
        running = wait_for_task(gateway, owner, task_id, states={"running"}, timeout=30)
        assert running["attempts"] == 1
        first.kill()
    killed_at = time.monotonic()
    assert task_record(gateway, owner, task_id)["state"] == "running"
    assert "OPTIMIZE" not in operations(delta_table(task_stack, project))
    with running_worker(task_stack.env, tmp_path / "second.log", **settings):
        record = wait_for_task(gateway, owner, task_id, timeout=90)
    assert record["state"] == "succeeded", record
    assert record["attempts"] == 2
    # Not before the visibility timeout: a task still running elsewhere is never restarted.
    assert time.monotonic() - killed_at >= 10
    table = delta_table(task_stack, project)
    assert operations(table).count("OPTIMIZE") == 1
    assert rows_of(table).equals(expected.sort("sample"))
    assert record["result"]["files_removed"] == COMMITS
    listed = gateway.get(TASKS, params={"limit": 500}, headers=bearer(owner)).json()
    assert [task["id"] for task in listed].count(task_id) == 1
    result = AsyncResult(task_id, app=make_celery_app(Settings(redis_url=task_redis)))
    assert result.state == "SUCCESS"
    assert result.result == record["result"]


def test_a_task_past_its_time_limit_fails_with_a_clear_error(
    task_stack: Stack, gateway: httpx.Client, tmp_path: Path
) -> None:
    project, expected = project_with_commits(task_stack, gateway)
    with running_worker(
        task_stack.env,
        tmp_path / "worker.log",
        DEPICTIO_TASK_TIME_LIMIT_SECONDS="2",
        DEPICTIO_TASK_TEST_PAUSE_SECONDS="5",
    ):
        task_id = submit_optimize(gateway, project)
        record = wait_for_task(gateway, project.people.owner, task_id, timeout=30)
    assert record["state"] == "failed"
    assert record["error"] == "depictio.optimize stopped: it exceeded its time limit of 2 s"
    assert record["result"] is None
    assert record["duration_s"] < 4
    table = delta_table(task_stack, project)
    assert "OPTIMIZE" not in operations(table)
    assert rows_of(table).equals(expected.sort("sample"))


def test_progress_and_records_in_the_registry(task_redis: str) -> None:
    registry = TaskRegistry(redis.Redis.from_url(task_redis), ttl_seconds=60)
    registry.create(TaskRecord(id="t-unit", name="x", user_id="u1", submitted_at=time.time()))
    registry.set_progress("t-unit", 1.7, "almost")
    record = registry.get("t-unit")
    assert record is not None
    assert (record.progress, record.progress_message, record.state) == (1.0, "almost", "queued")
    assert [r.id for r in registry.recent(10, "u1")] == ["t-unit"]
    assert registry.recent(10, "someone-else") == []
    assert registry.get("never-submitted") is None


def test_a_dedupe_key_is_held_by_the_first_task_for_its_countdown(task_redis: str) -> None:
    registry = TaskRegistry(redis.Redis.from_url(task_redis), ttl_seconds=60)
    assert registry.claim_dedupe("thumb:d1", "first", 1.0) is None
    assert registry.claim_dedupe("thumb:d1", "second", 1.0) == "first"
    registry.release_dedupe("thumb:d1", "second")
    assert registry.claim_dedupe("thumb:d1", "third", 1.0) == "first"
    time.sleep(1.2)
    assert registry.claim_dedupe("thumb:d1", "fourth", 1.0) is None
    registry.release_dedupe("thumb:d1", "fourth")
    assert registry.claim_dedupe("thumb:d1", "fifth", 1.0) is None
