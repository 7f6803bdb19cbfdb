"""Short-lived caches of access tokens the gateway obtained for callers.

API token secrets are exchanged at auth_svc for access tokens; the result is reused for a
few seconds, keyed by the secret's SHA-256 (the secret itself is never kept).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
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
