"""Health probes of supervised children: gRPC health checks, HTTP GETs, Redis keys."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import redis

from depictio.clients.base import check_health
from depictio.rpc.channels import close_channels

T = TypeVar("T")

PROBE_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class GrpcHealth:
    """Healthy when `grpc.health.v1.Health/Check` at `target` answers SERVING."""

    target: str

    def describe(self) -> str:
        return f"gRPC health at {self.target}"


@dataclass(frozen=True)
class HttpHealth:
    """Healthy when GET `url` answers 200."""

    url: str

    def describe(self) -> str:
        return f"GET {self.url}"


@dataclass(frozen=True)
class RedisHealth:
    """Healthy when the Redis server at `url` answers PING."""

    url: str

    def describe(self) -> str:
        return f"PING {self.url}"


# Set by a Celery worker (`python -m worker`) once it consumes tasks; removed when it stops.
WORKER_READY_KEY = "depictio:worker:ready:{pid}"


@dataclass(frozen=True)
class WorkerHealth:
    """Healthy when the worker with the child's PID has announced itself in Redis at `url`."""

    url: str

    def describe(self) -> str:
        return f"worker ready key in {self.url}"


HealthProbe = GrpcHealth | HttpHealth | RedisHealth | WorkerHealth


class HealthProber:
    """Runs probes from synchronous code, whatever event loop the caller may be running.

    gRPC checks run on a private event loop in a daemon thread (started on first use), so the
    channels they open stay bound to one loop until `close`.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def check(self, probe: HealthProbe, pid: int = 0) -> tuple[bool, str]:
        """Whether the probe finds its child (process `pid`) healthy, and what it saw."""
        if isinstance(probe, HttpHealth):
            try:
                response = httpx.get(probe.url, timeout=PROBE_TIMEOUT_SECONDS)
            except httpx.HTTPError as exc:
                return False, f"{type(exc).__name__}: {exc}"
            return response.status_code == 200, f"HTTP {response.status_code}"
        if isinstance(probe, RedisHealth | WorkerHealth):
            client = redis.Redis.from_url(probe.url, socket_timeout=PROBE_TIMEOUT_SECONDS)
            try:
                if isinstance(probe, WorkerHealth):
                    ready = bool(client.exists(WORKER_READY_KEY.format(pid=pid)))
                    return ready, "ready" if ready else "not ready yet"
                return bool(client.ping()), "PONG"
            except redis.RedisError as exc:
                return False, f"{type(exc).__name__}: {exc}"
            finally:
                client.close()
        try:
            status = self._run(check_health(probe.target, timeout=PROBE_TIMEOUT_SECONDS))
        except Exception as exc:  # a probe that cannot run is an unhealthy answer
            return False, f"probe failed: {exc!r}"
        return status == "SERVING", status

    def close(self) -> None:
        """Closes the probe channels and stops the probe thread (restarted if used again)."""
        if self._loop is None or self._thread is None:
            return
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        try:
            asyncio.run_coroutine_threadsafe(close_channels(), loop).result(5.0)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5.0)
            if not thread.is_alive():
                loop.close()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._loop.run_forever, name="depictio-health-probes", daemon=True
            )
            self._thread.start()
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(
            PROBE_TIMEOUT_SECONDS + 5.0
        )
