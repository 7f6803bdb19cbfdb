"""Exact quantiles by window selection agree with polars' own selection, bit for bit."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from data_svc.selection import DIRECT_BELOW, exact_quantiles

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
