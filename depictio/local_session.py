"""Single-user mode's session: the local admin's access token, renewed before it expires.

Used by every process that acts for the local admin without a sign-in (the gateway, the UI).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]


@dataclass(frozen=True)
class LocalToken:
    """The local admin's access token and when it was requested (monotonic clock)."""

    access_token: str = field(repr=False)
    expires_in: float
    obtained_at: float


class LocalSession:
    """Single-user mode: one access token for the local admin, renewed before it expires."""

    def __init__(
        self, start: Callable[[], Awaitable[tuple[str, float]]], clock: Clock = time.monotonic
    ) -> None:
        self._start = start
        self._clock = clock
        self._current: LocalToken | None = None
        self._lock = asyncio.Lock()

    def _fresh(self) -> LocalToken | None:
        current = self._current
        if current is None:
            return None
        # Renew once less than a tenth of the lifetime (at most 30 s) remains.
        margin = min(30.0, current.expires_in / 10)
        if self._clock() >= current.obtained_at + current.expires_in - margin:
            return None
        return current

    async def access_token(self) -> str:
        """A valid access token of the local admin, started anew when needed."""
        current = self._fresh()
        if current is None:
            async with self._lock:
                current = self._fresh()
                if current is None:
                    # Timed from before the call, so the token is renewed early rather than late.
                    requested_at = self._clock()
                    token, expires_in = await self._start()
                    current = LocalToken(token, expires_in, requested_at)
                    self._current = current
        return current.access_token

    def forget(self, access_token: str) -> None:
        """Drops the cached token if it is `access_token` (its session was ended)."""
        if self._current is not None and self._current.access_token == access_token:
            self._current = None
