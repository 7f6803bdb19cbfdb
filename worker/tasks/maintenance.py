"""Table maintenance: compaction (`depictio.optimize`) and removal of unreferenced files
(`depictio.vacuum`) of one data collection's Delta table, through data_svc's RPCs.

Both are idempotent (a second run finds nothing more to do), so a task whose worker died is
safely run again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from depictio.clients.data import DataClient
from depictio.rpc.channels import close_channels
from depictio.tasks.celery_app import celery_app
from depictio.tasks.names import OPTIMIZE, VACUUM
from worker.task_base import DepictioTask

T = TypeVar("T")


def call_data_svc(task: DepictioTask, work: Callable[[DataClient], Awaitable[T]]) -> T:
    """Runs `work` with a data_svc client acting with the task's token, on a fresh loop.

    The deadline is the task's soft time limit: the RPC may take as long as the task may.
    """
    settings = task.settings

    async def run() -> T:
        client = DataClient(
            settings.data_addr,
            token=task.task_token,
            timeout=float(settings.task_soft_time_limit_seconds),
        )
        try:
            return await work(client)
        finally:
            await close_channels([settings.data_addr])

    return asyncio.run(run())


@celery_app.task(base=DepictioTask, bind=True, name=OPTIMIZE)
def optimize(self: DepictioTask, data_collection_id: str) -> dict[str, Any]:
    """Compacts the table's small files into larger ones (one OPTIMIZE commit)."""
    self.progress(0.1, "compacting the table's files")
    response = call_data_svc(self, lambda client: client.optimize(data_collection_id))
    return {
        "data_collection_id": data_collection_id,
        "files_removed": int(response.files_removed),
        "files_added": int(response.files_added),
    }


@celery_app.task(base=DepictioTask, bind=True, name=VACUUM)
def vacuum(self: DepictioTask, data_collection_id: str, retention_hours: int) -> dict[str, Any]:
    """Deletes files no version younger than `retention_hours` refers to."""
    self.progress(0.1, f"removing files unreferenced for {retention_hours} h")
    deleted = call_data_svc(self, lambda client: client.vacuum(data_collection_id, retention_hours))
    return {
        "data_collection_id": data_collection_id,
        "retention_hours": retention_hours,
        "files_deleted": deleted,
    }
