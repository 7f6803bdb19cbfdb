"""The gateway's data bodies: /schema's statistics (dates as dates), /query's filters."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from data_svc.specs import compute_specs
from depictio.errors import InvalidArgument
from gateway.data_models import QueryCreate, SchemaPublic


def test_date_statistics_are_dates_and_times_stay_times() -> None:
    days = [dt.date(2024, 2, 29), dt.date(1970, 1, 1), dt.date(2024, 2, 29), None]
    at = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    frame = pl.LazyFrame({"day": days, "at": [at, None, at, at]})
    described = SchemaPublic.from_pb(compute_specs(frame, 0)).model_dump(mode="json")
    columns = {column["name"]: column for column in described["columns"]}
    assert (columns["day"]["min"], columns["day"]["max"]) == ("1970-01-01", "2024-02-29")
    assert columns["day"]["top_values"][0] == {"value": "2024-02-29", "count": 2}
    assert columns["at"]["min"] == columns["at"]["max"] == "2024-01-02T03:04:05Z"


@pytest.mark.parametrize("depth", [33, 98])
def test_a_query_filter_deeper_than_data_svc_takes_is_refused(depth: int) -> None:
    """98 levels parsed here but passed protobuf's nesting limit in data_svc: a 500."""
    tree: dict[str, Any] = {"column": {"column": "x", "is_null": True}}
    for _ in range(depth):
        tree = {"negate": tree}
    body = QueryCreate(filters={"dc1": tree}, queries=[{"id": "n", "aggregate": {}}])
    with pytest.raises(InvalidArgument, match=r"filters\['dc1'\]: filter tree deeper than 32"):
        body.to_pb("dc1")
    shallow = QueryCreate(
        filters={"dc1": {"negate": {"column": {"column": "x", "is_null": True}}}},
        queries=[{"id": "n", "aggregate": {}}],
    )
    assert shallow.to_pb("dc1").filters["dc1"].negate.column.column == "x"
