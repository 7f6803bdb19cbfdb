"""Query results cached in Redis under (data collection, table id and version, query hash).

Only ever consulted after the caller was authorized for every table the query reads. Redis
bounds the memory (`maxmemory` with an eviction policy, set by whoever runs it); entries also
expire after DEPICTIO_QUERY_CACHE_TTL_SECONDS. A cache that cannot be reached is skipped.
"""

from __future__ import annotations

import hashlib
import logging

import redis.asyncio as redis
from redis.exceptions import RedisError

from depictio.v1 import common_pb2, data_pb2

log = logging.getLogger("data_svc.cache")
PREFIX = "depictio:query:v1"


def result_key(
    data_collection_id: str,
    table_id: str,
    version: int,
    query: data_pb2.ComponentQuery,
    effective_filter: common_pb2.Filter,
) -> str:
    """The cache key of one query's result on one table version under its effective filter.

    `table_id` is the table's own id (`DeltaTables.table_id`): a data collection whose table
    was deleted and written again counts its versions from 0 again, under a new id. The
    query's caller-chosen id is not part of the key: equal queries share a result.
    """
    anonymous = data_pb2.ComponentQuery()
    anonymous.CopyFrom(query)
    anonymous.id = ""
    anonymous.data_collection_id = ""
    digest = hashlib.sha256()
    digest.update(anonymous.SerializeToString(deterministic=True))
    digest.update(b"\0")
    digest.update(effective_filter.SerializeToString(deterministic=True))
    return f"{PREFIX}:{data_collection_id}:{table_id}:{version}:{digest.hexdigest()}"


class ResultCache:
    """Get/put of ComponentResults in Redis."""

    def __init__(self, url: str, ttl_seconds: int) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._ttl = ttl_seconds

    async def get_many(self, keys: list[str]) -> list[data_pb2.ComponentResult | None]:
        """The cached results (None where missing, or all None when Redis is unreachable)."""
        if not keys:
            return []
        try:
            values = await self._client.mget(keys)
        except RedisError as exc:
            log.warning("query cache unavailable", extra={"error": type(exc).__name__})
            return [None] * len(keys)
        results: list[data_pb2.ComponentResult | None] = []
        for value in values:
            if value is None:
                results.append(None)
                continue
            result = data_pb2.ComponentResult()
            result.ParseFromString(value if isinstance(value, bytes) else value.encode())
            results.append(result)
        return results

    async def put_many(self, items: list[tuple[str, data_pb2.ComponentResult]]) -> None:
        """Stores results (ids cleared); failures are logged, never raised."""
        if not items or self._ttl <= 0:
            return
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for key, result in items:
                    stored = data_pb2.ComponentResult()
                    stored.CopyFrom(result)
                    stored.id = ""
                    pipe.set(key, stored.SerializeToString(), ex=self._ttl)
                await pipe.execute()
        except RedisError as exc:
            log.warning("query cache unavailable", extra={"error": type(exc).__name__})

    async def close(self) -> None:
        """Closes the connection pool."""
        await self._client.aclose()
