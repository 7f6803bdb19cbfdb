"""Grouped quantiles by counting in buckets agree with polars' own selection, bit for bit."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from test_data_selection import with_infinities

from data_svc import group_selection
from data_svc.encoding import encoded
from data_svc.group_selection import grouped_quantiles, select_by_group
from data_svc.query_engine import run_batch
from depictio.arrow_ipc import ipc_to_table
from depictio.v1 import data_pb2

QUANTILES = [0.0, 0.1, 0.25, 0.333, 0.5, 0.75, 0.9, 0.999, 1.0]
ROWS = 400_000


def expected_by_polars(codes: np.ndarray, values: np.ndarray, groups: int) -> np.ndarray:
    frame = pl.DataFrame({"g": codes, "v": values})
    found = frame.group_by("g").agg(
        pl.col("v").quantile(q, interpolation="linear").alias(str(i))
        for i, q in enumerate(QUANTILES)
    )
    expected = np.full((groups, len(QUANTILES)), np.nan)
    for row in found.iter_rows():
        expected[row[0]] = row[1:]
    return expected


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(1).normal(size=ROWS),
        np.random.default_rng(2).pareto(1.0, ROWS),
        np.random.default_rng(3).lognormal(0.0, 1.5, ROWS),
        np.random.default_rng(4).integers(-1_000_000, 1_000_000, ROWS).astype(np.float64),
        np.concatenate([[-1e300, 1e300, 0.0, -0.0, 5e-324], np.random.default_rng(5).random(ROWS)]),
    ],
    ids=["normal", "heavy-tailed", "lognormal", "integers", "extremes"],
)
@pytest.mark.parametrize("few_values", [group_selection.FEW_VALUES, 1_000], ids=["one cut", "cuts"])
# uint32 codes (a categorical's, as select_by_group passes them) take the first cut through
# the C loops (kernels.Buckets); other integer codes through numpy.
@pytest.mark.parametrize("code_type", [np.uint32, np.int64])
def test_counted_quantiles_match_polars(
    values: np.ndarray, few_values: int, code_type: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With fewer values allowed before selecting, the buckets are cut again (up to MAX_CUTS).
    monkeypatch.setattr(group_selection, "FEW_VALUES", few_values)
    rng = np.random.default_rng(9)
    # 40 groups of unequal sizes, group 7 left empty, group 39 a single value.
    codes = rng.choice(
        np.arange(39), values.size, p=np.linspace(1, 3, 39) / np.linspace(1, 3, 39).sum()
    )
    codes[codes == 7] = 8
    codes[0] = 39
    codes = codes.astype(code_type)
    counted = grouped_quantiles(codes, values, 41, QUANTILES)
    assert counted is not None
    found, sizes = counted
    expected = expected_by_polars(codes, values, 41)
    np.testing.assert_array_equal(found, expected)
    assert np.isnan(found[7]).all() and np.isnan(found[40]).all()
    np.testing.assert_array_equal(sizes, np.bincount(codes, minlength=41))


def test_infinities_interpolate_as_polars_does() -> None:
    # Equal infinities are their own quantile (interpolating between them would give NaN).
    values = with_infinities(np.random.default_rng(11).normal(size=ROWS))
    codes = np.random.default_rng(12).integers(0, 3, ROWS)
    counted = grouped_quantiles(codes, values, 3, QUANTILES)
    assert counted is not None
    found, _ = counted
    np.testing.assert_array_equal(found, expected_by_polars(codes, values, 3))
    assert np.isposinf(found[:, -2]).all()


def test_values_concentrated_in_few_buckets_are_left_to_polars(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(group_selection, "FEW_VALUES", 10_000)
    values = np.random.default_rng(6).integers(0, 3, ROWS).astype(np.float64)
    codes = np.random.default_rng(7).integers(0, 5, ROWS)
    assert grouped_quantiles(codes, values, 5, QUANTILES) is None


@pytest.mark.parametrize("concentrated", [False, True], ids=["counted", "left to polars"])
def test_grouped_box_on_a_large_encoded_table_matches_polars(
    concentrated: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(group_selection, "FEW_VALUES", 10_000)
    rng = np.random.default_rng(8)
    groups = np.array(["b", "a", "c", "d"], dtype=object)[rng.integers(0, 4, ROWS)]
    groups[rng.random(ROWS) < 0.01] = None
    values = rng.integers(0, 3, ROWS) * 1.0 if concentrated else rng.normal(size=ROWS)
    values[rng.random(ROWS) < 0.01] = np.nan
    frame = pl.DataFrame({"g": groups, "v": values}, schema={"g": pl.String, "v": pl.Float64})
    frame = frame.with_columns(pl.col("v").fill_nan(None))
    held = encoded(frame.lazy(), ["g"])
    counted = select_by_group(held.collect(), ["g"], "v", [0.25, 0.5, 0.75])
    assert (counted is None) == concentrated
    query = data_pb2.ComponentQuery(box=data_pb2.BoxQuery(column="v", group_by=["g"]))
    [result] = run_batch(held, None, [("queries[0]", query)], 1)
    actual = pl.from_arrow(ipc_to_table(result.arrow_ipc))
    v = pl.col("v")
    expected = (
        frame.group_by("g")
        .agg(
            v.count().alias("count"),
            v.quantile(0.25, interpolation="linear").alias("q1"),
            v.median().alias("median"),
            v.quantile(0.75, interpolation="linear").alias("q3"),
        )
        .sort("g", nulls_last=True)
    )
    assert actual.select(expected.columns).rows() == expected.rows()


def test_grouped_medians_and_quantiles_on_a_large_encoded_table_match_polars() -> None:
    rng = np.random.default_rng(10)
    frame = pl.DataFrame(
        {
            "g": np.array(["x", "y", "z"], dtype=object)[rng.integers(0, 3, ROWS)],
            "i": rng.integers(-50, 50, ROWS),
            "f": rng.lognormal(0.0, 2.0, ROWS),
        }
    )
    agg = data_pb2.AggregateQuery(
        columns=["i", "f"],
        group_by=["g"],
        aggregations=[
            data_pb2.AGGREGATION_MEAN,
            data_pb2.AGGREGATION_MEDIAN,
            data_pb2.AGGREGATION_QUANTILES,
        ],
        quantiles=[0.05, 0.9],
    )
    held = encoded(frame.lazy(), ["g"])
    assert select_by_group(held.collect(), ["g"], "f", [0.5, 0.05, 0.9]) is not None
    [result] = run_batch(held, None, [("queries[0]", data_pb2.ComponentQuery(aggregate=agg))], 1)
    actual = pl.from_arrow(ipc_to_table(result.arrow_ipc))
    exprs = []
    for name in ("i", "f"):
        v = pl.col(name).cast(pl.Float64)
        exprs += [
            v.mean().alias(f"mean({name})"),
            v.median().alias(f"median({name})"),
            v.quantile(0.05, interpolation="linear").alias(f"quantile({name}, 0.05)"),
            v.quantile(0.9, interpolation="linear").alias(f"quantile({name}, 0.9)"),
        ]
    expected = frame.group_by("g").agg(exprs).sort("g")
    assert actual.columns == expected.columns
    assert actual.drop("mean(i)", "mean(f)").rows() == expected.drop("mean(i)", "mean(f)").rows()
    for mean in ("mean(i)", "mean(f)"):
        assert np.allclose(actual[mean].to_numpy(), expected[mean].to_numpy(), rtol=1e-12)


def test_a_group_of_opposite_infinities_keeps_its_quantiles() -> None:
    """Between -inf and inf polars interpolates NaN: the group is not empty for that (its
    quantiles came back null, its maximum too)."""
    rng = np.random.default_rng(13)
    groups = np.array(["a", "b"], dtype=object)[rng.integers(0, 2, ROWS)]
    values = rng.normal(size=ROWS)
    frame = pl.DataFrame(
        {
            "g": np.concatenate([groups, ["c", "c"]]),
            "v": np.concatenate([values, [-np.inf, np.inf]]),
        }
    )
    held = encoded(frame.lazy(), ["g"])
    quantiles = [0.5, 0.0, 1.0]  # the first one NaN: a group with NaN there was taken as empty
    assert select_by_group(held.collect(), ["g"], "v", quantiles) is not None
    agg = data_pb2.AggregateQuery(
        columns=["v"],
        group_by=["g"],
        aggregations=[data_pb2.AGGREGATION_QUANTILES],
        quantiles=quantiles,
    )
    [result] = run_batch(held, None, [("queries[0]", data_pb2.ComponentQuery(aggregate=agg))], 1)
    actual = pl.from_arrow(ipc_to_table(result.arrow_ipc))
    middle, low, high = actual.filter(pl.col("g") == "c").row(0)[1:]
    assert (low, high) == (-np.inf, np.inf) and middle is not None and np.isnan(middle)
    expected = frame.group_by("g").agg(
        pl.col("v").quantile(q, interpolation="linear").alias(f"quantile(v, {q})")
        for q in quantiles
    )
    assert_frame_equal(actual.sort("g"), expected.sort("g"))
