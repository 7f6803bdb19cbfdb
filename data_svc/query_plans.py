"""One lazy plan per component query kind, and how its collected frames become a result table.

Result schemas are documented on the query messages in data.proto.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl

from data_svc import kernels
from data_svc.code_grouping import Tally, TallyKind, group_by_code
from data_svc.encoding import is_encoded
from data_svc.group_selection import join_selected, select_by_group
from data_svc.leading_rows import leading_rows
from data_svc.selection import SharedSelections, quantile_exprs
from depictio.arrow_types import internal_name
from depictio.errors import InvalidArgument
from depictio.v1 import data_pb2

Finish = Callable[[list[pl.DataFrame], int], "Outcome"]
# A per-group aggregation: a tally that counting by code can answer, or any polars one.
Aggregation = Tally | pl.Expr
Engine = Literal["streaming", "in-memory"]
SAMPLE_SEED = 20240611


@dataclass
class Outcome:
    """A query's result table and its flags."""

    table: pl.DataFrame
    sampled: bool = False
    truncated: bool = False


@dataclass
class Grouped:
    """Aggregations per group of `keys` that a query needs. The batch computes those of all its
    queries on the same keys in one grouping (`batch_frames`): by code when they are all
    tallies and the key one encoded column (code_grouping), else in polars."""

    keys: list[str]
    aggregations: list[Aggregation]


@dataclass
class Plan:
    """The lazy frames a query needs, the columns they read and how to finish the result.

    With `grouped`, the finisher's first frame is that aggregation (sorted by its keys, nulls
    last) and `frames` follow it."""

    frames: list[pl.LazyFrame]
    finish: Finish
    # The engine of each frame, streaming when not given. Selections in groups (medians,
    # quantiles) run several times faster on polars' in-memory engine; everything else
    # (aggregations, top-k, hashing, distinct counts) on its streaming engine.
    engines: list[Engine] | None = None
    grouped: Grouped | None = None

    def frame_engines(self) -> list[Engine]:
        return self.engines or ["streaming"] * len(self.frames)


def batch_frames(plans: Sequence[Plan], base: pl.DataFrame) -> list[list[pl.LazyFrame]]:
    """Each plan's frames, its grouped aggregation first, with one grouping per set of keys
    for the whole batch: each plan's aggregation is a selection of the shared one, which
    `collect_all` computes once (a bar chart, a box plot and a filter's options by the same
    category group the rows once instead of three times)."""
    members: dict[tuple[str, ...], dict[int, Grouped]] = {}
    for index, plan in enumerate(plans):
        if plan.grouped is not None:
            members.setdefault(tuple(plan.grouped.keys), {})[index] = plan.grouped
    derived: dict[int, pl.LazyFrame] = {}
    for keys, requests in members.items():
        names = {i: [output_name(a) for a in g.aggregations] for i, g in requests.items()}
        shared = [
            renamed(aggregation, f"{i}:{name}")
            for i, grouped in requests.items()
            for aggregation, name in zip(grouped.aggregations, names[i], strict=True)
        ]
        together = _shared_grouping(base, list(keys), shared)
        for i in requests:
            derived[i] = together.select(*keys, *(pl.col(f"{i}:{n}").alias(n) for n in names[i]))
    return [
        ([derived[index]] if index in derived else []) + plan.frames
        for index, plan in enumerate(plans)
    ]


def output_name(aggregation: Aggregation) -> str:
    return aggregation.name if isinstance(aggregation, Tally) else aggregation.meta.output_name()


def renamed(aggregation: Aggregation, name: str) -> Aggregation:
    return aggregation.named(name) if isinstance(aggregation, Tally) else aggregation.alias(name)


def as_exprs(aggregations: Sequence[Aggregation]) -> list[pl.Expr]:
    return [a.expr() if isinstance(a, Tally) else a for a in aggregations]


def _shared_grouping(
    base: pl.DataFrame, keys: list[str], aggregations: list[Aggregation]
) -> pl.LazyFrame:
    """The aggregations per group of `keys`: counted by code when it can, else by polars."""
    tallies = [a for a in aggregations if isinstance(a, Tally)]
    if len(keys) == 1 and len(tallies) == len(aggregations):
        counted = group_by_code(base, keys[0], tallies)
        if counted is not None:
            return counted.lazy()
    return _grouped(base.lazy(), keys, as_exprs(aggregations))


