"""Authorization of every data RPC through metadata_svc's CheckAccess, decisions cached ≤ 5 s."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from grpc import aio

from depictio.clients.metadata import ActionName, MetadataClient
from depictio.errors import PermissionDenied, Unauthenticated
from depictio.rpc.relayed_errors import relayed_error
from depictio.tokens import Identity
from depictio.v1 import metadata_pb2

# Longest time a decision is reused (DESIGN.md §4).
DECISION_TTL_SECONDS = 5.0
MAX_DECISIONS = 10_000

# (caller, data collection id, action) → metadata's answer.
AccessCheck = Callable[[Identity, str, ActionName], Awaitable[metadata_pb2.CheckAccessResponse]]


@dataclass(frozen=True)
class Grant:
    """An allowed access: the data collection's project and the caller's role."""

    project_id: str
    role: int


def token_key(identity: Identity) -> str:
    """A key naming the caller's token without keeping the token itself."""
    return hashlib.sha256(identity.token.encode()).hexdigest()


class AccessGuard:
    """Asks CheckAccess with the caller's own token and caches the decisions briefly."""

    def __init__(self, check: AccessCheck, ttl_seconds: float = DECISION_TTL_SECONDS) -> None:
        self._check = check
        self._ttl = min(ttl_seconds, DECISION_TTL_SECONDS)
        self._decisions: dict[tuple[str, str, str, str], tuple[float, Grant | str]] = {}

    async def require(
        self, identity: Identity, data_collection_id: str, action: ActionName
    ) -> Grant:
        """The grant for `action` on the data collection, or the refusal as an error.

        Refused: UNAUTHENTICATED for an anonymous caller, PERMISSION_DENIED for a signed-in
        one; an unknown data collection is NOT_FOUND (raised by metadata_svc's answer).
        """
        key = (identity.user_id, token_key(identity), data_collection_id, action)
        now = time.monotonic()
        cached = self._decisions.get(key)
        if cached is None or cached[0] <= now:
            response = await self._check(identity, data_collection_id, action)
            decision: Grant | str = (
                Grant(project_id=response.project_id, role=response.role)
                if response.allowed
                else response.reason or f"{action} access to the data collection is not granted"
            )
            if len(self._decisions) >= MAX_DECISIONS:
                self._evict(now)
            self._decisions[key] = (now + self._ttl, decision)
        else:
            decision = cached[1]
        if isinstance(decision, Grant):
            return decision
        if identity.anonymous:
            raise Unauthenticated(f"sign-in required: {decision}")
        raise PermissionDenied(decision)

    def _evict(self, now: float) -> None:
        expired = [key for key, (until, _) in self._decisions.items() if until <= now]
        for key in expired or list(self._decisions):
            del self._decisions[key]


def metadata_access_check(target: str, timeout: float) -> AccessCheck:
    """CheckAccess at metadata_svc (`target`) as the caller (their token forwarded)."""

    async def check(
        identity: Identity, data_collection_id: str, action: ActionName
    ) -> metadata_pb2.CheckAccessResponse:
        client = MetadataClient(target, token=identity.token, timeout=timeout)
        try:
            return await client.check_access(action, data_collection_id=data_collection_id)
        except aio.AioRpcError as exc:
            raise relayed_error(exc, "CheckAccess") from exc

    return check
