"""The C loops (data_svc/kernels.c) against numpy's and polars' own answers, on large columns
with the values that trip binning and grouping up: values on bin edges, ties, NaN,
infinities, nulls, and integers beyond a float's precision."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from data_svc import kernels
from data_svc.code_grouping import Tally, group_by_code
from data_svc.encoding import encoded

ROWS = 300_000


def columns() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(21)
    with_specials = rng.normal(size=ROWS)
    with_specials[rng.integers(0, ROWS, 300)] = np.nan
    with_specials[rng.integers(0, ROWS, 30)] = np.inf
    with_specials[rng.integers(0, ROWS, 30)] = -np.inf
    return {
        "normal": rng.normal(size=ROWS),
        # Integers over a range the bins divide evenly: many values fall exactly on edges.
        "on edges": rng.integers(0, 101, ROWS).astype(np.float64),
        "few values": rng.integers(-2, 3, ROWS).astype(np.float64) * 0.1,
        "heavy tail": rng.pareto(1.0, ROWS),
        "one value": np.full(ROWS, 3.25),
        "wide": np.concatenate([[-1e300, 1e300], rng.normal(size=ROWS)]),
        "specials": with_specials,
    }


@pytest.mark.parametrize("name", list(columns()))
@pytest.mark.parametrize("bins", [1, 7, 10, 50, 1000])
def test_histogram_counts_as_numpy(name: str, bins: int) -> None:
    values = columns()[name]
    finite = values[np.isfinite(values)]
    expected, edges = np.histogram(finite, bins=bins)
    count, low, high = kernels.finite_range(values)
    assert (count, low, high) == (finite.size, finite.min(), finite.max())
    assert np.array_equal(np.histogram_bin_edges(np.array([low, high]), bins=bins), edges)
    # Non-finite values are left out by the loop itself.
    assert kernels.histogram(values, edges).tolist() == expected.tolist()


def test_no_finite_values_have_no_range() -> None:
    count, low, high = kernels.finite_range(np.array([np.nan, np.inf]))
    assert count == 0 and math.isnan(low) and math.isnan(high)


def test_distinct_codes_as_numpy() -> None:
    codes = np.random.default_rng(2).integers(0, 70_000, ROWS).astype(np.uint32)
    codes[codes % 7 == 0] = 5  # some codes never appear
    assert kernels.distinct_codes(codes, 70_000) == np.unique(codes).size


def test_codes_out_of_range_are_refused_before_any_loop() -> None:
    codes = np.array([0, 3], dtype=np.uint32)
    with pytest.raises(ValueError, match="below 3"):
        kernels.distinct_codes(codes, 3)
    with pytest.raises(ValueError, match="below 3"):
        kernels.grouped(codes, np.zeros(2), None, 3)
    with pytest.raises(TypeError, match="uint32"):
        kernels.grouped(codes.astype(np.int64), np.zeros(2), None, 4)


def grouped_table() -> pl.DataFrame:
    """ROWS rows: a key of 40 values (and nulls, one value in a single row, one never
    present after the filter below) and float and integer columns with nulls and NaN."""
    rng = np.random.default_rng(5)
    keys = pl.Series("key", [f"k{i:02d}" for i in rng.integers(0, 40, ROWS)])
    keys = keys.scatter(rng.integers(0, ROWS, 500), None).scatter(0, "lonely")
    f = pl.Series("f", rng.normal(size=ROWS)).scatter(rng.integers(0, ROWS, 400), None)
    f = f.scatter(rng.integers(0, ROWS, 50), math.nan)
    # Integers past 2^53: a float sum would round them.
    i = pl.Series("i", rng.integers(-(2**60), 2**60, ROWS)).scatter(
        rng.integers(0, ROWS, 400), None
    )
    # Group k07 holds only nulls in both columns.
    frame = pl.DataFrame([keys, f, i]).with_columns(
        pl.when(pl.col("key") == "k07").then(None).otherwise(pl.col(c)).alias(c) for c in "fi"
    )
    return encoded(frame.lazy(), ["key"]).collect()


TALLIES = [
    Tally("len", None, "rows"),
    *(
        Tally(kind, column, f"{kind}({column})")
        for column in "fi"
        for kind in ("count", "sum", "mean", "min", "max")
    ),  # noqa: E501
    *(Tally(kind, "i", f"{kind}(float i)", as_float=True) for kind in ("min", "max", "mean")),
]


def test_grouping_by_code_equals_polars_group_by() -> None:
    frame = grouped_table()
    counted = group_by_code(frame, "key", TALLIES)
    assert counted is not None
    expected = frame.group_by("key").agg(t.expr() for t in TALLIES).sort("key", nulls_last=True)
    # Integer sums exactly; float sums and means to rounding (summed in another order).
    assert_frame_equal(counted, expected, check_exact=False, rel_tol=1e-12)
    assert counted["sum(i)"].to_list() == expected["sum(i)"].to_list()
    assert counted["key"].to_list()[-1] is None
    assert counted.filter(pl.col("key") == "k07").row(0, named=True)["mean(f)"] is None


def test_grouping_by_code_declines_what_it_cannot_count() -> None:
    frame = grouped_table()
    assert group_by_code(frame.head(1_000), "key", TALLIES) is None  # small: polars is as fast
    as_text = frame.with_columns(pl.col("key").cast(pl.String))
    assert group_by_code(as_text, "key", TALLIES) is None  # not encoded
    narrow = frame.with_columns(pl.col("i").cast(pl.Int32, wrap_numerical=True))
    assert group_by_code(narrow, "key", TALLIES) is None  # neither Int64 nor Float64


def test_strided_arrays_are_read_as_numpy_reads_them() -> None:
    # Every other value (a view, not one contiguous piece): copied into one, same answers.
    values = columns()["normal"][::2]
    edges = np.histogram_bin_edges(values, bins=20)
    assert kernels.histogram(values, edges).tolist() == np.histogram(values, bins=20)[0].tolist()
    codes = np.random.default_rng(4).integers(0, 9, 2 * values.size).astype(np.uint32)[::2]
    stats = kernels.grouped(codes, values, None, 9)
    assert stats.rows.tolist() == np.bincount(codes, minlength=9).tolist()
    assert np.allclose(stats.sum, np.bincount(codes, weights=values, minlength=9))
    assert kernels.distinct_codes(codes, 9) == np.unique(codes).size


def test_edges_without_a_usable_width_still_count_inside_the_bins() -> None:
    # A span of one subnormal step: numpy's norm is infinite (0 × inf is NaN). The loop still
    # puts every value in a bin, never outside the counts.
    values = np.array([0.0, 5e-324, 5e-324])
    counts = kernels.histogram(values, np.array([0.0, 2.5e-324, 5e-324]))
    assert counts.sum() == 3 and counts.size == 2