def bounded(value: int, default: int, maximum: int, where: str) -> int:
    """`value`, or `default` when 0; InvalidArgument outside 1..maximum."""
    if value == 0:
        return default
    if not 1 <= value <= maximum:
        raise InvalidArgument(f"{where}: expected 1–{maximum} (0 for {default}), got {value}")
    return value


def query_columns(query: data_pb2.ComponentQuery, schema: Mapping[str, pl.DataType]) -> set[str]:
    """The columns a query reads (all of them where it returns whole rows by default)."""
    kind = query.WhichOneof("kind")
    if kind is None:
        return set()
    body: Any = getattr(query, kind)
    if kind == "aggregate":
        return {*body.columns, *body.group_by}
    if kind in ("histogram", "distinct"):
        return {body.column}
    if kind == "box":
        return {body.column, *body.group_by}
    if kind == "top_n":
        return {body.column, *(body.columns or schema)}
    if kind == "rows":
        return {*(body.columns or schema), *(key.column for key in body.sort)}
    return set(body.columns or schema)  # sample


def check_columns(names: Sequence[str], schema: Mapping[str, pl.DataType], where: str) -> None:
    """InvalidArgument for the first name that is not a column of the table."""
    for name in names:
        if name not in schema:
            raise InvalidArgument(
                f"{where}: unknown column {name!r}; the table has {', '.join(sorted(schema))}"
            )


