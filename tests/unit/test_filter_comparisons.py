"""Filters compare values exactly: integers as integers, dates with times as days, against
the same selections computed by hand in Python."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from depictio.errors import InvalidArgument
from depictio.filters import (
    MAX_FILTER_DEPTH,
    check_filter_depth,
    filter_expression,
    python_to_value,
)
from depictio.v1 import common_pb2

BIG = 2**62 + 1
TABLE = pl.DataFrame(
    {
        "i": [1, 2, None, 2**62, -5, BIG],
        "day": [dt.date(2024, 1, d) for d in (1, 1, 2, 2, 3, 4)],
    }
)


def kept(predicate: common_pb2.ColumnPredicate) -> list[int]:
    """The positions of the rows the predicate keeps."""
    expression = filter_expression(common_pb2.Filter(column=predicate), dict(TABLE.schema))
    return TABLE.with_row_index("at").filter(expression).get_column("at").to_list()


def test_integers_are_matched_exactly_whatever_the_values_kinds() -> None:
    # 2^62 + 1 and 2^62 are one float apart: as floats, either would match both.
    values = [python_to_value(BIG), python_to_value(0.5), python_to_value(2.0)]
    chosen = common_pb2.ColumnPredicate(column="i", in_values=common_pb2.ValueList(values=values))
    assert kept(chosen) == [i for i, v in enumerate(TABLE["i"]) if v in (BIG, 2)]
    refused = common_pb2.ColumnPredicate(
        column="i", not_in_values=common_pb2.ValueList(values=values)
    )
    assert kept(refused) == [
        i for i, v in enumerate(TABLE["i"]) if v is not None and v not in (BIG, 2)
    ]


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC), None),
        (None, dt.datetime(2024, 1, 3, 6, tzinfo=dt.UTC)),
        (dt.datetime(2024, 1, 2, tzinfo=dt.UTC), dt.datetime(2024, 1, 3, tzinfo=dt.UTC)),
    ],
)
def test_a_date_is_its_midnight_against_a_time(
    low: dt.datetime | None, high: dt.datetime | None
) -> None:
    bounds = common_pb2.Range()
    if low is not None:
        bounds.min.CopyFrom(python_to_value(low))
    if high is not None:
        bounds.max.CopyFrom(python_to_value(high))
    midnight = [dt.datetime.combine(d, dt.time(0), dt.UTC) for d in TABLE["day"]]
    expected = [
        i
        for i, m in enumerate(midnight)
        if (low is None or m >= low) and (high is None or m <= high)
    ]
    assert kept(common_pb2.ColumnPredicate(column="day", range=bounds)) == expected


def test_no_date_equals_a_time_past_midnight() -> None:
    noon = python_to_value(dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC))
    assert kept(common_pb2.ColumnPredicate(column="day", equals=noon)) == []
    midnight = python_to_value(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    assert kept(common_pb2.ColumnPredicate(column="day", equals=midnight)) == [0, 1]


def test_a_null_range_bound_is_no_bound() -> None:
    """`{"min": {}}` over REST (a bound present but null) kept no row at all."""
    bounds = common_pb2.Range(min=common_pb2.Value(), max=python_to_value(2))
    open_low = common_pb2.ColumnPredicate(column="i", range=bounds)
    assert kept(open_low) == [i for i, v in enumerate(TABLE["i"]) if v is not None and v <= 2]
    both_null = common_pb2.Range(min=common_pb2.Value(), max=common_pb2.Value())
    assert kept(common_pb2.ColumnPredicate(column="i", range=both_null)) == [
        i for i, v in enumerate(TABLE["i"]) if v is not None
    ]


def test_a_range_from_within_the_last_day_on_a_date_column_is_refused() -> None:
    """Its next midnight, the day's first date after it, is past date.max (OverflowError)."""
    last = common_pb2.Range(min=python_to_value(dt.datetime(9999, 12, 31, 23, 59, 59)))
    with pytest.raises(InvalidArgument, match=r"filter\.column: range\.min 9999-12-31T23:59:59"):
        kept(common_pb2.ColumnPredicate(column="day", range=last))


def test_a_timestamp_outside_years_1_to_9999_is_refused() -> None:
    """Such a Value (sent over gRPC; the gateway's JSON cannot carry it) made data_svc fail."""
    past = common_pb2.Value()
    past.timestamp_value.seconds = 300_000_000_000  # about year 11,476
    for column in ("day", "i"):
        with pytest.raises(InvalidArgument, match=r"filter\.column: timestamp_value .* years 1"):
            kept(common_pb2.ColumnPredicate(column=column, equals=past))


def test_the_depth_of_a_filter_is_checked_as_it_is_compiled() -> None:
    def nested(depth: int) -> common_pb2.Filter:
        node = common_pb2.Filter(column=common_pb2.ColumnPredicate(column="i", is_null=True))
        for level in range(depth):
            if level % 2:
                node = common_pb2.Filter(negate=node)
            else:
                node = common_pb2.Filter(all_of=common_pb2.FilterList(filters=[node]))
        return node

    schema = dict(TABLE.schema)
    check_filter_depth(nested(MAX_FILTER_DEPTH), "filters")
    filter_expression(nested(MAX_FILTER_DEPTH), schema)
    with pytest.raises(InvalidArgument, match="filters: filter tree deeper than 32 levels"):
        check_filter_depth(nested(MAX_FILTER_DEPTH + 1), "filters")
    with pytest.raises(InvalidArgument, match="deeper than 32 levels"):
        filter_expression(nested(MAX_FILTER_DEPTH + 1), schema)
