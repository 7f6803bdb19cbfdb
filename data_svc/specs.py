"""Column specs (type, count, nulls, nunique, min/max/mean, top values), computed per version."""

from __future__ import annotations

import polars as pl

from data_svc.encoding import logical_schema
from depictio.arrow_types import internal_name, storable_type
from depictio.filters import python_to_value
from depictio.v1 import data_pb2

# Most frequent values kept per column.
TOP_VALUES = 10
# Columns with more distinct values get an estimated nunique and no top values.
EXACT_DISTINCT_LIMIT = 10_000
# Tables of at most this many values, and this many values at a time of tables of more
# than WIDE_COLUMNS columns, are counted in memory (compute_specs).
SMALL_TABLE_CELLS = 5_000_000
WIDE_COLUMNS = 64
# Fewer columns than this at a time (a table that long) are counted lazily after all: read
# one at a time, its columns took 1.5 times as long as in one lazy query.
MIN_COLUMNS_AT_A_TIME = 16
# What values and their counts are tallied as in memory: names no table's column can have.
VALUE, COUNT = internal_name("value"), internal_name("count")
# Text values longer than this are left out of a column's min/max and top values: a genome
# sequence in every spec would make a Describe answer larger than a gRPC message.
MAX_LISTED_CHARS = 1_000


def arrow_type_name(dtype: pl.DataType) -> str:
    """The Arrow name of a polars type, as clients see it (int64, string, timestamp[us]…)."""
    frame = pl.DataFrame(schema={"c": dtype}).to_arrow()
    # One flavour of text, binary and list, at any depth, as the table stores them.
    return str(storable_type(frame.schema.field("c").type))


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

    Planning a lazy query costs per column: a table of thousands of columns (an expression
    matrix) spent seconds planning for milliseconds of counting. So a table of at most
    SMALL_TABLE_CELLS values is read into memory and counted there, and a larger one of more
    than WIDE_COLUMNS columns likewise, so many columns at a time; only the other tables
    (long, of few columns) are counted by lazy scans.
    """
    # Encoded text columns (data_svc.encoding) are counted, ordered and named as strings.
    schema = logical_schema(frame.collect_schema())
    rows = int(frame.select(pl.len()).collect().item())
    if rows * max(len(schema), 1) <= SMALL_TABLE_CELLS:
        return _specs(frame.collect(), schema, rows, version)
    step = SMALL_TABLE_CELLS // rows
    if len(schema) <= WIDE_COLUMNS or step < MIN_COLUMNS_AT_A_TIME:
        return _specs(frame, schema, rows, version)
    response = data_pb2.DescribeResponse(version=version, rows=rows)
    names = list(schema)
    for start in range(0, len(names), step):
        part = {name: schema[name] for name in names[start : start + step]}
        held = frame.select(list(part)).collect()
        response.columns.extend(_specs(held, part, rows, version).columns)
    return response


def _specs(
    source: pl.DataFrame | pl.LazyFrame, schema: dict[str, pl.DataType], rows: int, version: int
) -> data_pb2.DescribeResponse:
    """compute_specs of the `schema` columns of `source`, held in memory or scanned lazily."""
    stats: list[pl.Expr] = []
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
    row = _collected(source.select(stats)).row(0, named=True)
    # The estimate errs by a few percent: a margin keeps exact counting for every column
    # truly within the limit.
    exact = [
        (index, name, dtype)
        for index, (name, dtype) in enumerate(schema.items())
        if row[f"{index}.approx"] <= EXACT_DISTINCT_LIMIT * 1.1
    ]
    # A column's distinct values with their counts give both its exact nunique and its top
    # values, in one grouping; the columns that have no order are only counted.
    grouped = [(index, name) for index, name, dtype in exact if _orderable(dtype)]
    counted_only = [(index, name) for index, name, dtype in exact if not _orderable(dtype)]
    counts = (
        _value_counts_in_memory(source, grouped)
        if isinstance(source, pl.DataFrame)
        else _value_counts(source, grouped)
    )
    exact_nunique = {index: counted.height for index, counted in counts.items()}
    top_of = {
        index: _listed(counted).sort(["count", "value"], descending=[True, False]).head(TOP_VALUES)
        for index, counted in counts.items()
    }
    if counted_only:
        distinct = source.select(
            [pl.col(name).drop_nulls().n_unique().alias(str(index)) for index, name in counted_only]
        )
        found = _collected(distinct).row(0, named=True)
        exact_nunique |= {int(key): int(value) for key, value in found.items()}
    response = data_pb2.DescribeResponse(version=version, rows=rows)
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
        low, high = row.get(f"{index}.min"), row.get(f"{index}.max")
        if not (_listable_value(low) and _listable_value(high)):
            low, high = _short_text_range(source, name)
        if low is not None:
            spec.min.CopyFrom(python_to_value(low))
            spec.max.CopyFrom(python_to_value(high))
        for value, count in top_of[index].iter_rows() if index in top_of else []:
            spec.top_values.add(value=python_to_value(value), count=int(count))
        mean = row.get(f"{index}.mean")
        if mean is not None:
            spec.mean = float(mean)
        response.columns.append(spec)
    return response


def _collected(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def _listable_value(value: object) -> bool:
    """False for a text value too long to be listed (MAX_LISTED_CHARS)."""
    return not (isinstance(value, str) and len(value) > MAX_LISTED_CHARS)


def _short_text_range(source: pl.DataFrame | pl.LazyFrame, name: str) -> tuple[object, object]:
    """The least and greatest of a text column's values short enough to be listed (None,
    None when it has none): a second look at the column, when its min or max is too long."""
    text = pl.col(name).cast(pl.String)
    short = text.filter(text.str.len_chars() <= MAX_LISTED_CHARS)
    found = _collected(source.select(short.min().alias("low"), short.max().alias("high")))
    return found.item(0, "low"), found.item(0, "high")


def _listed(counted: pl.DataFrame) -> pl.DataFrame:
    """`counted` without the text values too long to be listed."""
    if counted.schema["value"] not in (pl.String, pl.Categorical):
        return counted
    return counted.filter(pl.col("value").cast(pl.String).str.len_chars() <= MAX_LISTED_CHARS)


def _value_counts(frame: pl.LazyFrame, columns: list[tuple[int, str]]) -> dict[int, pl.DataFrame]:
    """Each column's distinct non-null values with their counts, a grouping per column (all
    run together by collect_all)."""
    queries = [
        frame.select(pl.col(name).alias("value")).drop_nulls().group_by("value").len("count")
        for _, name in columns
    ]
    collected = pl.collect_all(queries) if queries else []
    return {index: counted for (index, _), counted in zip(columns, collected, strict=True)}


def _value_counts_in_memory(
    frame: pl.DataFrame, columns: list[tuple[int, str]]
) -> dict[int, pl.DataFrame]:
    """`_value_counts` of a table held in memory, in one selection over all the columns."""
    if not columns:
        return {}
    # Counted under names of their own: the table's columns may be called "value" or "count".
    counted = frame.select(
        [
            pl.col(name)
            .alias(VALUE)
            .drop_nulls()
            .value_counts(name=COUNT)
            .implode()
            .alias(str(index))
            for index, name in columns
        ]
    ).row(0)
    return {
        index: pl.DataFrame(pairs).rename({VALUE: "value", COUNT: "count"})
        if pairs
        else _no_values(frame, name)
        for (index, name), pairs in zip(columns, counted, strict=True)
    }


def _no_values(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    return pl.DataFrame(schema={"value": frame.schema[name], "count": pl.UInt32})
