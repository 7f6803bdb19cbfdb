"""Sorted pages and top-n of large tables, found from a sample's threshold, equal a full sort."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from data_svc import leading_rows as module
from data_svc.leading_rows import MIN_ROWS, leading_rows
from data_svc.query_engine import run_batch
from depictio.arrow_ipc import ipc_to_table
from depictio.v1 import data_pb2

ROWS = MIN_ROWS + 50_000


def table(kind: str) -> pl.DataFrame:
    """ROWS rows: `v` with many ties (integers 0..999), nulls and — for floats — NaN; `w` a
    second key with ties of its own; `row` each row's position."""
    rng = np.random.default_rng(3)
    v = rng.integers(0, 1_000, ROWS).astype(np.float64 if kind == "float" else np.int64)
    values = pl.Series("v", v)
    if kind == "float":
        values = values.scatter(rng.integers(0, ROWS, 500), math.nan)
    values = values.scatter(rng.integers(0, ROWS, 2_000), None)
    return pl.DataFrame(
        [values, pl.Series("w", rng.integers(0, 3, ROWS)), pl.Series("row", np.arange(ROWS))]
    )


def expected_order(frame: pl.DataFrame, descending: bool) -> list[int]:
    """The rows' positions sorted by v then w, each as told, ties in table order: nulls last,
    NaN above every number (as polars sorts) — by Python's stable sort on plain tuples."""

    def key(row: tuple[float | None, int, int]) -> tuple[int, float, int]:
        v, w, _ = row
        if v is None:
            return (2, 0.0, 0)
        if math.isnan(v):
            return (0 if descending else 1, 0.0, -w if descending else w)
        return (1 if descending else 0, -v if descending else v, -w if descending else w)

    return [row[2] for row in sorted(frame.rows(), key=key)]


@pytest.mark.parametrize("kind", ["int", "float"])
@pytest.mark.parametrize("descending", [True, False], ids=["descending", "ascending"])
@pytest.mark.parametrize("needed", [1, 11, 300, 2_000])
def test_the_kept_rows_hold_the_first_of_a_full_sort(
    kind: str, descending: bool, needed: int
) -> None:
    frame = table(kind)
    kept = leading_rows(frame, "v", descending, needed)
    # Only a few rows are kept: the threshold leaves most of the table out.
    assert needed <= kept.height < ROWS // 20
    first = kept.sort(["v", "w"], descending=descending, nulls_last=True, maintain_order=True).head(
        needed
    )
    assert first["row"].to_list() == expected_order(frame, descending)[:needed]


def test_a_threshold_too_high_keeps_every_row(monkeypatch: pytest.MonkeyPatch) -> None:
    # The sample's first value as threshold: far fewer than `needed` rows reach it, so the
    # rows are all kept (and the page is still the full sort's).
    monkeypatch.setattr(module, "threshold_rank", lambda needed, rows: 0)
    frame = table("float")
    kept = leading_rows(frame, "v", True, 2_000)
    assert kept.height == ROWS


def test_small_tables_and_text_keys_keep_every_row() -> None:
    small = table("int").head(MIN_ROWS - 1)
    assert leading_rows(small, "v", True, 10).height == small.height
    text = table("int").with_columns(pl.col("v").cast(pl.String))
    assert leading_rows(text, "v", True, 10).height == ROWS


def decode(result: data_pb2.ComponentResult) -> pl.DataFrame:
    return pl.DataFrame(pl.from_arrow(ipc_to_table(result.arrow_ipc)))


@pytest.mark.parametrize("descending", [True, False], ids=["descending", "ascending"])
def test_rows_and_top_n_queries_on_a_large_table_match_a_full_sort(descending: bool) -> None:
    frame = table("float")
    order = data_pb2.SORT_ORDER_DESCENDING if descending else data_pb2.SORT_ORDER_ASCENDING
    page = data_pb2.RowsQuery(
        columns=["row"],
        sort=[data_pb2.SortKey(column="v", order=order), data_pb2.SortKey(column="w", order=order)],
        limit=50,
        offset=250,
    )
    top = data_pb2.TopNQuery(column="v", n=20, order=order, columns=["row", "v"])
    queries = [
        ("queries[0]", data_pb2.ComponentQuery(rows=page)),
        ("queries[1]", data_pb2.ComponentQuery(top_n=top)),
    ]
    rows, ranked = run_batch(frame.lazy(), None, queries, 0)
    expected = expected_order(frame, descending)
    assert decode(rows)["row"].to_list() == expected[250:300]
    assert rows.truncated and rows.total_rows == ROWS
    # top-n leaves nulls out and breaks ties by table order (w plays no part).
    by_v = expected_order(frame.with_columns(w=pl.lit(0, pl.Int64)), descending)
    assert decode(ranked)["row"].to_list() == by_v[:20]
