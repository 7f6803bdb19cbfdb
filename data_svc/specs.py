"""Column specs (type, count, nulls, nunique, min/max/mean, top values), computed per version."""

from __future__ import annotations

import polars as pl

from depictio.filters import python_to_value
from depictio.v1 import data_pb2

# Most frequent values kept per column.
TOP_VALUES = 10


def arrow_type_name(dtype: pl.DataType) -> str:
    """The Arrow name of a polars type, as clients see it (int64, string, timestamp[us]…)."""
    frame = pl.DataFrame(schema={"c": dtype}).to_arrow()
    name = str(frame.schema.field("c").type)
    return {"large_string": "string", "string_view": "string", "large_binary": "binary"}.get(
        name, name
    )


def _orderable(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() or dtype.is_temporal() or dtype in (pl.String, pl.Boolean)


def compute_specs(frame: pl.LazyFrame, version: int) -> data_pb2.DescribeResponse:
    """The table's row count and per-column specs, from one pass over `frame`."""
    schema = frame.collect_schema()
    stats: list[pl.Expr] = [pl.len().alias("__rows")]
    for index, (name, dtype) in enumerate(schema.items()):
        column = pl.col(name)
        stats += [
            column.count().alias(f"{index}.count"),
            column.null_count().alias(f"{index}.nulls"),
            column.drop_nulls().n_unique().alias(f"{index}.nunique"),
        ]
        if _orderable(dtype):
            stats += [column.min().alias(f"{index}.min"), column.max().alias(f"{index}.max")]
        if dtype.is_numeric():
            stats.append(column.cast(pl.Float64).mean().alias(f"{index}.mean"))
    tops = [
        frame.select(pl.col(name).alias("value"))
        .drop_nulls()
        .group_by("value")
        .len("count")
        .sort(["count", "value"], descending=[True, False])
        .head(TOP_VALUES)
        for name, dtype in schema.items()
        if _orderable(dtype)
    ]
    summary, *top_frames = pl.collect_all([frame.select(stats), *tops])
    row = summary.row(0, named=True)
    response = data_pb2.DescribeResponse(version=version, rows=int(row["__rows"]))
    top_of = iter(top_frames)
    for index, (name, dtype) in enumerate(schema.items()):
        spec = data_pb2.ColumnSpec(
            name=name,
            type=arrow_type_name(dtype),
            count=int(row[f"{index}.count"]),
            nulls=int(row[f"{index}.nulls"]),
            nunique=int(row[f"{index}.nunique"]),
        )
        if _orderable(dtype):
            if row[f"{index}.min"] is not None:
                spec.min.CopyFrom(python_to_value(row[f"{index}.min"]))
                spec.max.CopyFrom(python_to_value(row[f"{index}.max"]))
            for value, count in next(top_of).iter_rows():
                spec.top_values.add(value=python_to_value(value), count=int(count))
        mean = row.get(f"{index}.mean")
        if mean is not None:
            spec.mean = float(mean)
        response.columns.append(spec)
    return response
