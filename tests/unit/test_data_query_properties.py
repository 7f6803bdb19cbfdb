"""Every query kind equals an independent pandas/numpy computation on random tables/filters."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from data_svc import code_grouping
from data_svc.encoding import encoded
from data_svc.query_engine import run_batch
from depictio.arrow_ipc import ipc_to_table
from depictio.errors import InvalidArgument
from depictio.filters import python_to_value
from depictio.v1 import common_pb2, data_pb2

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GROUPS = ["a", "b", "ab", "c"]

ints = st.one_of(st.none(), st.integers(-50, 50))
floats = st.one_of(st.none(), st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False))
strings = st.one_of(st.none(), st.sampled_from(GROUPS))


@st.composite
def tables(draw: st.DrawFn) -> pd.DataFrame:
    """A table of 0–40 rows: g (string), i (int), f (float), each with nulls."""
    n = draw(st.integers(0, 40))
    return pd.DataFrame(
        {
            "g": draw(st.lists(strings, min_size=n, max_size=n)),
            "i": draw(st.lists(ints, min_size=n, max_size=n)),
            "f": draw(st.lists(floats, min_size=n, max_size=n)),
        }
    ).astype({"i": "float64", "f": "float64", "g": "object"})


@pytest.fixture(scope="module", params=["as stored", "encoded", "encoded, counted by code"])
def held(request: pytest.FixtureRequest) -> Iterator[str]:
    """How data_svc holds the table: as storage gives it, or as a hot table with its string
    column dictionary-encoded (data_svc.encoding) — grouped by it in polars (these tables
    are small), or counted by code (code_grouping) as large tables are."""
    with pytest.MonkeyPatch.context() as patch:
        if request.param == "encoded, counted by code":
            patch.setattr(code_grouping, "MIN_ROWS", 0)
        yield str(request.param)


def polars_frame(frame: pd.DataFrame, held: str = "as stored") -> pl.LazyFrame:
    """The same table in polars (pandas holds missing numbers as NaN; polars as null)."""
    lazy = pl.DataFrame(
        {
            "g": pl.Series([None if pd.isna(v) else v for v in frame["g"]], dtype=pl.String),
            "i": pl.Series([None if pd.isna(v) else int(v) for v in frame["i"]], dtype=pl.Int64),
            "f": pl.Series([None if pd.isna(v) else v for v in frame["f"]], dtype=pl.Float64),
        }
    ).lazy()
    return lazy if held == "as stored" else encoded(lazy, ["g"])


def leaf(column: str, **op: Any) -> common_pb2.Filter:
    return common_pb2.Filter(column=common_pb2.ColumnPredicate(column=column, **op))


def values(items: list[Any]) -> common_pb2.ValueList:
    return common_pb2.ValueList(values=[python_to_value(v) for v in items])


@st.composite
def leaves(draw: st.DrawFn) -> common_pb2.Filter:
    kind = draw(st.sampled_from(["in", "not_in", "range", "equals", "null", "text"]))
    if kind in ("in", "not_in"):
        column = draw(st.sampled_from(["g", "i"]))
        pool = st.sampled_from(GROUPS) if column == "g" else st.integers(-50, 50)
        listed = values(draw(st.lists(pool, max_size=4)))
        return leaf(column, **{"in_values" if kind == "in" else "not_in_values": listed})
    if kind == "range":
        column = draw(st.sampled_from(["i", "f"]))
        bound = st.one_of(st.none(), st.integers(-60, 60))
        low, high = draw(bound), draw(bound)
        limits = common_pb2.Range()
        if low is not None:
            limits.min.CopyFrom(python_to_value(low))
        if high is not None:
            limits.max.CopyFrom(python_to_value(high))
        return leaf(column, range=limits)
    if kind == "equals":
        column = draw(st.sampled_from(["g", "i"]))
        value = draw(st.sampled_from(GROUPS) if column == "g" else st.integers(-50, 50))
        return leaf(column, equals=python_to_value(value))
    if kind == "null":
        return leaf(draw(st.sampled_from(["g", "i", "f"])), is_null=draw(st.booleans()))
    op = draw(st.sampled_from(["contains", "contains_any_case", "starts_with"]))
    return leaf("g", **{op: draw(st.sampled_from(["a", "b", "x", "", "A", "Ab", "."]))})


filters = st.recursive(
    leaves(),
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(
            lambda fs: common_pb2.Filter(all_of=common_pb2.FilterList(filters=fs))
        ),
        st.lists(children, max_size=3).map(
            lambda fs: common_pb2.Filter(any_of=common_pb2.FilterList(filters=fs))
        ),
        children.map(lambda f: common_pb2.Filter(negate=f)),
    ),
    max_leaves=5,
)


def expected_mask(frame: pd.DataFrame, node: common_pb2.Filter) -> pd.Series:
    """The rows a filter keeps, evaluated by pandas (leaves never keep a null)."""
    kind = node.WhichOneof("kind")
    if kind == "all_of":
        masks = [expected_mask(frame, child) for child in node.all_of.filters]
        return pd.concat(masks, axis=1).all(axis=1) if masks else pd.Series(True, frame.index)
    if kind == "any_of":
        masks = [expected_mask(frame, child) for child in node.any_of.filters]
        return pd.concat(masks, axis=1).any(axis=1) if masks else pd.Series(False, frame.index)
    if kind == "negate":
        return ~expected_mask(frame, node.negate)
    predicate = node.column
    column = frame[predicate.column]
    present = column.notna()
    op = predicate.WhichOneof("op")
    if op == "is_null":
        return ~present if predicate.is_null else present
    if op in ("in_values", "not_in_values"):
        members = {
            v.WhichOneof("kind") and getattr(v, v.WhichOneof("kind"))
            for v in getattr(predicate, op).values
        }
        inside = column.map(lambda v: v in members)
        return (inside if op == "in_values" else ~inside) & present
    if op == "range":
        keep = present.copy()
        if predicate.range.HasField("min"):
            keep &= column >= predicate.range.min.int_value
        if predicate.range.HasField("max"):
            keep &= column <= predicate.range.max.int_value
        return keep & present
    if op == "equals":
        target = predicate.equals
        return (column == getattr(target, target.WhichOneof("kind"))) & present
    text = getattr(predicate, op)
    tests = {
        "contains": lambda v: text in v,
        "contains_any_case": lambda v: text.lower() in v.lower(),
        "starts_with": lambda v: v.startswith(text),
    }
    return column.map(lambda v: isinstance(v, str) and tests[op](v)).astype(bool)


def one(
    frame: pl.LazyFrame, node: common_pb2.Filter, query: data_pb2.ComponentQuery
) -> tuple[pl.DataFrame, data_pb2.ComponentResult]:
    [result] = run_batch(frame, node, [("queries[0]", query)], 0)
    return decode(result), result


def decode(result: data_pb2.ComponentResult) -> pl.DataFrame:
    return pl.from_arrow(ipc_to_table(result.arrow_ipc))  # type: ignore[return-value]


def same(actual: Any, expected: Any) -> bool:
    """Equal scalars, treating None and NaN alike and floats approximately."""
    missing = lambda v: v is None or (isinstance(v, float) and math.isnan(v))  # noqa: E731
    if missing(actual) or missing(expected):
        return missing(actual) and missing(expected)
    if isinstance(actual, str) or isinstance(expected, str):
        return bool(actual == expected)
    return math.isclose(float(actual), float(expected), rel_tol=1e-9, abs_tol=1e-9)


AGGREGATIONS = {
    "count": lambda s: s.count(),
    "sum": lambda s: s.sum(),
    "mean": lambda s: s.mean(),
    "median": lambda s: s.median(),
    "min": lambda s: s.min(),
    "max": lambda s: s.max(),
    "std": lambda s: s.std(ddof=1),
    "var": lambda s: s.var(ddof=1),
    "nunique": lambda s: s.nunique(),
    "mode": lambda s: s.mode().sort_values().iloc[0] if s.count() else None,
}


@PROPERTY
@given(
    tables(), filters, st.booleans(), st.lists(st.floats(0, 1), min_size=1, max_size=3, unique=True)
)
def test_aggregations_match_pandas(
    held: str, frame: pd.DataFrame, node: common_pb2.Filter, grouped: bool, quantiles: list[float]
) -> None:
    aggregations = [getattr(data_pb2, f"AGGREGATION_{name.upper()}") for name in AGGREGATIONS]
    query = data_pb2.ComponentQuery(
        aggregate=data_pb2.AggregateQuery(
            columns=["i", "f"],
            aggregations=[*aggregations, data_pb2.AGGREGATION_QUANTILES],
            group_by=["g"] if grouped else [],
            quantiles=quantiles,
        )
    )
    actual, result = one(polars_frame(frame, held), node, query)
    kept = frame[expected_mask(frame, node)]
    assert result.total_rows == len(kept)
    groups = list(kept.groupby("g", dropna=False, sort=True)) if grouped else [(None, kept)]
    if grouped:
        named = sorted({g for g in kept["g"] if isinstance(g, str)})
        assert actual["g"].to_list() == named + ([None] if kept["g"].isna().any() else [])
    assert actual.height == len(groups)
    rows = actual.to_dicts()
    for (_, part), row in zip(groups, rows, strict=True):
        for column in ("i", "f"):
            series = part[column].astype(float)
            for name, compute in AGGREGATIONS.items():
                expected = compute(series)
                if name == "sum" and series.count() == 0:
                    expected = 0
                assert same(row[f"{name}({column})"], expected), (name, column, row, part)
            for q in quantiles:
                assert same(row[f"quantile({column}, {q!r})"], series.quantile(q))


@PROPERTY
@given(tables(), filters)
def test_grouped_tallies_match_pandas(
    held: str, frame: pd.DataFrame, node: common_pb2.Filter
) -> None:
    # Only counts, sums, means, least and greatest: the aggregations counted by code
    # (code_grouping) when the key is encoded and the table large.
    tallies = {"count", "sum", "mean", "min", "max"}
    query = data_pb2.ComponentQuery(
        aggregate=data_pb2.AggregateQuery(
            columns=["i", "f"],
            aggregations=[getattr(data_pb2, f"AGGREGATION_{n.upper()}") for n in sorted(tallies)],
            group_by=["g"],
        )
    )
    actual, _ = one(polars_frame(frame, held), node, query)
    kept = frame[expected_mask(frame, node)]
    groups = list(kept.groupby("g", dropna=False, sort=True))
    assert actual["g"].to_list() == [None if pd.isna(g) else g for g, _ in groups]
    for (_, part), row in zip(groups, actual.to_dicts(), strict=True):
        for column in ("i", "f"):
            series = part[column].astype(float)
            for name in tallies:
                expected = AGGREGATIONS[name](series)
                if name == "sum" and series.count() == 0:
                    expected = 0
                assert same(row[f"{name}({column})"], expected), (name, column, row, part)
    assert actual.schema["sum(i)"] == pl.Int64 and actual.schema["min(i)"] == pl.Int64


@PROPERTY
@given(tables(), filters, st.integers(1, 12))
def test_histogram_matches_numpy(
    held: str, frame: pd.DataFrame, node: common_pb2.Filter, bins: int
) -> None:
    query = data_pb2.ComponentQuery(histogram=data_pb2.HistogramQuery(column="f", bins=bins))
    actual, _ = one(polars_frame(frame, held), node, query)
    kept = frame[expected_mask(frame, node)]["f"].dropna().to_numpy(dtype=float)
    if kept.size == 0:
        assert actual.height == 0
        return
    counts, edges = np.histogram(kept, bins=bins)
    assert actual["count"].to_list() == counts.tolist()
    assert np.allclose(actual["bin_start"].to_numpy(), edges[:-1])
    assert np.allclose(actual["bin_end"].to_numpy(), edges[1:])


@PROPERTY
@given(tables(), filters, st.booleans())
def test_box_statistics_match_pandas(
    held: str, frame: pd.DataFrame, node: common_pb2.Filter, grouped: bool
) -> None:
    query = data_pb2.ComponentQuery(
        box=data_pb2.BoxQuery(column="i", group_by=["g"] if grouped else [])
    )
    actual, _ = one(polars_frame(frame, held), node, query)
    kept = frame[expected_mask(frame, node)]
    groups = list(kept.groupby("g", dropna=False, sort=True)) if grouped else [(None, kept)]
    assert actual.height == len(groups)
    for (_, part), row in zip(groups, actual.to_dicts(), strict=True):
        series = part["i"].dropna().astype(float)
        q1, q3 = series.quantile(0.25), series.quantile(0.75)
        inside_low = series[series >= q1 - 1.5 * (q3 - q1)]
        inside_high = series[series <= q3 + 1.5 * (q3 - q1)]
        expected = {
            "count": series.count(),
            "min": series.min(),
            "q1": q1,
            "median": series.median(),
            "q3": q3,
            "max": series.max(),
            "lower_whisker": inside_low.min() if len(inside_low) else None,
            "upper_whisker": inside_high.max() if len(inside_high) else None,
            "mean": series.mean(),
        }
        for key, value in expected.items():
            assert same(row[key], value), (key, row, expected)


def test_box_whiskers_include_values_exactly_on_the_fences(held: str) -> None:
    # Hand-checked: group "a" sorted is -10, -2, 4, 5, 6, 7, 8, 20, 30 — q1 = 4, q3 = 8 (ranks
    # 2 and 6 of 9), so the fences are -2 and 14: -2 is a whisker, -10, 20 and 30 outliers.
    # Group "b" has no outliers: its whiskers are its min and max.
    a = [30.0, -2.0, 5.0, 8.0, -10.0, 6.0, 20.0, 4.0, 7.0]
    b = [1.0, 2.0, 3.0]
    frame = pl.LazyFrame({"g": ["a"] * len(a) + ["b"] * len(b), "v": a + b})
    frame = frame if held == "as stored" else encoded(frame, ["g"])
    query = data_pb2.ComponentQuery(box=data_pb2.BoxQuery(column="v", group_by=["g"]))
    actual, _ = one(frame, common_pb2.Filter(), query)
    rows = actual.select("g", "q1", "q3", "lower_whisker", "upper_whisker").rows()
    assert rows == [("a", 4.0, 8.0, -2.0, 8.0), ("b", 1.5, 2.5, 1.0, 3.0)]


@pytest.mark.parametrize("names", [("low", "high"), ("high", "low"), ("lower", "upper")])
def test_box_columns_named_like_its_fences_are_read_as_columns(
    held: str, names: tuple[str, str]
) -> None:
    """Hand-checked as above: the same rows with the group and value columns named as the
    box's intermediate results once were (a value column "high" met the upper fence)."""
    key, value = names
    a = [30.0, -2.0, 5.0, 8.0, -10.0, 6.0, 20.0, 4.0, 7.0]
    b = [1.0, 2.0, 3.0]
    frame = pl.LazyFrame({key: ["a"] * len(a) + ["b"] * len(b), value: a + b})
    frame = frame if held == "as stored" else encoded(frame, [key])
    grouped = data_pb2.ComponentQuery(box=data_pb2.BoxQuery(column=value, group_by=[key]))
    actual, _ = one(frame, common_pb2.Filter(), grouped)
    rows = actual.select(key, "q1", "q3", "lower_whisker", "upper_whisker").rows()
    assert rows == [("a", 4.0, 8.0, -2.0, 8.0), ("b", 1.5, 2.5, 1.0, 3.0)]
    only_a = pl.LazyFrame({value: a})
    ungrouped = data_pb2.ComponentQuery(box=data_pb2.BoxQuery(column=value))
    actual, _ = one(only_a, common_pb2.Filter(), ungrouped)
    assert actual.select("lower_whisker", "upper_whisker").rows() == [(-2.0, 8.0)]


