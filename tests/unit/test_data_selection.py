"""Exact quantiles by window selection agree with polars' own selection, bit for bit."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from data_svc import selection
from data_svc.query_engine import run_batch
from data_svc.selection import DIRECT_BELOW, exact_quantiles
from depictio.arrow_ipc import ipc_to_table
from depictio.v1 import data_pb2

QUANTILES = [0.0, 0.1, 0.25, 0.333, 0.5, 0.75, 0.9, 0.999, 1.0]


def with_infinities(values: np.ndarray) -> np.ndarray:
    """`values` with 0.1 % of them -inf and the top 5 % +inf (so that the upper quantiles
    fall between two infinities)."""
    values = values.copy()
    values[: values.size // 1000] = -np.inf
    values[-values.size // 20 :] = np.inf
    return values


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(1).normal(size=3 * DIRECT_BELOW),
        np.random.default_rng(2).integers(0, 3, 2 * DIRECT_BELOW).astype(np.float64),
        np.sort(np.random.default_rng(3).random(2 * DIRECT_BELOW)),
        np.random.default_rng(4).pareto(1.0, 2 * DIRECT_BELOW),
        with_infinities(np.random.default_rng(5).normal(size=2 * DIRECT_BELOW)),
    ],
    ids=["normal", "three-values", "sorted", "heavy-tailed", "infinities"],
)
def test_large_columns_match_polars(values: np.ndarray) -> None:
    series = pl.Series(values)
    expected = [series.quantile(q, interpolation="linear") for q in QUANTILES]
    # NaN where polars interpolates between -inf and a number.
    np.testing.assert_array_equal(exact_quantiles(series, QUANTILES), expected)


def test_nulls_are_skipped_and_no_values_give_none() -> None:
    values = pl.Series(np.arange(2 * DIRECT_BELOW, dtype=np.float64)).scatter([0, 5], None)
    assert exact_quantiles(values, [0.5]) == [values.drop_nulls().median()]
    assert exact_quantiles(pl.Series([None], dtype=pl.Float64), [0.5]) == [None]


def test_a_batch_selects_each_columns_quantiles_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # A median card, a quantiles card and an ungrouped box plot of x: one selection of x for
    # all three (and one of y), each answer equal to polars' own quantile of the column.
    rng = np.random.default_rng(8)
    frame = pl.DataFrame(
        {"x": rng.normal(size=2 * DIRECT_BELOW), "y": rng.integers(0, 1_000, 2 * DIRECT_BELOW)}
    )
    calls: list[tuple[int, list[float]]] = []

    def counted(values: pl.Series, quantiles: list[float]) -> list[float | None]:
        calls.append((values.len(), list(quantiles)))
        return exact_quantiles(values, quantiles)

    monkeypatch.setattr(selection, "exact_quantiles", counted)
    agg = data_pb2.AggregateQuery
    queries = [
        agg(columns=["x"], aggregations=[data_pb2.AGGREGATION_MEDIAN]),
        agg(
            columns=["x", "y"], aggregations=[data_pb2.AGGREGATION_QUANTILES], quantiles=[0.1, 0.9]
        ),
        data_pb2.BoxQuery(column="x"),
    ]
    batch = [
        (f"queries[{i}]", data_pb2.ComponentQuery(**{"box" if i == 2 else "aggregate": q}))
        for i, q in enumerate(queries)
    ]
    median, quantiles, box = (
        ipc_to_table(result.arrow_ipc).to_pylist()[0]
        for result in run_batch(frame.lazy(), None, batch, 0)
    )
    assert sorted(calls) == [
        (2 * DIRECT_BELOW, [0.1, 0.25, 0.5, 0.75, 0.9]),
        (2 * DIRECT_BELOW, [0.1, 0.9]),
    ]
    x, y = frame["x"], frame["y"].cast(pl.Float64)

    def polars_quantile(series: pl.Series, q: float) -> float | None:
        return series.quantile(q, interpolation="linear")

    assert median == {"median(x)": x.median()}
    assert quantiles == {
        "quantile(x, 0.1)": polars_quantile(x, 0.1),
        "quantile(x, 0.9)": polars_quantile(x, 0.9),
        "quantile(y, 0.1)": polars_quantile(y, 0.1),
        "quantile(y, 0.9)": polars_quantile(y, 0.9),
    }
    assert (box["q1"], box["median"], box["q3"]) == tuple(
        polars_quantile(x, q) for q in (0.25, 0.5, 0.75)
    )
