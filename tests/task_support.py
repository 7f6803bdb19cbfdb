"""What the background-task tests share: a Celery worker process, waiting for task records."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis
from conftest import background_process, free_port

from depictio.cli.probes import WORKER_READY_KEY
from depictio.embedded_redis import redis_server_argv

TASKS = "/api/v1/tasks"
FINISHED = {"succeeded", "failed"}


@contextmanager
def private_redis(workdir: Path) -> Iterator[str]:
    """A redis-server of the caller's own (broker, results and task records): its URL."""
    port = free_port()
    with background_process(redis_server_argv(port, workdir, 64), port, workdir / "redis.log"):
        yield f"redis://127.0.0.1:{port}/0"


@dataclass
class WorkerProcess:
    """A `python -m worker` process (leading its own process group) and its log."""

    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL to the worker and its pool processes (its process group, led by its PID)."""
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (warm shutdown), SIGKILL to its group after 15 s."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


@contextmanager
def running_worker(env: dict[str, str], log: Path, **overrides: str) -> Iterator[WorkerProcess]:
    """A worker with the stack's `env` (plus DEPICTIO_* `overrides`), ready to take tasks;
    stopped by its PID when the block ends."""
    full_env = {**env, "PYTHONUNBUFFERED": "1", **overrides}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "worker"],
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = WorkerProcess(process, log)
    try:
        ready_key = WORKER_READY_KEY.format(pid=process.pid)
        client = redis.Redis.from_url(full_env["DEPICTIO_REDIS_URL"])
        deadline = time.monotonic() + 60
        while not client.exists(ready_key):
            if process.poll() is not None:
                raise RuntimeError(f"the worker exited early:\n{worker.log_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the worker was not ready in 60 s:\n{worker.log_text()[-3000:]}"
                )
            time.sleep(0.1)
        client.close()
        yield worker
    finally:
        worker.stop()


def task_record(gateway: httpx.Client, token: str, task_id: str) -> dict[str, Any]:
    response = gateway.get(f"{TASKS}/{task_id}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    record: dict[str, Any] = response.json()
    return record


def wait_for_task(
    gateway: httpx.Client,
    token: str,
    task_id: str,
    states: set[str] = FINISHED,
    timeout: float = 60.0,
) -> dict[str, Any]:
    """The task's record once its state is one of `states`."""
    deadline = time.monotonic() + timeout
    while True:
        record = task_record(gateway, token, task_id)
        if record["state"] in states:
            return record
        assert time.monotonic() < deadline, f"task still {record['state']}: {record}"
        time.sleep(0.1)
