"""/schema's column statistics as JSON: dates as dates."""

from __future__ import annotations

import datetime as dt

import polars as pl

from data_svc.specs import compute_specs
from gateway.data_models import SchemaPublic


def test_date_statistics_are_dates_and_times_stay_times() -> None:
    days = [dt.date(2024, 2, 29), dt.date(1970, 1, 1), dt.date(2024, 2, 29), None]
    at = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    frame = pl.LazyFrame({"day": days, "at": [at, None, at, at]})
    described = SchemaPublic.from_pb(compute_specs(frame, 0)).model_dump(mode="json")
    columns = {column["name"]: column for column in described["columns"]}
    assert (columns["day"]["min"], columns["day"]["max"]) == ("1970-01-01", "2024-02-29")
    assert columns["day"]["top_values"][0] == {"value": "2024-02-29", "count": 2}
    assert columns["at"]["min"] == columns["at"]["max"] == "2024-01-02T03:04:05Z"
