"""Each component's data as typed data_svc queries (one or none per component).

Figures ask for aggregates where an aggregate will do (bars, pies, heatmaps, boxes,
histograms without colour) and for a bounded sample of points otherwise; cards for one
aggregate row; tables for one page of rows; select-like controls for their distinct values.
"""

from __future__ import annotations

from typing import Any

from depictio.clients.data import sort_keys
from depictio.v1 import data_pb2

# Points a scatter shows by default, and after "load all" (data_svc's own upper bound).
DEFAULT_MAX_POINTS = 10_000
LOAD_ALL_MAX_POINTS = 100_000
DEFAULT_HISTOGRAM_BINS = 20
MAX_OPTIONS = 1_000
AGGREGATIONS: dict[str, data_pb2.Aggregation.ValueType] = {
    "count": data_pb2.AGGREGATION_COUNT,
    "sum": data_pb2.AGGREGATION_SUM,
    "mean": data_pb2.AGGREGATION_MEAN,
    "median": data_pb2.AGGREGATION_MEDIAN,
    "min": data_pb2.AGGREGATION_MIN,
    "max": data_pb2.AGGREGATION_MAX,
    "std": data_pb2.AGGREGATION_STD,
    "var": data_pb2.AGGREGATION_VAR,
    "nunique": data_pb2.AGGREGATION_NUNIQUE,
    "mode": data_pb2.AGGREGATION_MODE,
}
SELECT_LIKE = ("select", "multiselect", "segmented_control")
# The columns every row carries for its provenance, shown only when asked for.
PROVENANCE_COLUMNS = ("depictio_run_id", "depictio_file")


def unique(columns: list[str | None]) -> list[str]:
    """The named columns, once each, in order."""
    seen: list[str] = []
    for column in columns:
        if column and column not in seen:
            seen.append(column)
    return seen


def figure_query(spec: dict[str, Any], max_points: int) -> data_pb2.ComponentQuery:
    """The query behind a figure."""
    kind = spec["visu_type"]
    x, y, color = spec.get("x"), spec.get("y"), spec.get("color")
    query = data_pb2.ComponentQuery(id=spec["id"])
    if kind in ("bar", "pie", "heatmap"):
        groups = unique([x, y, color] if kind == "heatmap" else [x, color])
        if kind == "heatmap" and color:
            measure, aggregation = [color], data_pb2.AGGREGATION_MEAN
            groups = unique([x, y])
        elif kind != "heatmap" and y:
            measure, aggregation = [y], data_pb2.AGGREGATION_SUM
        else:
            measure, aggregation = [], data_pb2.AGGREGATION_COUNT
        query.aggregate.CopyFrom(
            data_pb2.AggregateQuery(columns=measure, aggregations=[aggregation], group_by=groups)
        )
    elif kind == "box" and (y or x):
        column = str(y or x)
        query.box.CopyFrom(
            data_pb2.BoxQuery(column=column, group_by=unique([x if y else None, color]))
        )
    elif kind == "histogram" and not color:
        bins = int(spec.get("options", {}).get("nbins") or DEFAULT_HISTOGRAM_BINS)
        query.histogram.CopyFrom(data_pb2.HistogramQuery(column=x or y or "", bins=bins))
    else:
        columns = unique([x, y, color, spec.get("size"), *spec.get("hover", [])])
        query.sample.CopyFrom(data_pb2.SampleQuery(columns=columns, max_points=max_points))
    return query


def card_query(spec: dict[str, Any]) -> data_pb2.ComponentQuery:
    """One row: the card's aggregation then its secondary ones."""
    names = unique([spec["aggregation"], *spec.get("secondary", [])])
    return data_pb2.ComponentQuery(
        id=spec["id"],
        aggregate=data_pb2.AggregateQuery(
            columns=[spec["column"]], aggregations=[AGGREGATIONS[n] for n in names]
        ),
    )


def table_query(
    spec: dict[str, Any], columns: list[str], page: int, sort: list[tuple[str, bool]]
) -> data_pb2.ComponentQuery:
    """One page (1-based) of a table, sorted by (column, descending) keys."""
    size = int(spec.get("page_size", 50))
    return data_pb2.ComponentQuery(
        id=spec["id"],
        rows=data_pb2.RowsQuery(
            columns=columns,
            sort=sort_keys(sort),
            limit=size,
            offset=(max(page, 1) - 1) * size,
        ),
    )


def options_query(spec: dict[str, Any]) -> data_pb2.ComponentQuery:
    """The distinct values a select-like control offers."""
    return data_pb2.ComponentQuery(
        id=spec["id"], distinct=data_pb2.DistinctQuery(column=spec["column"], limit=MAX_OPTIONS)
    )


def table_columns(spec: dict[str, Any], types: dict[str, str]) -> list[str]:
    """The columns a table shows: its own list, else every column but the provenance ones."""
    if spec.get("columns"):
        return list(spec["columns"])
    return [c for c in types if c not in PROVENANCE_COLUMNS]