def check_distinct(names: Sequence[str], where: str) -> None:
    """InvalidArgument for the first name listed more than once (a result holds each column
    once)."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidArgument(f"{where}: column {name!r} is listed more than once")
        seen.add(name)


def _numeric(name: str, schema: Mapping[str, pl.DataType], where: str) -> None:
    dtype = schema[name]
    if not (dtype.is_numeric() or dtype == pl.Boolean):
        raise InvalidArgument(f"{where}: column {name!r} is {dtype}; a numeric column is needed")


def _ordered(name: str, schema: Mapping[str, pl.DataType], where: str) -> None:
    dtype = schema[name]
    if dtype.is_nested():
        raise InvalidArgument(
            f"{where}: column {name!r} is {dtype}; min and max need numbers, text, dates or times"
        )


# Aggregations answered as tallies (code_grouping.Tally), with their kind.
TALLIES: dict[int, TallyKind] = {
    data_pb2.AGGREGATION_COUNT: "count",
    data_pb2.AGGREGATION_SUM: "sum",
    data_pb2.AGGREGATION_MEAN: "mean",
    data_pb2.AGGREGATION_MIN: "min",
    data_pb2.AGGREGATION_MAX: "max",
}
NUMERIC_AGGREGATIONS = {
    data_pb2.AGGREGATION_SUM,
    data_pb2.AGGREGATION_MEAN,
    data_pb2.AGGREGATION_MEDIAN,
    data_pb2.AGGREGATION_STD,
    data_pb2.AGGREGATION_VAR,
    data_pb2.AGGREGATION_QUANTILES,
}


def label_of(aggregation: data_pb2.Aggregation.ValueType) -> str:
    """How result columns name an aggregation: `mean` in `mean(depth)` (a number the enum does
    not name: the number)."""
    if aggregation not in data_pb2.Aggregation.values():
        return str(aggregation)
    return data_pb2.Aggregation.Name(aggregation).removeprefix("AGGREGATION_").lower()


# The most quantiles one aggregate query asks for (each costs a selection per column and
# group: 50,000 took data_svc 50 s for a 440 KB request).
MAX_QUANTILES = 100


def _aggregation_exprs(
    name: str,
    aggregation: data_pb2.Aggregation.ValueType,
    quantiles: Sequence[float],
    ungrouped: Batch | None,
    where: str,
) -> list[pl.Expr]:
    """The aggregation of column `name`, per group (`ungrouped` None) or of the whole batch."""
    label = label_of(aggregation)
    column = pl.col(name)
    as_float = column.cast(pl.Float64)
    if aggregation in (data_pb2.AGGREGATION_QUANTILES, data_pb2.AGGREGATION_MEDIAN):
        median = aggregation == data_pb2.AGGREGATION_MEDIAN
        wanted = [0.5] if median else list(quantiles)
        if len(wanted) > MAX_QUANTILES:
            raise InvalidArgument(
                f"{where}.quantiles: at most {MAX_QUANTILES} quantiles, got {len(wanted)}"
            )
        if not wanted or any(not 0 <= q <= 1 for q in wanted):
            raise InvalidArgument(f"{where}.quantiles: expected values in [0, 1], got {quantiles}")
        selected = ungrouped.selections.select(name, wanted) if ungrouped else None
        names = [f"median({name})"] if median else [f"quantile({name}, {q!r})" for q in wanted]
        exprs = quantile_exprs(wanted, as_float, selected)
        return [expr.alias(n) for expr, n in zip(exprs, names, strict=True)]
    if (
        aggregation == data_pb2.AGGREGATION_NUNIQUE
        and ungrouped is not None
        and is_encoded(ungrouped.base.schema[name])
    ):
        values = ungrouped.base.get_column(name)
        return [pl.lit(distinct_codes(values), dtype=pl.Int64).alias(f"{label}({name})")]
    expressions: dict[int, pl.Expr] = {
        data_pb2.AGGREGATION_STD: as_float.std(ddof=1),
        data_pb2.AGGREGATION_VAR: as_float.var(ddof=1),
        data_pb2.AGGREGATION_NUNIQUE: column.drop_nulls().n_unique().cast(pl.Int64),
        data_pb2.AGGREGATION_MODE: column.drop_nulls().mode().sort().first(),
    }
    if aggregation not in expressions:
        raise InvalidArgument(f"{where}.aggregations: expected an aggregation, got {aggregation}")
    return [expressions[aggregation].alias(f"{label}({name})")]


def distinct_codes(values: pl.Series) -> int:
    """The distinct non-null values of an encoded column, counted by code: marking each code
    seen is several times faster than hashing every code."""
    codes = values.to_physical().drop_nulls()
    largest = codes.max()
    if not isinstance(largest, int):
        return 0
    return kernels.distinct_codes(codes.to_numpy(), largest + 1)


def first_rows(limit: int) -> Finish:
    """A finisher keeping `limit` rows of a frame planned with one more (to tell truncation)."""

    def finish(frames: list[pl.DataFrame], _: int) -> Outcome:
        return Outcome(frames[0].head(limit), truncated=frames[0].height > limit)

    return finish


def _grouped(base: pl.LazyFrame, keys: Sequence[str], exprs: list[pl.Expr]) -> pl.LazyFrame:
    if not keys:
        return base.select(exprs)
    return base.group_by(list(keys)).agg(exprs).sort(list(keys), nulls_last=True)


def plan_aggregate(body: data_pb2.AggregateQuery, batch: Batch, where: str) -> Plan:
    """Aggregations of columns, optionally grouped."""
    check_columns([*body.columns, *body.group_by], batch.schema, where)
    check_distinct(body.group_by, f"{where}.group_by")
    if not body.aggregations:
        raise InvalidArgument(f"{where}.aggregations: at least one aggregation is needed")
    aggregations: list[Aggregation] = []
    if not body.columns:
        if list(body.aggregations) != [data_pb2.AGGREGATION_COUNT]:
            raise InvalidArgument(f"{where}.columns: only COUNT works without columns")
        aggregations.append(Tally("len", None, "count(*)"))
    for name in body.columns:
        ungrouped = None if body.group_by else batch
        for aggregation in body.aggregations:
            if aggregation in NUMERIC_AGGREGATIONS:
                _numeric(name, batch.schema, where)
            if aggregation in (data_pb2.AGGREGATION_MIN, data_pb2.AGGREGATION_MAX):
                _ordered(name, batch.schema, where)
            if aggregation in TALLIES:
                kind = TALLIES[aggregation]
                dtype = batch.schema[name]
                # Integers and booleans are summed in 64 bits, whatever their width.
                widened = kind == "sum" and (dtype.is_integer() or dtype == pl.Boolean)
                label = f"{label_of(aggregation)}({name})"
                aggregations.append(Tally(kind, name, label, as_int=widened))
                continue
            aggregations += _aggregation_exprs(name, aggregation, body.quantiles, ungrouped, where)
    exprs = as_exprs(aggregations)
    names = [expr.meta.output_name() for expr in exprs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InvalidArgument(f"{where}: {', '.join(repeated)} asked for more than once")
    # A result has one column per grouping column and per aggregation: names must not meet.
    clashing = sorted(set(names) & set(body.group_by))
    if clashing:
        raise InvalidArgument(
            f"{where}.group_by: {', '.join(map(repr, clashing))} is also the name of an "
            "aggregation's result column; group by another column or rename it"
        )
    selects = {data_pb2.AGGREGATION_MEDIAN, data_pb2.AGGREGATION_QUANTILES} & set(body.aggregations)
    keys = list(body.group_by)
    counted = _counted_selections(body, batch.base) if selects and keys else None
    if not keys:
        return Plan([batch.base.lazy().select(exprs)], lambda frames, _: Outcome(frames[0]))
    if counted is None and selects:
        # Selections in groups: on polars' in-memory engine, apart from the batch's groupings.
        return Plan(
            [_grouped(batch.base.lazy(), keys, exprs)],
            lambda frames, _: Outcome(frames[0]),
            ["in-memory"],
        )
    if counted is None:
        return Plan([], lambda frames, _: Outcome(frames[0]), grouped=Grouped(keys, aggregations))
    # Grouped medians and quantiles counted in buckets (group_selection), joined to the rest.
    selected = {name for _, quantile_names in counted for name in quantile_names}
    rest = [a for a in aggregations if output_name(a) not in selected]

    def finish(frames: list[pl.DataFrame], _: int) -> Outcome:
        stats = frames[0]
        for frame, quantile_names in counted:
            stats = join_selected(stats, keys, frame, quantile_names)
        return Outcome(stats.select([*keys, *names]))

    return Plan([], finish, grouped=Grouped(keys, rest))


def _counted_selections(
    body: data_pb2.AggregateQuery, base: pl.DataFrame
) -> list[tuple[pl.DataFrame, list[str]]] | None:
    """Per column, its grouped median and quantiles counted in buckets with their result
    names; None when any cannot be (polars then selects them all)."""
    counted = []
    for name in body.columns:
        wanted: dict[str, float] = {}
        if data_pb2.AGGREGATION_MEDIAN in body.aggregations:
            wanted[f"median({name})"] = 0.5
        if data_pb2.AGGREGATION_QUANTILES in body.aggregations:
            wanted |= {f"quantile({name}, {q!r})": q for q in body.quantiles}
        frame = select_by_group(base, body.group_by, name, list(wanted.values()))
        if frame is None:
            return None
        counted.append((frame, list(wanted)))
    return counted


def plan_histogram(body: data_pb2.HistogramQuery, batch: Batch, where: str) -> Plan:
    """Equal-width bins between min and max, as numpy.histogram assigns them."""
    check_columns([body.column], batch.schema, where)
    _numeric(body.column, batch.schema, where)
    bins = bounded(body.bins, 20, 1000, f"{where}.bins")
    values = batch.base.get_column(body.column).cast(pl.Float64).drop_nulls().to_numpy()
    finite, low, high = kernels.finite_range(values)
    if finite == 0:
        empty = {"bin_start": pl.Float64, "bin_end": pl.Float64, "count": pl.Int64}
        return Plan([], lambda frames, _: Outcome(pl.DataFrame(schema=empty)))
    # numpy's edges (equal-width bins between min and max, widened by 0.5 each side for a
    # single value), and numpy's binning in one pass over the values (kernels.histogram).
    try:
        edges = np.histogram_bin_edges(np.array([low, high]), bins=bins)
        counts = kernels.histogram(values, edges)
    except ValueError:
        # Bins without a width as float64 (numpy refuses): the values of a large integer or
        # timestamp column all alike, or a few units apart, or a span past the largest float.
        # One bin holds them all.
        edges, counts = np.array([low, high]), np.array([finite])
    table = pl.DataFrame({"bin_start": edges[:-1], "bin_end": edges[1:], "count": counts})
    return Plan([], lambda frames, _: Outcome(table))


QUARTILES = [0.25, 0.5, 0.75]
QUARTILE_NAMES = ["q1", "median", "q3"]
BOX_COLUMNS = [
    "count", "min", "q1", "median", "q3", "max", "lower_whisker", "upper_whisker", "mean"
]  # fmt: skip


# The fences of a box (1.5 IQR beyond its quartiles) and the extreme values within them.
LOW, HIGH = internal_name("low"), internal_name("high")
LOWER, UPPER = internal_name("lower"), internal_name("upper")
VALUE = internal_name("value")


def plan_box(body: data_pb2.BoxQuery, batch: Batch, where: str) -> Plan:
    """Quartiles, whiskers, mean and count, optionally grouped."""
    check_columns([body.column, *body.group_by], batch.schema, where)
    check_distinct(body.group_by, f"{where}.group_by")
    _numeric(body.column, batch.schema, where)
    for key in body.group_by:
        if key in BOX_COLUMNS:
            raise InvalidArgument(
                f"{where}.group_by: column {key!r} cannot group a box: a box's result names "
                f"its statistics {', '.join(BOX_COLUMNS)}"
            )
    keys = list(body.group_by)
    v = pl.col(body.column).cast(pl.Float64)
    tallies: list[Aggregation] = [
        Tally(kind, body.column, kind, as_float=True) for kind in ("count", "min", "max", "mean")
    ]
    exprs = as_exprs(tallies)
    # Grouped quartiles counted in buckets when the key allows (group_selection), else
    # selected by polars group by group.
    counted = select_by_group(batch.base, keys, body.column, QUARTILES) if keys else None

    def finish(frames: list[pl.DataFrame], _: int) -> Outcome:
        iqr = pl.col("q3") - pl.col("q1")
        stats = frames[0]
        if counted is not None:
            stats = join_selected(stats, keys, counted, QUARTILE_NAMES)
        elif keys:
            stats = stats.join(
                frames[1], on=keys, how="left", nulls_equal=True, maintain_order="left"
            )
        stats = stats.with_columns(
            (pl.col("q1") - 1.5 * iqr).alias(LOW), (pl.col("q3") + 1.5 * iqr).alias(HIGH)
        ).with_columns(lower_whisker=pl.col("min"), upper_whisker=pl.col("max"))
        # A whisker is the extreme value within 1.5 IQR of the box: the min/max themselves
        # unless a group has outliers, and only those groups need a second look at the rows.
        outlying = stats.filter((pl.col("min") < pl.col(LOW)) | (pl.col("max") > pl.col(HIGH)))
        if outlying.height:
            stats = _with_outlier_whiskers(batch.base.lazy(), stats, outlying, keys, v)
        return Outcome(stats.select([*keys, *BOX_COLUMNS]))

    selected = None if keys else batch.selections.select(body.column, QUARTILES)
    quartiles = [
        expr.alias(name)
        for expr, name in zip(quantile_exprs(QUARTILES, v, selected), QUARTILE_NAMES, strict=True)
    ]
    if not keys:
        # Ungrouped quartiles are constants, selected already.
        return Plan([batch.base.lazy().select([*exprs, *quartiles])], finish)
    if counted is not None:
        return Plan([], finish, grouped=Grouped(keys, tallies))
    # Quartiles selected by polars, on its in-memory engine, after the batch's grouping.
    return Plan(
        [_grouped(batch.base.lazy(), keys, quartiles)],
        finish,
        ["in-memory"],
        Grouped(keys, tallies),
    )


def _with_outlier_whiskers(
    base: pl.LazyFrame, stats: pl.DataFrame, outlying: pl.DataFrame, keys: list[str], v: pl.Expr
) -> pl.DataFrame:
    """`stats` with the whiskers of the `outlying` groups computed from the rows."""
    fences = outlying.select([*keys, LOW, HIGH]).lazy()
    values = base.select(*keys, v.alias(VALUE))
    rows = (
        values.join(fences, on=keys, nulls_equal=True) if keys else values.join(fences, how="cross")
    )
    # Values outside the fences masked to null, then plain min/max: a grouped aggregation
    # the streaming engine runs in one pass (a filter inside the aggregation runs per group).
    value = pl.col(VALUE)
    inside = rows.select(
        *keys,
        pl.when(value >= pl.col(LOW)).then(value).alias(LOWER),
        pl.when(value <= pl.col(HIGH)).then(value).alias(UPPER),
    )
    whiskers = _grouped(inside, keys, [pl.col(LOWER).min(), pl.col(UPPER).max()]).collect(
        engine="streaming"
    )
    if not keys:
        return stats.with_columns(
            lower_whisker=pl.lit(whiskers[LOWER][0]), upper_whisker=pl.lit(whiskers[UPPER][0])
        )
    merged = stats.join(whiskers, on=keys, how="left", nulls_equal=True, maintain_order="left")
    return merged.with_columns(
        lower_whisker=pl.coalesce(LOWER, "lower_whisker"),
        upper_whisker=pl.coalesce(UPPER, "upper_whisker"),
    )


COUNT = internal_name("count")


def plan_distinct(body: data_pb2.DistinctQuery, batch: Batch, where: str) -> Plan:
    """Distinct non-null values by count."""
    check_columns([body.column], batch.schema, where)
    limit = bounded(body.limit, 1000, 100_000, f"{where}.limit")
    keep = first_rows(limit)

    def finish(frames: list[pl.DataFrame], total: int) -> Outcome:
        counted = (
            frames[0]
            .select(pl.col(body.column).alias("value"), pl.col(COUNT).alias("count"))
            .drop_nulls("value")
            .sort(["count", "value"], descending=[True, False])
            .head(limit + 1)
        )
        return keep([counted], total)

    # Counted under a name of its own: the column may be called "count".
    return Plan([], finish, grouped=Grouped([body.column], [Tally("len", None, COUNT)]))


def plan_top_n(body: data_pb2.TopNQuery, batch: Batch, where: str) -> Plan:
    """The n rows with the extreme values of a column."""
    columns = list(body.columns) or list(batch.schema)
    check_columns([body.column, *columns], batch.schema, where)
    check_distinct(columns, f"{where}.columns")
    n = bounded(body.n, 10, 10_000, f"{where}.n")
    descending = is_descending(body.order, f"{where}.order", default=True)
    read = batch.base.select(list(dict.fromkeys([body.column, *columns])))
    ranked = (
        leading_rows(read, body.column, descending, n + 1)
        .lazy()
        .filter(pl.col(body.column).is_not_null())
        .sort(body.column, descending=descending, maintain_order=True)
        .head(n + 1)
        .select(columns)
    )

    return Plan([ranked], first_rows(n))


def plan_rows(body: data_pb2.RowsQuery, batch: Batch, where: str) -> Plan:
    """A sorted page of rows."""
    columns = list(body.columns) or list(batch.schema)
    check_columns([*columns, *(key.column for key in body.sort)], batch.schema, where)
    check_distinct(columns, f"{where}.columns")
    limit = bounded(body.limit, 100, 10_000, f"{where}.limit")
    if body.offset < 0:
        raise InvalidArgument(f"{where}.offset: expected ≥ 0, got {body.offset}")
    rows = batch.base.select(list(dict.fromkeys([*columns, *(key.column for key in body.sort)])))
    if body.sort:
        first = body.sort[0]
        descending = is_descending(first.order, f"{where}.sort[0].order")
        rows = leading_rows(rows, first.column, descending, body.offset + limit)
    sorted_rows = sort_frame(rows.lazy(), body.sort, f"{where}.sort")
    page = sorted_rows.slice(body.offset, limit).select(columns)

    def finish(frames: list[pl.DataFrame], total: int) -> Outcome:
        return Outcome(frames[0], truncated=body.offset + limit < total)

    return Plan([page], finish)


def plan_sample(body: data_pb2.SampleQuery, batch: Batch, where: str) -> Plan:
    """At most max_points rows, a reproducible uniform sample when there are more."""
    columns = list(body.columns) or list(batch.schema)
    check_columns(columns, batch.schema, where)
    check_distinct(columns, f"{where}.columns")
    limit = bounded(body.max_points, 10_000, 100_000, f"{where}.max_points")
    rows = batch.base.select(columns)
    if rows.height > limit:
        # `limit` distinct positions drawn by a seeded generator: a reproducible uniform
        # sample, gathered in table order.
        positions = np.random.default_rng(SAMPLE_SEED).choice(rows.height, limit, replace=False)
        rows = rows[np.sort(positions)]
    sample = rows.lazy()

    def finish(frames: list[pl.DataFrame], total: int) -> Outcome:
        return Outcome(frames[0], sampled=total > limit)

    return Plan([sample], finish)


def is_descending(order: int, where: str, default: bool = False) -> bool:
    """Whether a SortOrder asks for descending order (unset: `default`); InvalidArgument for
    a value the enum does not have (it sorted one way or the other, silently)."""
    if order == data_pb2.SORT_ORDER_UNSPECIFIED:
        return default
    if order not in (data_pb2.SORT_ORDER_ASCENDING, data_pb2.SORT_ORDER_DESCENDING):
        raise InvalidArgument(
            f"{where}: unknown sort order {order}; expected ASCENDING or DESCENDING"
        )
    return order == data_pb2.SORT_ORDER_DESCENDING


def sort_frame(
    frame: pl.LazyFrame, keys: Sequence[data_pb2.SortKey], where: str = "sort"
) -> pl.LazyFrame:
    """`frame` sorted by the keys (stable, nulls last)."""
    if not keys:
        return frame
    return frame.sort(
        [key.column for key in keys],
        descending=[is_descending(key.order, f"{where}[{i}].order") for i, key in enumerate(keys)],
        nulls_last=True,
        maintain_order=True,
    )


PLANNERS = {
    "aggregate": plan_aggregate,
    "histogram": plan_histogram,
    "box": plan_box,
    "distinct": plan_distinct,
    "top_n": plan_top_n,
    "rows": plan_rows,
    "sample": plan_sample,
}


def ungrouped_quantiles(queries: Iterable[data_pb2.ComponentQuery]) -> dict[str, set[float]]:
    """The quantiles that the batch's ungrouped queries want of each column (medians and
    quartiles included), to select each column's once (SharedSelections)."""
    wanted: dict[str, set[float]] = defaultdict(set)
    for query in queries:
        kind = query.WhichOneof("kind")
        if kind == "box" and not query.box.group_by:
            wanted[query.box.column] |= set(QUARTILES)
        if kind != "aggregate" or query.aggregate.group_by:
            continue
        body = query.aggregate
        asked = set()
        if data_pb2.AGGREGATION_MEDIAN in body.aggregations:
            asked.add(0.5)
        # More quantiles than a query may ask for are refused when it is planned.
        if data_pb2.AGGREGATION_QUANTILES in body.aggregations and (
            len(body.quantiles) <= MAX_QUANTILES
        ):
            asked |= {q for q in body.quantiles if 0 <= q <= 1}
        for name in body.columns:
            wanted[name] |= asked
    return dict(wanted)


@dataclass
class Batch:
    """What every query of a batch plans from: the filtered rows `base`, the table's logical
    `schema` (encoded columns as strings, as error messages name them), and the batch's
    ungrouped quantile selections."""

    base: pl.DataFrame
    schema: Mapping[str, pl.DataType]
    selections: SharedSelections


def plan_query(query: data_pb2.ComponentQuery, batch: Batch, where: str) -> Plan:
    """The plan answering one component query over the batch's filtered rows."""
    kind = query.WhichOneof("kind")
    if kind is None:
        raise InvalidArgument(f"{where}: the query has no kind (aggregate, histogram, …)")
    planner = PLANNERS[kind]
    return planner(getattr(query, kind), batch, f"{where}.{kind}")  # type: ignore[operator]
