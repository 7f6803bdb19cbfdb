"""Access decisions cached ≤ 5 s per caller and token; query results cached in a real Redis."""

from __future__ import annotations

import asyncio

import pytest

from data_svc.access import AccessGuard
from data_svc.result_cache import ResultCache, result_key
from depictio.clients.metadata import ActionName
from depictio.errors import PermissionDenied, Unauthenticated
from depictio.filters import in_filter
from depictio.tokens import ANONYMOUS, Identity
from depictio.v1 import data_pb2, metadata_pb2

ALICE = Identity(user_id="alice", token="token-a")
ALICE_OTHER_TOKEN = Identity(user_id="alice", token="token-b")
BOB = Identity(user_id="bob", token="token-c")


class FakeMetadata:
    """CheckAccess answers: alice may read dc-1; nobody else may do anything."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    async def check(
        self, identity: Identity, dc: str, action: ActionName
    ) -> metadata_pb2.CheckAccessResponse:
        self.calls.append((identity.user_id, dc, action))
        allowed = identity.user_id == "alice" and action == "read"
        return metadata_pb2.CheckAccessResponse(
            allowed=allowed, project_id="p1", reason="" if allowed else "not a member"
        )


def test_decisions_are_cached_per_caller_token_and_action(monkeypatch: pytest.MonkeyPatch) -> None:
    metadata = FakeMetadata()
    guard = AccessGuard(metadata.check)
    clock = [100.0]
    monkeypatch.setattr("data_svc.access.time.monotonic", lambda: clock[0])

    async def scenario() -> None:
        assert (await guard.require(ALICE, "dc-1", "read")).project_id == "p1"
        await guard.require(ALICE, "dc-1", "read")
        assert len(metadata.calls) == 1
        await guard.require(ALICE_OTHER_TOKEN, "dc-1", "read")
        assert len(metadata.calls) == 2
        with pytest.raises(PermissionDenied, match="not a member"):
            await guard.require(ALICE, "dc-1", "write")
        with pytest.raises(PermissionDenied):
            await guard.require(BOB, "dc-1", "read")
        with pytest.raises(Unauthenticated):
            await guard.require(ANONYMOUS, "dc-1", "read")
        calls = len(metadata.calls)
        clock[0] += 4.9
        await guard.require(ALICE, "dc-1", "read")
        assert len(metadata.calls) == calls
        clock[0] += 0.2  # past 5 s: asked again
        await guard.require(ALICE, "dc-1", "read")
        assert len(metadata.calls) == calls + 1

    asyncio.run(scenario())


def test_the_ttl_cannot_exceed_five_seconds() -> None:
    guard = AccessGuard(FakeMetadata().check, ttl_seconds=60)
    assert guard._ttl == 5.0


def test_result_keys_depend_on_table_version_query_and_filter_but_not_on_ids() -> None:
    query = data_pb2.ComponentQuery(id="x", distinct=data_pb2.DistinctQuery(column="g"))
    renamed = data_pb2.ComponentQuery(id="y", distinct=data_pb2.DistinctQuery(column="g"))
    other = data_pb2.ComponentQuery(id="x", distinct=data_pb2.DistinctQuery(column="h"))
    node = in_filter("g", ["a"])
    key = result_key("dc", "t1", 3, query, node)
    assert key == result_key("dc", "t1", 3, renamed, node)
    assert (
        len(
            {
                key,
                result_key("dc", "t1", 4, query, node),
                result_key("dc", "t1", 3, other, node),
                result_key("dc", "t1", 3, query, in_filter("g", ["b"])),
                result_key("dc2", "t1", 3, query, node),
                # The data collection's table deleted and written again: versions start over.
                result_key("dc", "t2", 3, query, node),
            }
        )
        == 6
    )


def test_results_round_trip_through_redis(redis_url: str) -> None:
    async def scenario() -> None:
        cache = ResultCache(redis_url, ttl_seconds=60)
        result = data_pb2.ComponentResult(id="mine", arrow_ipc=b"ipc", total_rows=4, version=2)
        assert await cache.get_many(["k1", "k2"]) == [None, None]
        await cache.put_many([("k1", result)])
        hit, miss = await cache.get_many(["k1", "k2"])
        assert miss is None and hit is not None
        assert (hit.id, hit.arrow_ipc, hit.total_rows, hit.version) == ("", b"ipc", 4, 2)
        await cache.close()

    asyncio.run(scenario())


def test_an_unreachable_redis_is_skipped() -> None:
    async def scenario() -> None:
        cache = ResultCache("redis://127.0.0.1:1/0", ttl_seconds=60)
        assert await cache.get_many(["k"]) == [None]
        await cache.put_many([("k", data_pb2.ComponentResult())])
        await cache.close()

    asyncio.run(scenario())
