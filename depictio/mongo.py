"""MongoDB access for the services: a real server by URL, or the embedded litemongo engine.

pymongo calls block, so they run on worker threads. The embedded engine's client must not be
shared across threads: each worker thread opens its own client (one thread for the embedded
engine, which serialises writes to its files).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pymongo
from pymongo.database import Database as PyMongoDatabase

T = TypeVar("T")


class MongoDatabase:
    """One service's database; `await db.run(fn)` calls `fn(database)` on a worker thread."""

    def __init__(self, location: str, name: str) -> None:
        self.location = location
        self.name = name
        self.embedded = not location.startswith(("mongodb://", "mongodb+srv://"))
        workers = 1 if self.embedded else 8
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"mongo-{name}")
        self._local = threading.local()
        self._clients: list[Any] = []
        self._lock = threading.Lock()

    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            if self.embedded:
                import litemongo

                Path(self.location).mkdir(parents=True, exist_ok=True)
                client = litemongo.connect(self.location)
            else:
                client = pymongo.MongoClient(self.location, serverSelectionTimeoutMS=5000)
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def _call(self, fn: Callable[[PyMongoDatabase], T]) -> T:
        return fn(self._client()[self.name])

    async def run(self, fn: Callable[[PyMongoDatabase], T]) -> T:
        """Runs `fn` with the database on a worker thread and returns its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, fn)

    def run_sync(self, fn: Callable[[PyMongoDatabase], T]) -> T:
        """Runs `fn` on a worker thread and waits, for start-up code outside the event loop."""
        return self._executor.submit(self._call, fn).result()

    def close(self) -> None:
        """Closes every client on the thread that opened it, then stops the workers."""

        def close_own() -> None:
            client = getattr(self._local, "client", None)
            if client is not None:
                client.close()
                self._local.client = None

        if self.embedded:
            self._executor.submit(close_own).result()
        else:
            with self._lock:
                for client in self._clients:
                    client.close()
        self._executor.shutdown(wait=True)
