"""Query: a batch of component queries over one or more tables, with links and the cache."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping

import polars as pl

from data_svc.links import LinkSpec, effective_filter
from data_svc.query_engine import distinct_values, run_batch
from data_svc.result_cache import ResultCache, result_key
from data_svc.storage import TableRef
from data_svc.tables import DeltaTables
from depictio.errors import FailedPrecondition, InvalidArgument
from depictio.rpc.server import MAX_MESSAGE_BYTES
from depictio.v1 import common_pb2, data_pb2

MAX_QUERIES = 256

# project id → its links (asked of metadata_svc as the caller).
LinksOf = Callable[[str], Awaitable[list[LinkSpec]]]


def group_queries(
    request: data_pb2.QueryRequest,
) -> dict[str, list[tuple[int, data_pb2.ComponentQuery]]]:
    """The request's queries by the data collection each reads, with their positions."""
    if len(request.queries) > MAX_QUERIES:
        raise InvalidArgument(f"queries: at most {MAX_QUERIES} per request")
    groups: dict[str, list[tuple[int, data_pb2.ComponentQuery]]] = defaultdict(list)
    for index, query in enumerate(request.queries):
        dc = query.data_collection_id or request.data_collection_id
        if not dc:
            raise InvalidArgument(
                f"queries[{index}].data_collection_id: set it or the request's data_collection_id"
            )
        groups[dc].append((index, query))
    return groups


class QueryRunner:
    """Answers authorized Query requests."""

    def __init__(self, tables: DeltaTables, cache: ResultCache | None) -> None:
        self.tables = tables
        self.cache = cache

    async def answer(
        self,
        request: data_pb2.QueryRequest,
        projects: Mapping[str, str],
        links_of: LinksOf,
    ) -> data_pb2.QueryResponse:
        """The results in request order; `projects` maps every data collection read (queries'
        and filters') to its project, and must only hold data collections the caller may read;
        `links_of` adds to it, once authorized, the tables its links pass through.
        """
        groups = group_queries(request)
        filters = dict(request.filters)

        async def answer_group(
            dc: str, queries: list[tuple[int, data_pb2.ComponentQuery]]
        ) -> list[data_pb2.ComponentResult]:
            links = await links_of(projects[dc]) if set(filters) - {dc} else []
            return await self._answer_table(dc, queries, filters, links, projects)

        # The tables are answered concurrently, each batch in a worker thread: the small tables'
        # batches finish alongside the large one's instead of after it.
        answered = await asyncio.gather(*(answer_group(dc, q) for dc, q in groups.items()))
        results: list[data_pb2.ComponentResult | None] = [None] * len(request.queries)
        for queries, group_results in zip(groups.values(), answered, strict=True):
            for (index, _), result in zip(queries, group_results, strict=True):
                results[index] = result
        response = data_pb2.QueryResponse(results=[r for r in results if r is not None])
        require_sendable(response)
        return response

    async def _answer_table(
        self,
        dc: str,
        queries: list[tuple[int, data_pb2.ComponentQuery]],
        filters: dict[str, common_pb2.Filter],
        links: list[LinkSpec],
        projects: Mapping[str, str],
    ) -> list[data_pb2.ComponentResult]:
        ref = TableRef(projects[dc], dc)

        def values_of(source: str, column: str, node: common_pb2.Filter) -> list[object]:
            if source not in projects:
                # Only data collections the caller was authorized for carry filters.
                return []
            table = self.tables.open(TableRef(projects[source], source))
            return distinct_values(
                self.tables.frame(table), node, column, f"filters[{source!r}] via link"
            )

        def schema_of(target: str) -> Mapping[str, pl.DataType]:
            table = self.tables.open(TableRef(projects[target], target))
            return self.tables.frame(table).collect_schema()

        def prepare() -> tuple[str, int, common_pb2.Filter]:
            table = self.tables.open(ref)
            node = effective_filter(dc, filters, links, values_of, schema_of=schema_of)
            return self.tables.table_id(table), table.version(), node

        table_id, version, node = await asyncio.to_thread(prepare)
        keys = [result_key(dc, table_id, version, query, node) for _, query in queries]
        hits = await self.cache.get_many(keys) if self.cache else [None] * len(keys)
        found = {i: hit for i, hit in enumerate(hits) if hit is not None}
        missing = [i for i in range(len(queries)) if i not in found]
        if missing:

            def compute() -> list[data_pb2.ComponentResult]:
                table = self.tables.open(ref, version)
                if self.tables.table_id(table) != table_id:
                    raise FailedPrecondition(
                        f"data collection {dc!r}: its table was deleted and written again "
                        "during the query; ask again"
                    )
                batch = [(f"queries[{queries[i][0]}]", queries[i][1]) for i in missing]
                return run_batch(self.tables.frame(table), node, batch, version)

            computed = dict(zip(missing, await asyncio.to_thread(compute), strict=True))
            if self.cache:
                await self.cache.put_many([(keys[i], computed[i]) for i in missing])
            found.update(computed)
        answered = []
        for i, (_, query) in enumerate(queries):
            result = found[i]
            result.id = query.id
            answered.append(result)
        return answered


def require_sendable(response: data_pb2.QueryResponse) -> None:
    """InvalidArgument, naming the largest results, when `response` is larger than a gRPC
    message may be (gRPC refused to send it: RESOURCE_EXHAUSTED, naming no query)."""
    size = response.ByteSize()
    if size <= MAX_MESSAGE_BYTES:
        return
    sizes = sorted(
        ((result.ByteSize(), index, result.id) for index, result in enumerate(response.results)),
        reverse=True,
    )
    largest = ", ".join(
        f"queries[{index}] (id {query_id!r}) {bytes_ / 1e6:.1f} MB"
        for bytes_, index, query_id in sizes[:3]
    )
    raise InvalidArgument(
        f"the answer is {size / 1e6:.1f} MB, more than the {MAX_MESSAGE_BYTES / 2**20:.0f} MiB "
        f"one answer may carry; largest results: {largest}. Ask for fewer rows, points or "
        "columns, or send the queries in several batches"
    )
