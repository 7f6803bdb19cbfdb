"""Answers a batch of component queries on one table from one lazy, filtered scan."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from data_svc.encoding import decoded, logical_schema
from data_svc.query_plans import (
    Batch,
    Outcome,
    Plan,
    batch_frames,
    check_columns,
    plan_query,
    query_columns,
    ungrouped_quantiles,
)
from data_svc.selection import SharedSelections
from depictio.arrow_ipc import table_to_ipc
from depictio.filters import filter_columns, filter_expression, is_empty
from depictio.v1 import common_pb2, data_pb2


def filtered(
    frame: pl.LazyFrame, node: common_pb2.Filter | None, columns: set[str], where: str
) -> pl.LazyFrame:
    """`frame` projected on `columns` (plus the filter's), then filtered.

    Every query of a batch derives from this one plan, so polars scans the table once for
    all of them (common subplan elimination), reading only the projected columns.
    """
    schema = frame.collect_schema()
    needed = set(columns)
    if node is not None and not is_empty(node):
        check_columns(sorted(filter_columns(node)), schema, where)
        needed |= filter_columns(node)
    # A plan of no column has no rows either: a batch needing none (a count of rows alone)
    # keeps the table's first column, so that its rows are still there to count.
    kept = [name for name in schema if name in needed] or list(schema)[:1]
    projected = frame.select(kept)
    if node is None or is_empty(node):
        return projected
    return projected.filter(filter_expression(node, schema, where))


def collect_by_engine(frames: list[pl.LazyFrame], engines: list[str]) -> list[pl.DataFrame]:
    """`frames` collected, each on its engine: one `collect_all` per engine, side by side."""
    by_engine = {e: [i for i, each in enumerate(engines) if each == e] for e in set(engines)}
    collected: list[pl.DataFrame | None] = [None] * len(frames)

    def collect(engine: str) -> None:
        positions = by_engine[engine]
        done = pl.collect_all([frames[i] for i in positions], engine=engine)  # type: ignore[call-overload]
        for i, frame in zip(positions, done, strict=True):
            collected[i] = frame

    with ThreadPoolExecutor(max_workers=len(by_engine) or 1) as pool:
        list(pool.map(collect, sorted(by_engine)))
    return [frame for frame in collected if frame is not None]


def run_batch(
    frame: pl.LazyFrame,
    node: common_pb2.Filter | None,
    queries: Sequence[tuple[str, data_pb2.ComponentQuery]],
    version: int,
) -> list[data_pb2.ComponentResult]:
    """The results of `queries` (each with its path for error messages), in order."""
    schema = logical_schema(frame.collect_schema())
    columns: set[str] = set()
    for _, query in queries:
        columns |= query_columns(query, schema)
    # The filtered rows are materialized once: every query then reads them from memory instead
    # of each re-running the scan and the filter.
    base = filtered(frame, node, columns, "filters").collect().rechunk()
    # Planning selects quantiles, bins histograms and draws samples eagerly (numpy and polars
    # both release the GIL): the queries are planned side by side on the machine's cores.
    wanted = ungrouped_quantiles(query for _, query in queries)
    batch = Batch(base, schema, SharedSelections(base, wanted))
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        plans: list[Plan] = list(
            pool.map(lambda item: plan_query(item[1], batch, item[0]), queries)
        )
    lazy: list[pl.LazyFrame] = []
    engines: list[str] = []
    planned = batch_frames(plans, base)
    for plan, plan_frames in zip(plans, planned, strict=True):
        lazy += plan_frames
        engines += ["streaming"] * (len(plan_frames) - len(plan.frames))
        engines += plan.frame_engines()
    collected = collect_by_engine(lazy, engines)
    total = base.height
    results = []
    position = 0
    for (_, query), plan, planned_frames in zip(queries, plans, planned, strict=True):
        frames = collected[position : position + len(planned_frames)]
        position += len(planned_frames)
        outcome: Outcome = plan.finish(frames, total)
        results.append(
            data_pb2.ComponentResult(
                id=query.id,
                arrow_ipc=table_to_ipc(decoded(outcome.table).to_arrow()),
                total_rows=total,
                sampled=outcome.sampled,
                truncated=outcome.truncated,
                version=version,
            )
        )
    return results


def distinct_values(
    frame: pl.LazyFrame, node: common_pb2.Filter | None, column: str, where: str
) -> list[object]:
    """The distinct non-null values of `column` among the rows `node` keeps."""
    check_columns([column], frame.collect_schema(), where)
    values = filtered(frame, node, {column}, where).select(pl.col(column).drop_nulls().unique())
    return values.collect().to_series().to_list()
