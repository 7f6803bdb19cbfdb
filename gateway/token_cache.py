"""Short-lived caches of access tokens the gateway obtained for callers.

API token secrets are exchanged at auth_svc for access tokens; the result is reused for a
few seconds, keyed by the secret's SHA-256 (the secret itself is never kept). In single-user
mode the local admin's session token is reused until shortly before it expires.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

# An exchanged token is dropped this long before it expires, so a cached token is never stale.
EXPIRY_MARGIN_SECONDS = 5.0
MAX_CACHED_SECRETS = 10_000

Clock = Callable[[], float]


def secret_key(secret: str) -> str:
    """The cache key of an API token secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class ExchangedToken:
    """An access token obtained for an API token."""

    access_token: str = field(repr=False)
    token_id: str
    user_id: str
    valid_until: float


class ApiTokenCache:
    """Exchanged access tokens by secret hash, for at most `ttl_seconds` each."""

    def __init__(self, ttl_seconds: float, clock: Clock = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: dict[str, ExchangedToken] = {}

    def get(self, secret: str) -> ExchangedToken | None:
        """The cached exchange of `secret`, if still fresh."""
        key = secret_key(secret)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.valid_until <= self._clock():
            del self._entries[key]
            return None
        return entry

    def put(
        self, secret: str, access_token: str, token_id: str, user_id: str, expires_in: float
    ) -> None:
        """Remembers an exchange for the cache lifetime (or less, if the token expires first)."""
        lifetime = min(self._ttl, expires_in - EXPIRY_MARGIN_SECONDS)
        if lifetime <= 0:
            return
        if len(self._entries) >= MAX_CACHED_SECRETS:
            self._drop_expired_or_oldest()
        self._entries[secret_key(secret)] = ExchangedToken(
            access_token, token_id, user_id, self._clock() + lifetime
        )

    def evict_token(self, token_id: str) -> None:
        """Forgets every exchange of one API token (it was just revoked)."""
        self._evict(lambda entry: entry.token_id == token_id)

    def evict_user(self, user_id: str) -> None:
        """Forgets every exchange made for a user (their account just changed)."""
        self._evict(lambda entry: entry.user_id == user_id)

    def _evict(self, matches: Callable[[ExchangedToken], bool]) -> None:
        for key in [k for k, entry in self._entries.items() if matches(entry)]:
            del self._entries[key]

    def _drop_expired_or_oldest(self) -> None:
        now = self._clock()
        self._evict(lambda entry: entry.valid_until <= now)
        if len(self._entries) >= MAX_CACHED_SECRETS:
            del self._entries[next(iter(self._entries))]


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