@pytest.mark.parametrize("aggregation", [data_pb2.AGGREGATION_MIN, data_pb2.AGGREGATION_MAX])
@pytest.mark.parametrize("group_by", [[], ["g"]])
def test_min_and_max_of_a_nested_column_are_refused(aggregation: Any, group_by: list[str]) -> None:
    frame = pl.LazyFrame({"g": ["a", "b"], "l": [[1, 2], [3]], "s": [{"k": 1}, {"k": 2}]})
    for column in ("l", "s"):
        aggregate = data_pb2.AggregateQuery(
            columns=[column], aggregations=[aggregation], group_by=group_by
        )
        query = data_pb2.ComponentQuery(aggregate=aggregate)
        with pytest.raises(InvalidArgument, match=f"column '{column}' is .*min and max need"):
            one(frame, common_pb2.Filter(), query)


@pytest.mark.parametrize("group_by", [[], ["g"]])
def test_sums_of_integers_and_booleans_are_int64(held: str, group_by: list[str]) -> None:
    """An int32 column's sum past 2^31 overflowed in int32 (a negative total)."""
    frame = pl.LazyFrame(
        {
            "g": ["a", "a", "b"],
            "i32": pl.Series([2_000_000_000, 2_000_000_000, 1], dtype=pl.Int32),
            "i8": pl.Series([100, 100, 1], dtype=pl.Int8),
            "b": [True, True, False],
            "f32": pl.Series([0.5, 0.25, 1.0], dtype=pl.Float32),
        }
    )
    frame = frame if held == "as stored" else encoded(frame, ["g"])
    columns = ["i32", "i8", "b", "f32"]
    aggregate = data_pb2.AggregateQuery(
        columns=columns, aggregations=[data_pb2.AGGREGATION_SUM], group_by=group_by
    )
    actual, _ = one(frame, common_pb2.Filter(), data_pb2.ComponentQuery(aggregate=aggregate))
    expected = pd.DataFrame(
        {"g": ["a", "a", "b"], "i32": [2_000_000_000] * 2 + [1], "i8": [100, 100, 1]}
    ).assign(b=[1, 1, 0], f32=[0.5, 0.25, 1.0])
    sums = expected.groupby("g").sum() if group_by else expected[columns].sum().to_frame().T
    assert [actual.schema[f"sum({c})"] for c in columns] == [pl.Int64] * 3 + [pl.Float32]
    for column in columns:
        assert actual[f"sum({column})"].to_list() == sums[column].tolist(), column


