"""Task records in Redis: who asked for what, its state, progress, timings, error and result.

Each task has a hash `depictio:task:<id>` that expires `task_result_ttl_seconds` after its
latest change, and its id in two capped sorted sets (all recent tasks; one user's), scored by
submission time. Every process (gateway, UI, worker) reads and writes the same records.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

import redis

from depictio.config import Settings

PREFIX = "depictio:task"
RECENT_KEY = "depictio:tasks:recent"
USER_KEY = "depictio:tasks:user:{user_id}"
DEDUPE_KEY = "depictio:task-dedupe:{key}"
# How many ids each sorted set keeps (older records are still readable by id until they expire).
KEEP_RECENT = 1000
MAX_RESULT_BYTES = 64 * 1024


class TaskState(StrEnum):
    """Where a task is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass
class TaskRecord:
    """One task as the registry keeps it (times are Unix seconds; 0: not yet)."""

    id: str
    name: str
    user_id: str
    user_email: str = ""
    target: str = ""
    state: TaskState = TaskState.QUEUED
    submitted_at: float = 0.0
    started_at: float = 0.0
    finished_at: float = 0.0
    duration_s: float = 0.0
    progress: float = 0.0
    progress_message: str = ""
    error: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0

    @property
    def finished(self) -> bool:
        return self.state in (TaskState.SUCCEEDED, TaskState.FAILED)

    def to_hash(self) -> dict[Any, str]:
        return {
            "id": self.id,
            "name": self.name,
            "user_id": self.user_id,
            "user_email": self.user_email,
            "target": self.target,
            "state": self.state.value,
            "submitted_at": repr(self.submitted_at),
            "started_at": repr(self.started_at),
            "finished_at": repr(self.finished_at),
            "duration_s": repr(self.duration_s),
            "progress": repr(self.progress),
            "progress_message": self.progress_message,
            "error": self.error,
            "result": json.dumps(self.result),
            "attempts": str(self.attempts),
        }

    @classmethod
    def from_hash(cls, task_id: str, values: dict[str, str]) -> TaskRecord:
        def number(name: str) -> float:
            return float(values.get(name) or 0)

        return cls(
            id=task_id,
            name=values.get("name", ""),
            user_id=values.get("user_id", ""),
            user_email=values.get("user_email", ""),
            target=values.get("target", ""),
            state=TaskState(values.get("state", TaskState.QUEUED.value)),
            submitted_at=number("submitted_at"),
            started_at=number("started_at"),
            finished_at=number("finished_at"),
            duration_s=number("duration_s"),
            progress=number("progress"),
            progress_message=values.get("progress_message", ""),
            error=values.get("error", ""),
            result=json.loads(values.get("result") or "{}"),
            attempts=int(values.get("attempts") or 0),
        )


def task_key(task_id: str) -> str:
    return f"{PREFIX}:{task_id}"


def bounded_result(result: dict[str, Any]) -> dict[str, Any]:
    """The result summary, or a note saying it was too large to keep."""
    size = len(json.dumps(result, default=str))
    if size > MAX_RESULT_BYTES:
        return {"note": f"result too large to keep ({size:,} bytes of JSON)"}
    loaded: dict[str, Any] = json.loads(json.dumps(result, default=str))
    return loaded


