"""Column specs (type, count, nulls, nunique, min/max/mean, top values), computed per version."""

from __future__ import annotations

import polars as pl

from data_svc.encoding import logical_schema
from depictio.filters import python_to_value
from depictio.v1 import data_pb2

# Most frequent values kept per column.
TOP_VALUES = 10
# Columns with more distinct values get an estimated nunique and no top values.
EXACT_DISTINCT_LIMIT = 10_000


def arrow_type_name(dtype: pl.DataType) -> str:
    """The Arrow name of a polars type, as clients see it (int64, string, timestamp[us]…)."""
    frame = pl.DataFrame(schema={"c": dtype}).to_arrow()
    name = str(frame.schema.field("c").type)
    return {"large_string": "string", "string_view": "string", "large_binary": "binary"}.get(
        name, name
    )


def _orderable(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() or dtype.is_temporal() or dtype in (pl.String, pl.Boolean)


def distinct_estimate(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A HyperLogLog estimate of the column's distinct values; nested values (lists, structs:
    polars estimates only flat ones) through their hashes."""
    values = column.drop_nulls()
    return (values.hash() if dtype.is_nested() else values).approx_n_unique()


def compute_specs(frame: pl.LazyFrame, version: int) -> data_pb2.DescribeResponse:
    """The table's row count and per-column specs.

    One pass gives counts, nulls, min/max/mean and a HyperLogLog estimate of the distinct
    values; a second pass groups by value (exact distinct count and top values) only the
    columns with at most EXACT_DISTINCT_LIMIT distinct values (grouping millions of distinct
    floats would cost more than the rest together, and their top values say nothing).
    """
    # Encoded text columns (data_svc.encoding) are counted, ordered and named as strings.
    schema = logical_schema(frame.collect_schema())
    stats: list[pl.Expr] = [pl.len().alias("__rows")]
    for index, (name, dtype) in enumerate(schema.items()):
        column = pl.col(name)
        stats += [
            column.count().alias(f"{index}.count"),
            column.null_count().alias(f"{index}.nulls"),
            distinct_estimate(column, dtype).alias(f"{index}.approx"),
        ]
        if _orderable(dtype):
            stats += [column.min().alias(f"{index}.min"), column.max().alias(f"{index}.max")]
        if dtype.is_numeric():
            stats.append(column.cast(pl.Float64).mean().alias(f"{index}.mean"))
    row = frame.select(stats).collect().row(0, named=True)
    # The estimate errs by a few percent: a margin keeps exact counting for every column
    # truly within the limit.
    exact = [
        (index, name, dtype)
        for index, (name, dtype) in enumerate(schema.items())
        if row[f"{index}.approx"] <= EXACT_DISTINCT_LIMIT * 1.1
    ]
    # A column's distinct values with their counts give both its exact nunique and its top
    # values, in one grouping; the columns that have no order are only counted.
    counted_only = [(index, name) for index, name, dtype in exact if not _orderable(dtype)]
    grouped = [(index, name) for index, name, dtype in exact if _orderable(dtype)]
    queries = [
        frame.select(pl.col(name).alias("value")).drop_nulls().group_by("value").len("count")
        for _, name in grouped
    ]
    if counted_only:
        queries.append(
            frame.select(
                [
                    pl.col(name).drop_nulls().n_unique().alias(str(index))
                    for index, name in counted_only
                ]
            )
        )
    collected = pl.collect_all(queries) if queries else []
    exact_nunique: dict[int, int] = {}
    top_of: dict[int, pl.DataFrame] = {}
    for (index, _), counted in zip(grouped, collected[: len(grouped)], strict=True):
        exact_nunique[index] = counted.height
        top_of[index] = counted.sort(["count", "value"], descending=[True, False]).head(TOP_VALUES)
    if counted_only:
        counts = collected[-1].row(0, named=True)
        exact_nunique |= {int(key): int(value) for key, value in counts.items()}
    response = data_pb2.DescribeResponse(version=version, rows=int(row["__rows"]))
    for index, (name, dtype) in enumerate(schema.items()):
        estimated = index not in exact_nunique
        spec = data_pb2.ColumnSpec(
            name=name,
            type=arrow_type_name(dtype),
            count=int(row[f"{index}.count"]),
            nulls=int(row[f"{index}.nulls"]),
            nunique=int(row[f"{index}.approx"]) if estimated else exact_nunique[index],
            nunique_estimated=estimated,
        )
        if _orderable(dtype) and row[f"{index}.min"] is not None:
            spec.min.CopyFrom(python_to_value(row[f"{index}.min"]))
            spec.max.CopyFrom(python_to_value(row[f"{index}.max"]))
        for value, count in top_of[index].iter_rows() if index in top_of else []:
            spec.top_values.add(value=python_to_value(value), count=int(count))
        mean = row.get(f"{index}.mean")
        if mean is not None:
            spec.mean = float(mean)
        response.columns.append(spec)
    return response