def test_a_box_grouped_by_a_column_named_like_a_statistic_is_refused() -> None:
    frame = pl.LazyFrame({"mean": ["a", "b"], "v": [1.0, 2.0]})
    query = data_pb2.ComponentQuery(box=data_pb2.BoxQuery(column="v", group_by=["mean"]))
    with pytest.raises(InvalidArgument, match="column 'mean' cannot group a box"):
        one(frame, common_pb2.Filter(), query)


@pytest.mark.parametrize(
    ("columns", "aggregation", "key"),
    [(["x"], data_pb2.AGGREGATION_MEAN, "mean(x)"), ([], data_pb2.AGGREGATION_COUNT, "count(*)")],
)
def test_grouping_by_a_column_named_like_an_aggregation_result_is_refused(
    columns: list[str], aggregation: Any, key: str
) -> None:
    """The result would have two columns of that name (polars refused: INTERNAL)."""
    frame = pl.LazyFrame({key: ["a", "a", "b"], "x": [1.0, 2.0, 3.0]})
    aggregate = data_pb2.AggregateQuery(columns=columns, aggregations=[aggregation], group_by=[key])
    with pytest.raises(InvalidArgument, match=r"group_by: '.*' is also the name of an agg"):
        one(frame, common_pb2.Filter(), data_pb2.ComponentQuery(aggregate=aggregate))


