"""The embedded Redis under memory pressure: keys that expire anyway (cached query results,
task records) make room; a task queue, which never expires, is never evicted."""

from __future__ import annotations

from pathlib import Path

import redis
from conftest import background_process, free_port

from depictio.embedded_redis import redis_server_argv


def test_pressure_evicts_expiring_keys_and_keeps_the_task_queue(tmp_path: Path) -> None:
    port = free_port()
    with background_process(redis_server_argv(port, tmp_path, 8), port, tmp_path / "redis.log"):
        client = redis.Redis(port=port)
        queue = [f"task-{n}".encode() for n in range(100)]
        client.rpush("depictio", *queue)
        blob = b"x" * 64 * 1024
        for n in range(400):  # 25 MB of cached results into 8 MB
            client.set(f"cache:{n}", blob, ex=300)
        kept = sum(1 for n in range(400) if client.exists(f"cache:{n}"))
        assert 0 < kept < 400  # the cache was bounded by evicting its own entries
        assert client.lrange("depictio", 0, -1) == queue
        client.close()
