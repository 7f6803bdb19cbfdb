"""gRPC calls from the UI's request threads: one event loop thread runs every call.

Flask serves each request on a thread of its own; the typed clients are asyncio clients whose
channels belong to one event loop. The UI keeps one loop on a daemon thread and submits each
call to it, so every request shares the same channels (and their connections).

The loop starts on first use in each process: a Celery worker imports the UI to run its
background callbacks and forks its pool afterwards, and a thread does not survive a fork.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from depictio.clients.auth import AuthClient
from depictio.clients.data import DataClient
from depictio.clients.metadata import MetadataClient
from depictio.config import Settings
from depictio.local_session import LocalSession
from depictio.tokens import KeySet, TokenVerifier

T = TypeVar("T")


class ServiceCalls:
    """The UI's view of the services: clients acting for a token, run on one loop thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_pid = 0
        self._loop_lock = threading.Lock()
        self.verifier = TokenVerifier(
            KeySet(self.auth("").get_jwks, settings.jwks_refresh_min_seconds),
            settings.jwt_issuer,
            settings.jwt_audience,
            settings.jwt_leeway_seconds,
        )
        self.local_session = LocalSession(self._start_local_session)

    def run(self, call: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """The result of a coroutine run on the gRPC loop (its exceptions re-raised here)."""
        future = asyncio.run_coroutine_threadsafe(call, self._running_loop())
        return future.result(
            timeout if timeout is not None else self.settings.rpc_timeout_seconds * 3
        )

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        """This process's gRPC loop, started on a daemon thread on first use."""
        with self._loop_lock:
            if self._loop is None or self._loop_pid != os.getpid():
                self._loop = asyncio.new_event_loop()
                self._loop_pid = os.getpid()
                threading.Thread(
                    target=self._loop.run_forever, name="depictio-ui-grpc", daemon=True
                ).start()
            return self._loop

    def auth(self, token: str) -> AuthClient:
        return AuthClient(self.settings.auth_addr, token, self.settings.rpc_timeout_seconds)

    def metadata(self, token: str) -> MetadataClient:
        return MetadataClient(self.settings.metadata_addr, token, self.settings.rpc_timeout_seconds)

    def data(self, token: str) -> DataClient:
        return DataClient(self.settings.data_addr, token, self.settings.rpc_timeout_seconds)

    async def _start_local_session(self) -> tuple[str, float]:
        tokens = await self.auth("").start_local_session()
        return tokens.access_token, float(tokens.expires_in)