@pytest.mark.parametrize("column", ["count", "value"])
def test_distinct_values_of_a_column_named_count_or_value(held: str, column: str) -> None:
    values = ["x", "y", "x", None, "x", "y", "z"]
    frame = pl.LazyFrame({column: values, "other": list(range(len(values)))})
    frame = frame if held == "as stored" else encoded(frame, [column])
    query = data_pb2.ComponentQuery(distinct=data_pb2.DistinctQuery(column=column))
    actual, _ = one(frame, common_pb2.Filter(), query)
    assert actual.columns == ["value", "count"]
    assert actual.rows() == [("x", 3), ("y", 2), ("z", 1)]


@PROPERTY
@given(tables(), filters, st.integers(1, 5))
def test_distinct_values_match_pandas(
    held: str, frame: pd.DataFrame, node: common_pb2.Filter, limit: int
) -> None:
    query = data_pb2.ComponentQuery(distinct=data_pb2.DistinctQuery(column="g", limit=limit))
    actual, result = one(polars_frame(frame, held), node, query)
    counts = frame[expected_mask(frame, node)]["g"].dropna().value_counts()
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    assert actual.rows() == ordered[:limit]
    assert result.truncated == (len(ordered) > limit)


@PROPERTY
@given(tables(), filters, st.integers(1, 8), st.booleans())
def test_top_n_matches_pandas(
    held: str, frame: pd.DataFrame, node: common_pb2.Filter, n: int, largest: bool
) -> None:
    order = data_pb2.SORT_ORDER_DESCENDING if largest else data_pb2.SORT_ORDER_ASCENDING
    query = data_pb2.ComponentQuery(
        top_n=data_pb2.TopNQuery(column="f", n=n, order=order, columns=["f", "g"])
    )
    actual, _ = one(polars_frame(frame, held), node, query)
    kept = frame[expected_mask(frame, node)]["f"].dropna()
    expected = kept.nlargest(n) if largest else kept.nsmallest(n)
    assert actual.columns == ["f", "g"]
    assert actual["f"].to_list() == expected.tolist()