class TaskRegistry:
    """Reads and writes task records in one Redis database."""

    def __init__(self, client: redis.Redis, ttl_seconds: int) -> None:
        self.redis = client
        self.ttl = ttl_seconds

    # writers

    def create(self, record: TaskRecord) -> None:
        """Stores a newly queued task and lists it among the recent ones."""
        oldest_kept = record.submitted_at - self.ttl
        pipe = self.redis.pipeline()
        pipe.hset(task_key(record.id), mapping=record.to_hash())
        pipe.expire(task_key(record.id), self.ttl)
        for index in (RECENT_KEY, USER_KEY.format(user_id=record.user_id)):
            pipe.zadd(index, {record.id: record.submitted_at})
            pipe.zremrangebyscore(index, "-inf", oldest_kept)
            pipe.zremrangebyrank(index, 0, -KEEP_RECENT - 1)
            pipe.expire(index, self.ttl)
        pipe.execute()

    def _update(self, task_id: str, fields: dict[Any, str]) -> None:
        pipe = self.redis.pipeline()
        pipe.hset(task_key(task_id), mapping=fields)
        pipe.expire(task_key(task_id), self.ttl)
        pipe.execute()

    def mark_running(self, task_id: str) -> int:
        """Records the start of an attempt; the number of attempts so far (this one included)."""
        pipe = self.redis.pipeline()
        pipe.hincrby(task_key(task_id), "attempts", 1)
        pipe.hset(
            task_key(task_id),
            mapping={
                "state": TaskState.RUNNING.value,
                "started_at": repr(time.time()),
                "finished_at": "0",
                "duration_s": "0",
                "progress": "0",
                "progress_message": "",
                "error": "",
            },
        )
        pipe.expire(task_key(task_id), self.ttl)
        attempts, *_ = pipe.execute()
        return int(attempts)

    def set_progress(self, task_id: str, fraction: float, message: str = "") -> None:
        """How far the running task is (0..1) and what it is doing."""
        bounded = min(1.0, max(0.0, float(fraction)))
        self._update(task_id, {"progress": repr(bounded), "progress_message": message})

    def _finish(self, task_id: str, fields: dict[Any, str]) -> None:
        started = float(self.redis.hget(task_key(task_id), "started_at") or 0)
        finished = time.time()
        duration = finished - started if started else 0.0
        self._update(
            task_id,
            {"finished_at": repr(finished), "duration_s": repr(round(duration, 3)), **fields},
        )

    def mark_succeeded(self, task_id: str, result: dict[str, Any]) -> None:
        self._finish(
            task_id,
            {
                "state": TaskState.SUCCEEDED.value,
                "progress": "1.0",
                "result": json.dumps(bounded_result(result)),
                "error": "",
            },
        )

    def mark_failed(self, task_id: str, error: str) -> None:
        self._finish(task_id, {"state": TaskState.FAILED.value, "error": error})

    def claim_dedupe(self, key: str, task_id: str, seconds: float) -> str | None:
        """Claims `key` for `task_id` for `seconds`; the id already holding it, if any."""
        name = DEDUPE_KEY.format(key=key)
        milliseconds = max(1000, int(seconds * 1000))
        if self.redis.set(name, task_id, nx=True, px=milliseconds):
            return None
        holder = self.redis.get(name)
        return holder.decode() if isinstance(holder, bytes) else holder

    def release_dedupe(self, key: str, task_id: str) -> None:
        """Gives up `key` if `task_id` still holds it (its submission failed)."""
        name = DEDUPE_KEY.format(key=key)
        if _text(self.redis.get(name) or b"") == task_id:
            self.redis.delete(name)

    # readers

    def get(self, task_id: str) -> TaskRecord | None:
        """The task's record; None when there is none (never existed, or expired)."""
        values = self.redis.hgetall(task_key(task_id))
        if not values:
            return None
        return TaskRecord.from_hash(task_id, _decoded(values))

    def recent(self, limit: int = 50, user_id: str | None = None) -> list[TaskRecord]:
        """The latest tasks, newest first: everyone's, or only those `user_id` submitted."""
        index = RECENT_KEY if user_id is None else USER_KEY.format(user_id=user_id)
        raw_ids: list[bytes] = self.redis.zrevrange(index, 0, max(0, limit - 1))  # type: ignore[assignment]
        ids = [_text(raw) for raw in raw_ids]
        pipe = self.redis.pipeline()
        for task_id in ids:
            pipe.hgetall(task_key(task_id))
        records = []
        for task_id, values in zip(ids, pipe.execute(), strict=True):
            if values:
                records.append(TaskRecord.from_hash(task_id, _decoded(values)))
        return records


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _decoded(values: dict[Any, Any]) -> dict[str, str]:
    return {_text(key): _text(value) for key, value in values.items()}


@lru_cache(maxsize=4)
def _registry(redis_url: str, ttl_seconds: int) -> TaskRegistry:
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=30)
    return TaskRegistry(client, ttl_seconds)


class TasksUnavailable(RuntimeError):
    """Background tasks need Redis (DEPICTIO_REDIS_URL), which is not configured."""


def task_registry(settings: Settings) -> TaskRegistry:
    """The registry in the Redis of `settings`; TasksUnavailable when there is none."""
    if not settings.redis_url:
        raise TasksUnavailable(
            "background tasks are not available: DEPICTIO_REDIS_URL is not set "
            "(`depictio up` sets it; a deployment needs Redis and a worker)"
        )
    return _registry(settings.redis_url, settings.task_result_ttl_seconds)


def get_task(settings: Settings, task_id: str) -> TaskRecord | None:
    """One task's record (None: unknown or expired)."""
    return task_registry(settings).get(task_id)


def recent_tasks(
    settings: Settings, limit: int = 50, user_id: str | None = None
) -> list[TaskRecord]:
    """The latest tasks, newest first (only `user_id`'s when given)."""
    return task_registry(settings).recent(limit, user_id)
