"""Counts, sums, means, least and greatest values per group of one encoded column, by code.

A hot table's repetitive text column is held as codes (data_svc.encoding). Grouping 12 M rows
by it in polars hashes every code: about 100 ms of CPU here for a bar chart's means, a box
plot's counts and extremes and a filter's options together. A loop indexing arrays by code
(kernels.grouped) reads each value column once instead: about 20 ms per column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import polars as pl

from data_svc import kernels
from data_svc.encoding import group_codes, is_encoded

TallyKind = Literal["len", "count", "sum", "mean", "min", "max"]
# Below this many rows polars' own grouping is as fast.
MIN_ROWS = 100_000


@dataclass(frozen=True)
class Tally:
    """A per-group statistic that counting by code can answer: `kind` of `column` (of the
    rows, for len), of its values as Float64 when `as_float` (as Int64 when `as_int`: the sum
    of an int32 column overflowed in int32), named `name`."""

    kind: TallyKind
    column: str | None
    name: str
    as_float: bool = False
    as_int: bool = False

    def named(self, name: str) -> Tally:
        return replace(self, name=name)

    def expr(self) -> pl.Expr:
        """The same statistic as a polars aggregation."""
        if self.kind == "len" or self.column is None:
            return pl.len().cast(pl.Int64).alias(self.name)
        column = pl.col(self.column)
        if self.as_float:
            column = column.cast(pl.Float64)
        elif self.as_int:
            column = column.cast(pl.Int64)
        found = {
            "count": column.count().cast(pl.Int64),
            "sum": column.sum(),
            "mean": column.cast(pl.Float64).mean(),
            "min": column.min(),
            "max": column.max(),
        }[self.kind]
        return found.alias(self.name)


def group_by_code(base: pl.DataFrame, key: str, tallies: Sequence[Tally]) -> pl.DataFrame | None:
    """The `tallies` of each group of the encoded column `key`, sorted by it with nulls last —
    the frame polars' group_by then sort gives; None when counting does not apply (a key
    that is not encoded, fewer than MIN_ROWS rows, a column neither Int64 nor Float64)."""
    columns = {t.column for t in tallies if t.kind != "len" and t.column is not None}
    if (
        base.height < MIN_ROWS
        or not is_encoded(base.schema[key])
        or any(base.schema[c] not in (pl.Int64, pl.Float64) for c in columns)
    ):
        return None
    codes, groups = group_codes(base.get_column(key).to_physical())
    stats = {column: _column_stats(base.get_column(column), codes, groups) for column in columns}
    rows = next(iter(stats.values())).rows if stats else np.bincount(codes, minlength=groups)
    present = np.flatnonzero(rows)
    has_null = bool(rows[groups - 1])
    key_codes = pl.Series(key, present.astype(np.uint32))
    if has_null:
        key_codes = key_codes.scatter(present.size - 1, None)
    result = [key_codes.cat.to(base.schema[key])]
    for tally in tallies:
        if tally.kind == "len" or tally.column is None:
            result.append(pl.Series(tally.name, rows[present], dtype=pl.Int64))
            continue
        dtype = pl.Float64() if tally.as_float else base.schema[tally.column]
        result.append(_tally_series(tally, stats[tally.column], present, dtype))
    return pl.DataFrame(result).sort(key, nulls_last=True)


def _column_stats(values: pl.Series, codes: np.ndarray, groups: int) -> kernels.GroupStats:
    valid = values.is_not_null().to_numpy() if values.null_count() else None
    filled = values.fill_null(0) if valid is not None else values
    return kernels.grouped(codes, filled.to_numpy(), valid, groups)


def _tally_series(
    tally: Tally, stats: kernels.GroupStats, present: np.ndarray, dtype: pl.DataType
) -> pl.Series:
    count = stats.count[present]
    empty = count == 0
    if tally.kind == "count":
        return pl.Series(tally.name, count, dtype=pl.Int64)
    if tally.kind == "sum":
        total = stats.float_sum if dtype == pl.Float64 else stats.sum
        return pl.Series(tally.name, total[present], dtype=dtype)
    if tally.kind == "mean":
        with np.errstate(divide="ignore", invalid="ignore"):
            means = stats.float_sum[present] / count
        return _nulls_where(pl.Series(tally.name, means, dtype=pl.Float64), empty)
    extreme = (stats.low if tally.kind == "min" else stats.high)[present]
    return _nulls_where(pl.Series(tally.name, extreme).cast(dtype), empty)


def _nulls_where(series: pl.Series, empty: np.ndarray) -> pl.Series:
    """`series` with nulls for the groups without values."""
    if not empty.any():
        return series
    return series.scatter(np.flatnonzero(empty), None)