@PROPERTY
@given(tables(), filters, st.integers(1, 10), st.integers(0, 15), st.booleans())
def test_rows_page_matches_pandas(
    held: str,
    frame: pd.DataFrame,
    node: common_pb2.Filter,
    limit: int,
    offset: int,
    descending: bool,
) -> None:
    order = data_pb2.SORT_ORDER_DESCENDING if descending else data_pb2.SORT_ORDER_ASCENDING
    query = data_pb2.ComponentQuery(
        rows=data_pb2.RowsQuery(
            columns=["i", "g"],
            sort=[data_pb2.SortKey(column="i", order=order)],
            limit=limit,
            offset=offset,
        )
    )
    actual, result = one(polars_frame(frame, held), node, query)
    kept = frame[expected_mask(frame, node)]
    ordered = kept.sort_values("i", ascending=not descending, na_position="last", kind="stable")
    page = ordered.iloc[offset : offset + limit]
    assert result.total_rows == len(kept)
    assert result.truncated == (offset + limit < len(kept))
    assert all(same(a, b) for a, b in zip(actual["i"].to_list(), page["i"].tolist(), strict=True))
    assert all(same(a, b) for a, b in zip(actual["g"].to_list(), page["g"].tolist(), strict=True))


@PROPERTY
@given(tables(), filters, st.integers(1, 30))
def test_sample_is_bounded_and_says_when_it_sampled(
    held: str, frame: pd.DataFrame, node: common_pb2.Filter, max_points: int
) -> None:
    frame = frame.assign(row=range(len(frame)))
    lazy = polars_frame(frame, held).with_columns(pl.int_range(pl.len()).alias("row"))
    query = data_pb2.ComponentQuery(
        sample=data_pb2.SampleQuery(columns=["row", "g"], max_points=max_points)
    )
    actual, result = one(lazy, node, query)
    kept = frame[expected_mask(frame, node)]
    assert actual.height == min(len(kept), max_points)
    assert result.sampled == (len(kept) > max_points)
    assert set(actual["row"].to_list()) <= set(kept["row"].tolist())
    assert actual["row"].to_list() == sorted(actual["row"].to_list())
    for row, group in actual.iter_rows():
        assert same(group, kept.set_index("row").loc[row, "g"])


