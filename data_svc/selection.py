"""Exact quantiles of large columns: a selection inside a window found from a random sample.

A full selection (polars' `quantile`) reads and partitions every value once per quantile. A
random sample instead brackets each wanted rank in a narrow value window; one pass counts the
values below each window and keeps those inside the windows, and each rank is selected among
its small window's values. Counting makes the answer exact: when a window turns out not to
hold its rank (a vanishingly rare sample), the full selection answers instead.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

# Below this many values polars' own selection is as fast.
DIRECT_BELOW = 200_000
SAMPLE_SIZE = 200_000
# Half-width of a window in sample ranks: 6 standard deviations of a sample rank.
MARGIN = int(3 * math.sqrt(SAMPLE_SIZE)) + 1
SEED = 20240611


def ranks_around(q: float, n: int) -> tuple[int, int, float]:
    """The ranks either side of quantile `q` of `n` values, and the weight of the upper."""
    position = q * (n - 1)
    lower = math.floor(position)
    return lower, min(math.ceil(position), n - 1), position - lower


def interpolated(lower: float, upper: float, weight: float) -> float:
    """Between two neighbouring values as polars interpolates: equal values (infinities too)
    are their own answer."""
    return lower if weight == 0 or lower == upper else lower + weight * (upper - lower)


def exact_quantiles(values: pl.Series, quantiles: Sequence[float]) -> list[float | None]:
    """Linearly interpolated quantiles of the non-null values of the Float64 `values`."""
    values = values.drop_nulls()
    n = values.len()
    if n == 0:
        return [None] * len(quantiles)
    if n < DIRECT_BELOW or values.is_nan().any():
        return [values.quantile(q, interpolation="linear") for q in quantiles]
    wanted = sorted({rank for q in quantiles for rank in ranks_around(q, n)[:2]})
    picked = _select(values, wanted)
    if picked is None:
        return [values.quantile(q, interpolation="linear") for q in quantiles]
    answers: list[float | None] = []
    for q in quantiles:
        lower, upper, weight = ranks_around(q, n)
        answers.append(interpolated(picked[lower], picked[upper], weight))
    return answers


def _select(values: pl.Series, ranks: list[int]) -> dict[int, float] | None:
    """The values of the given ranks (0-based, ascending order); None when a window missed."""
    n = values.len()
    rng = np.random.default_rng(SEED)
    sample = values.gather(rng.integers(0, n, SAMPLE_SIZE)).sort().to_numpy()
    windows: list[tuple[float, float, list[int]]] = []
    for rank in ranks:
        at = rank / (n - 1) * (SAMPLE_SIZE - 1) if n > 1 else 0
        low = sample[int(at) - MARGIN] if int(at) - MARGIN >= 0 else -math.inf
        high = sample[int(at) + 1 + MARGIN] if int(at) + 1 + MARGIN < SAMPLE_SIZE else math.inf
        if windows and low <= windows[-1][1]:
            # Overlapping windows (neighbouring ranks) are read as one.
            previous = windows.pop()
            windows.append((previous[0], max(previous[1], high), [*previous[2], rank]))
        else:
            windows.append((float(low), float(high), [rank]))
    # The values of every window (they do not overlap) kept, and the values below each
    # counted, on polars' streaming engine (the rows in parallel morsels, each read once per
    # query): the windows' values are few, and each rank is selected among its window's.
    v = pl.col("v")
    rows = pl.DataFrame({"v": values}).lazy()
    inside_any = pl.any_horizontal([v.is_between(low, high) for low, high, _ in windows])
    found, kept_rows = pl.collect_all(
        [
            rows.select(
                (v < low).sum().alias(f"below{index}") for index, (low, _, _) in enumerate(windows)
            ),
            rows.filter(inside_any),
        ],
        engine="streaming",
    )
    kept = kept_rows["v"].to_numpy()
    picked: dict[int, float] = {}
    for index, (low, high, window_ranks) in enumerate(windows):
        below = int(found[f"below{index}"][0])
        window = kept[(kept >= low) & (kept <= high)]
        if not all(below <= rank < below + window.size for rank in window_ranks):
            return None
        window = np.partition(window, [rank - below for rank in window_ranks])
        for rank in window_ranks:
            picked[rank] = float(window[rank - below])
    return picked


class SharedSelections:
    """The ungrouped quantiles of a batch's columns, each column selected once for every query
    of the batch asking: the quantiles wanted of each column are gathered before planning, and
    the first query to ask selects them all (the others wait for it)."""

    def __init__(self, base: pl.DataFrame, wanted: Mapping[str, set[float]]) -> None:
        self.base = base
        self.wanted = wanted
        self.found: dict[str, dict[float, float | None]] = {}
        self.locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self.lock = threading.Lock()

    def select(self, column: str, quantiles: Sequence[float]) -> list[float | None]:
        """The linearly interpolated quantiles of the non-null values of `column`."""
        with self.lock:
            column_lock = self.locks[column]
        with column_lock:
            known = self.found.setdefault(column, {})
            missing = sorted((self.wanted.get(column, set()) | set(quantiles)) - set(known))
            if missing:
                values = self.base.get_column(column).cast(pl.Float64)
                known.update(zip(missing, exact_quantiles(values, missing), strict=True))
            return [known[q] for q in quantiles]


def quantile_exprs(
    quantiles: Sequence[float], column: pl.Expr, selected: Sequence[float | None] | None
) -> list[pl.Expr]:
    """Linear quantiles of `column`: the `selected` values as constants (an ungrouped query's,
    selected already), else planned per group for polars."""
    if selected is None:
        return [column.quantile(q, interpolation="linear") for q in quantiles]
    return [pl.lit(value, dtype=pl.Float64) for value in selected]
