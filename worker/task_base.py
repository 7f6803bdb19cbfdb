"""The base of every Depictio task: its record kept up to date, clear errors, progress."""

from __future__ import annotations

import logging
import time
from typing import Any

import grpc
from billiard.einfo import ExceptionInfo
from celery import Task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from grpc import aio

from depictio.config import Settings, get_settings
from depictio.tasks.names import TOKEN_HEADER
from depictio.tasks.registry import TaskRegistry, task_registry

log = logging.getLogger("worker.tasks")


class DepictioTask(Task):
    """Marks the task's record running, then succeeded or failed, and counts its attempts.

    A task past its time limit fails with "<task> stopped: it exceeded its time limit of N s".
    `settings.task_test_pause_seconds` (tests only) makes every attempt pause right after it is
    marked running, so that a test can kill the worker mid-task or pass the time limit.
    """

    abstract = True

    @property
    def settings(self) -> Settings:
        return get_settings()

    @property
    def registry(self) -> TaskRegistry:
        return task_registry(self.settings)

    @property
    def task_token(self) -> str:
        """The access token minted for this task (acting for the user who submitted it)."""
        return str(getattr(self.request, TOKEN_HEADER, None) or "")

    def progress(self, fraction: float, message: str = "") -> None:
        """Reports how far the task is (0..1) and what it is doing now."""
        self.registry.set_progress(self.request.id, fraction, message)

    def time_limit_error(self) -> str:
        limit = self.time_limit or self.app.conf.task_time_limit
        return f"{self.name} stopped: it exceeded its time limit of {limit:g} s"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        task_id = self.request.id
        registry = self.registry
        attempts = registry.mark_running(task_id)
        log.info("task started", extra={"task": self.name, "task_id": task_id, "attempt": attempts})
        try:
            pause = self.settings.task_test_pause_seconds
            if pause:
                time.sleep(pause)
            result = self.run(*args, **kwargs)
        except (SoftTimeLimitExceeded, TimeLimitExceeded):
            registry.mark_failed(task_id, self.time_limit_error())
            raise
        except Exception as exc:
            registry.mark_failed(task_id, describe_failure(self.name, exc))
            raise
        registry.mark_succeeded(task_id, result if isinstance(result, dict) else {"value": result})
        log.info("task succeeded", extra={"task": self.name, "task_id": task_id})
        return result

    def on_failure(
        self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: ExceptionInfo
    ) -> None:
        # A hard time limit kills the task's process: only the worker's main process, which
        # calls this, is left to record it.
        if isinstance(exc, TimeLimitExceeded):
            self.registry.mark_failed(task_id, self.time_limit_error())


def describe_failure(task_name: str, exc: BaseException) -> str:
    """One sentence saying why a task failed (a refused RPC: the service's own words)."""
    if isinstance(exc, aio.AioRpcError | grpc.RpcError):
        code = exc.code() if callable(getattr(exc, "code", None)) else None
        details = exc.details() if callable(getattr(exc, "details", None)) else ""
        name = code.name if code is not None else "UNKNOWN"
        return f"{task_name} failed: the service refused the call ({name}): {details}"
    text = str(exc) or type(exc).__name__
    return f"{task_name} failed: {text}"