def test_count_without_columns_and_batch_order(held: str) -> None:
    frame = pd.DataFrame({"g": ["a", "b", None], "i": [1, 2, 3], "f": [0.5, None, 1.0]})
    count = data_pb2.AggregateQuery(aggregations=[data_pb2.AGGREGATION_COUNT])
    queries = [
        ("queries[0]", data_pb2.ComponentQuery(id="n", aggregate=count)),
        (
            "queries[1]",
            data_pb2.ComponentQuery(id="d", distinct=data_pb2.DistinctQuery(column="g")),
        ),
    ]
    results = run_batch(polars_frame(frame, held), None, queries, 7)
    assert [r.id for r in results] == ["n", "d"]
    assert [r.version for r in results] == [7, 7]
    assert ipc_to_table(results[0].arrow_ipc).to_pydict() == {"count(*)": [3]}


def test_a_count_of_rows_alone_counts_the_rows(held: str) -> None:
    # A batch whose queries need no column: its plan still has the table's rows.
    frame = pd.DataFrame({"g": ["a", "b", None, "a"], "i": [1, 2, 3, 4], "f": [0.5, None, 1.0, 2]})
    count = data_pb2.AggregateQuery(aggregations=[data_pb2.AGGREGATION_COUNT])
    query = [("queries[0]", data_pb2.ComponentQuery(id="n", aggregate=count))]
    whole = run_batch(polars_frame(frame, held), None, query, 1)
    assert ipc_to_table(whole[0].arrow_ipc).to_pydict() == {"count(*)": [4]}
    node = leaf("g", equals=python_to_value("a"))
    kept = run_batch(polars_frame(frame, held), node, query, 1)
    assert ipc_to_table(kept[0].arrow_ipc).to_pydict() == {"count(*)": [2]}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (data_pb2.ComponentQuery(histogram=data_pb2.HistogramQuery(column="g")), "numeric"),
        (data_pb2.ComponentQuery(histogram=data_pb2.HistogramQuery(column="nope")), "'nope'"),
        (data_pb2.ComponentQuery(distinct=data_pb2.DistinctQuery(column="g", limit=-1)), "limit"),
        (data_pb2.ComponentQuery(), "no kind"),
        (
            data_pb2.ComponentQuery(rows=data_pb2.RowsQuery(columns=["g", "i", "g"])),
            "rows.columns: column 'g' is listed more than once",
        ),
        (
            data_pb2.ComponentQuery(sample=data_pb2.SampleQuery(columns=["i", "i"])),
            "sample.columns: column 'i' is listed more than once",
        ),
        (
            data_pb2.ComponentQuery(
                aggregate=data_pb2.AggregateQuery(
                    columns=["i"], group_by=["g", "g"], aggregations=[data_pb2.AGGREGATION_MEAN]
                )
            ),
            "aggregate.group_by: column 'g' is listed more than once",
        ),
        (
            data_pb2.ComponentQuery(box=data_pb2.BoxQuery(column="i", group_by=["g", "g"])),
            "box.group_by: column 'g' is listed more than once",
        ),
        (
            data_pb2.ComponentQuery(top_n=data_pb2.TopNQuery(column="i", columns=["f", "f"])),
            "top_n.columns: column 'f' is listed more than once",
        ),
    ],
)
def test_bad_queries_name_the_field(
    query: data_pb2.ComponentQuery, message: str, held: str
) -> None:
    from depictio.errors import InvalidArgument

    frame = pd.DataFrame({"g": ["a"], "i": [1], "f": [0.5]})
    with pytest.raises(InvalidArgument, match=message) as refused:
        run_batch(polars_frame(frame, held), None, [("queries[3]", query)], 0)
    assert "queries[3]" in refused.value.message


def test_the_first_bad_query_of_a_batch_is_the_one_named(held: str) -> None:
    # The queries of a batch are planned side by side: the refusal still names the first bad
    # one in request order, whichever finished planning first.
    from depictio.errors import InvalidArgument

    frame = pd.DataFrame({"g": ["a", "b"], "i": [1, 2], "f": [0.5, 1.5]})
    good = data_pb2.ComponentQuery(histogram=data_pb2.HistogramQuery(column="f"))
    queries = [
        ("queries[0]", good),
        ("queries[1]", data_pb2.ComponentQuery(histogram=data_pb2.HistogramQuery(column="x"))),
        ("queries[2]", data_pb2.ComponentQuery(histogram=data_pb2.HistogramQuery(column="g"))),
    ]
    with pytest.raises(InvalidArgument, match="unknown column 'x'") as refused:
        run_batch(polars_frame(frame, held), None, queries, 0)
    assert refused.value.message.startswith("queries[1]")


def test_histogram_leaves_out_nulls_nans_and_infinities() -> None:
    # Hand-checked: the finite values 1, 2, 2, 3 in 2 bins are [1, 2) → 1 and [2, 3] → 3.
    values = [1.0, 2.0, math.inf, 2.0, None, -math.inf, math.nan, 3.0]
    frame = pl.LazyFrame({"f": values}, schema={"f": pl.Float64})
    query = data_pb2.ComponentQuery(histogram=data_pb2.HistogramQuery(column="f", bins=2))
    actual, result = one(frame, common_pb2.Filter(), query)
    assert actual.rows() == [(1.0, 2.0, 1), (2.0, 3.0, 3)]
    assert result.total_rows == len(values)
    only_infinite = pl.LazyFrame({"f": [math.inf, None]}, schema={"f": pl.Float64})
    assert one(only_infinite, common_pb2.Filter(), query)[0].height == 0


@PROPERTY
@given(tables(), filters)
def test_queries_grouping_by_the_same_keys_answer_as_they_do_alone(
    held: str, frame: pd.DataFrame, node: common_pb2.Filter
) -> None:
    # A batch groups once per set of keys for all its queries (query_plans.batch_frames); each
    # answer must be what the query gets alone (which the tests above check against pandas),
    # including two queries naming their columns alike.
    agg = data_pb2.AggregateQuery
    by_g = [
        agg(columns=["f"], group_by=["g"], aggregations=[data_pb2.AGGREGATION_MEAN]),
        agg(columns=["i", "f"], group_by=["g"], aggregations=[data_pb2.AGGREGATION_COUNT]),
        agg(columns=["f"], group_by=["i"], aggregations=[data_pb2.AGGREGATION_SUM]),
    ]
    queries = [data_pb2.ComponentQuery(aggregate=body) for body in by_g] + [
        data_pb2.ComponentQuery(distinct=data_pb2.DistinctQuery(column="g")),
        data_pb2.ComponentQuery(distinct=data_pb2.DistinctQuery(column="g", limit=2)),
        data_pb2.ComponentQuery(box=data_pb2.BoxQuery(column="i", group_by=["g"])),
        data_pb2.ComponentQuery(distinct=data_pb2.DistinctQuery(column="i")),
    ]
    lazy = polars_frame(frame, held)
    together = run_batch(lazy, node, [(f"queries[{n}]", q) for n, q in enumerate(queries)], 0)
    for query, result in zip(queries, together, strict=True):
        [alone] = run_batch(lazy, node, [("queries[0]", query)], 0)
        # Floats to rounding: parallel sums may add in another order.
        assert_frame_equal(decode(result), decode(alone), check_exact=False, rel_tol=1e-9)
        assert result.truncated == alone.truncated


@pytest.mark.parametrize(
    "values",
    [
        [10**17] * 3,  # ± 0.5 is no change for a float this large
        [10**18, 10**18 + 64, 10**18 + 128],  # three floats in a row: no room for 4 bins
        [-1.7e308, 0.0, 1.7e308],  # a width past the largest float
    ],
    ids=["constant large integer", "close large integers", "span past the largest float"],
)
def test_values_bins_cannot_have_a_width_for_are_one_bin(held: str, values: list[Any]) -> None:
    """numpy refuses these (a filter leaving one id or timestamp broke the chart): one bin
    from the least to the greatest value holds them all."""
    frame = pd.DataFrame({"g": ["a", "b", "a"], "i": [1, 2, 3], "f": values})
    query = data_pb2.ComponentQuery(histogram=data_pb2.HistogramQuery(column="f", bins=4))
    with pytest.raises(ValueError):
        np.histogram(np.array(values, dtype=np.float64), bins=4)
    [result] = run_batch(polars_frame(frame, held), None, [("queries[0]", query)], 0)
    assert decode(result).rows() == [(float(min(values)), float(max(values)), 3)]


def test_an_unknown_sort_order_is_refused() -> None:
    """A SortOrder value the enum does not have sorted one way or the other, silently."""
    from data_svc.scanning import scan_frame
    from depictio.errors import InvalidArgument

    frame = pl.LazyFrame({"g": ["a", "b"], "i": [1, 2]})
    unknown = 7
    page = data_pb2.RowsQuery(sort=[data_pb2.SortKey(column="i", order=unknown)])
    top = data_pb2.TopNQuery(column="i", order=unknown)
    for query, message in (
        (data_pb2.ComponentQuery(rows=page), r"queries\[0\]\.rows\.sort\[0\]\.order: unknown"),
        (data_pb2.ComponentQuery(top_n=top), r"queries\[0\]\.top_n\.order: unknown sort order 7"),
    ):
        with pytest.raises(InvalidArgument, match=message):
            run_batch(frame, None, [("queries[0]", query)], 0)
    scan = data_pb2.ScanRequest(
        sort=[data_pb2.SortKey(column="g"), data_pb2.SortKey(column="i", order=unknown)]
    )
    with pytest.raises(InvalidArgument, match=r"sort\[1\]\.order: unknown sort order 7"):
        scan_frame(frame, scan)


def test_more_quantiles_than_a_query_may_ask_for_are_refused() -> None:
    """50,001 quantiles (a 440 KB request) kept data_svc busy for 50 s."""
    from data_svc.query_plans import MAX_QUANTILES
    from depictio.errors import InvalidArgument

    frame = pl.LazyFrame({"g": ["a", "b", "a"], "x": [1.0, 2.0, 3.0]})
    many = [i / 1000 for i in range(MAX_QUANTILES + 1)]
    for group_by in ([], ["g"]):
        aggregate = data_pb2.AggregateQuery(
            columns=["x"],
            aggregations=[data_pb2.AGGREGATION_QUANTILES],
            quantiles=many,
            group_by=group_by,
        )
        median = data_pb2.AggregateQuery(columns=["x"], aggregations=[data_pb2.AGGREGATION_MEDIAN])
        queries = [
            ("queries[0]", data_pb2.ComponentQuery(aggregate=median)),
            ("queries[1]", data_pb2.ComponentQuery(aggregate=aggregate)),
        ]
        with pytest.raises(
            InvalidArgument, match=r"queries\[1\]\.aggregate\.quantiles: at most 100"
        ):
            run_batch(frame, None, queries, 0)
    enough = data_pb2.AggregateQuery(
        columns=["x"], aggregations=[data_pb2.AGGREGATION_QUANTILES], quantiles=many[:-1]
    )
    [result] = run_batch(
        frame, None, [("queries[0]", data_pb2.ComponentQuery(aggregate=enough))], 0
    )
    assert decode(result).row(0)[-1] == pytest.approx(
        pl.Series([1.0, 2.0, 3.0]).quantile(many[-2], interpolation="linear")
    )
