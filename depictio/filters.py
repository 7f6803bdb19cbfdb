"""The typed filter tree of common.proto: Values ↔ Python scalars and Filters → polars expressions.

Leaf predicates are two-valued: a null never satisfies `in`, `not_in`, `range`, `equals`,
`contains`, `contains_any_case` or `starts_with`, so that `negate` of a predicate keeps the
rows with nulls.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl
from google.protobuf.timestamp_pb2 import Timestamp

from depictio.errors import InvalidArgument
from depictio.v1 import common_pb2

Scalar = str | int | float | bool | datetime | None

# Maximum depth of a filter tree: deeper trees are refused rather than recursed into.
MAX_FILTER_DEPTH = 32


def value_to_python(value: common_pb2.Value) -> Scalar:
    """The Python scalar a Value holds (None when unset); InvalidArgument for a timestamp
    outside years 1–9999 (or with nanoseconds outside a second)."""
    kind = value.WhichOneof("kind")
    if kind is None:
        return None
    if kind == "timestamp_value":
        try:
            return value.timestamp_value.ToDatetime(tzinfo=UTC)
        except (ValueError, OverflowError) as exc:
            stamp = value.timestamp_value
            raise InvalidArgument(
                f"timestamp_value {{seconds: {stamp.seconds}, nanos: {stamp.nanos}}} is not a "
                f"time between years 1 and 9999 ({exc})"
            ) from exc
    result: Scalar = getattr(value, kind)
    return result


def python_to_value(scalar: Any) -> common_pb2.Value:
    """A Value holding a Python scalar; dates and datetimes become timestamps (UTC)."""
    if scalar is None:
        return common_pb2.Value()
    if isinstance(scalar, bool):
        return common_pb2.Value(bool_value=scalar)
    if isinstance(scalar, int):
        return common_pb2.Value(int_value=scalar)
    if isinstance(scalar, float):
        return common_pb2.Value(double_value=scalar)
    if isinstance(scalar, datetime | date):
        moment = scalar if isinstance(scalar, datetime) else datetime(*scalar.timetuple()[:3])
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        stamp = Timestamp()
        stamp.FromDatetime(moment)
        return common_pb2.Value(timestamp_value=stamp)
    return common_pb2.Value(string_value=str(scalar))


def filter_columns(node: common_pb2.Filter) -> set[str]:
    """Every column a filter tree names."""
    kind = node.WhichOneof("kind")
    if kind == "column":
        return {node.column.column}
    if kind in ("all_of", "any_of"):
        children = getattr(node, kind).filters
        return set().union(*(filter_columns(child) for child in children))
    if kind == "negate":
        return filter_columns(node.negate)
    return set()


def is_empty(node: common_pb2.Filter | None) -> bool:
    """True for an unset filter (which keeps every row)."""
    return node is None or node.WhichOneof("kind") is None


def filter_expression(
    node: common_pb2.Filter, schema: Mapping[str, pl.DataType], where: str = "filter"
) -> pl.Expr:
    """The polars expression of a filter tree over a table with `schema`.

    Unknown columns and values of the wrong kind for their column are refused with
    InvalidArgument naming the path in the tree, the column and what was expected.
    """
    return _node(node, schema, where, 0)


def _node(
    node: common_pb2.Filter, schema: Mapping[str, pl.DataType], where: str, depth: int
) -> pl.Expr:
    if depth > MAX_FILTER_DEPTH:
        raise InvalidArgument(f"{where}: filter tree deeper than {MAX_FILTER_DEPTH} levels")
    kind = node.WhichOneof("kind")
    if kind is None:
        return pl.lit(True)
    if kind == "column":
        return _predicate(node.column, schema, f"{where}.column")
    if kind == "negate":
        return ~_node(node.negate, schema, f"{where}.negate", depth + 1)
    children = [
        _node(child, schema, f"{where}.{kind}[{index}]", depth + 1)
        for index, child in enumerate(getattr(node, kind).filters)
    ]
    if kind == "all_of":
        return pl.all_horizontal(children) if children else pl.lit(True)
    return pl.any_horizontal(children) if children else pl.lit(False)


# Predicates on text: they need a string column.
TEXT_OPS = ("contains", "contains_any_case", "starts_with")


def _predicate(
    predicate: common_pb2.ColumnPredicate, schema: Mapping[str, pl.DataType], where: str
) -> pl.Expr:
    name = predicate.column
    if name not in schema:
        raise InvalidArgument(
            f"{where}: unknown column {name!r}; the table has {', '.join(sorted(schema))}"
        )
    dtype = schema[name]
    column = pl.col(name)
    op = predicate.WhichOneof("op")
    text_column = column.cast(pl.String) if isinstance(dtype, pl.Categorical) else column
    if op == "is_null":
        return column.is_null() if predicate.is_null else column.is_not_null()
    if op in TEXT_OPS:
        if not _is_string(dtype):
            raise InvalidArgument(f"{where}: {op} needs a string column; {name!r} is {dtype}")
        text = getattr(predicate, op)
        if op == "contains":
            test = text_column.str.contains(text, literal=True)
        elif op == "contains_any_case":
            test = text_column.str.contains(f"(?i){pl.escape_regex(text)}")
        else:
            test = text_column.str.starts_with(text)
        return test.fill_null(False)
    if op == "equals":
        value = _literal(predicate.equals, dtype, name, where)
        # A null, or a time no date equals: nothing is equal.
        return pl.lit(False) if value is None else (column == value).fill_null(False)
    if op in ("in_values", "not_in_values"):
        values = [_literal(v, dtype, name, where) for v in getattr(predicate, op).values]
        members = _membership(column, dtype, [v for v in values if v is not None])
        if op == "in_values":
            return members.fill_null(False)
        return (~members).fill_null(False) & column.is_not_null()
    if op == "range":
        # A bound left out or null is no bound (`column >= null` held for no row at all).
        test = pl.lit(True)
        low = _literal(predicate.range.min, dtype, name, where, bound="min")
        if low is not None:
            test = test & (column >= low)
        high = _literal(predicate.range.max, dtype, name, where, bound="max")
        if high is not None:
            test = test & (column <= high)
        return (test & column.is_not_null()).fill_null(False)
    raise InvalidArgument(f"{where}: predicate on {name!r} has no test")


def _membership(column: pl.Expr, dtype: pl.DataType, values: list[Any]) -> pl.Expr:
    """`column` is one of `values`, compared in one common type (polars does not coerce)."""
    target: pl.DataType = dtype
    if dtype.is_integer():
        # Compared as integers, exactly: a float with a fraction equals no integer, and
        # integers above 2^53 have no exact float.
        whole = [int(v) for v in values if isinstance(v, int) or _is_int64(v)]
        return column.cast(pl.Int64).is_in(pl.Series(values=whole, dtype=pl.Int64).implode())
    if dtype.is_numeric():
        floats = dtype.is_float() or any(isinstance(v, float) for v in values)
        target = pl.Float64() if floats else pl.Int64()
    elif _is_string(dtype):
        # A categorical column is tested against strings as it is: by its codes.
        target = pl.String()
    if target != dtype and not isinstance(dtype, pl.Categorical):
        column = column.cast(target)
    return column.is_in(pl.Series(values=values, dtype=target).implode())


def _is_int64(value: Any) -> bool:
    """Whether `value` is a float holding an integer int64 holds."""
    return isinstance(value, float) and value.is_integer() and -(2**63) <= value < 2**63


def _is_string(dtype: pl.DataType) -> bool:
    """Strings, plain or dictionary-encoded (polars Categorical)."""
    return dtype == pl.String or isinstance(dtype, pl.Categorical)


def _literal(
    value: common_pb2.Value,
    dtype: pl.DataType,
    name: str,
    where: str,
    bound: str = "",
) -> Any:
    """A value as a literal comparable with a column of `dtype`, or InvalidArgument.

    A date stands for its midnight: compared with a later time of a day, the day after as a
    range's `min` bound, the day as its `max`; equal to no date (None: matches nothing)."""
    try:
        scalar = value_to_python(value)
    except InvalidArgument as exc:
        raise InvalidArgument(f"{where}: {exc.message}") from exc
    if scalar is None:
        return None
    numeric = dtype.is_numeric()
    if isinstance(scalar, bool):
        if dtype == pl.Boolean:
            return scalar
    elif isinstance(scalar, int | float):
        if numeric:
            return scalar
    elif isinstance(scalar, datetime):
        if dtype == pl.Date:
            day = scalar.date()
            if scalar.time() == time(0) or bound == "max":
                return day
            if bound == "min" and day == date.max:
                raise InvalidArgument(
                    f"{where}: range.min {scalar.isoformat()} is after the last day a date "
                    f"column holds ({date.max})"
                )
            return day + timedelta(days=1) if bound == "min" else None
        if isinstance(dtype, pl.Datetime):
            return scalar if dtype.time_zone else scalar.replace(tzinfo=None)
    elif _is_string(dtype):
        return scalar
    shown = pl.String() if isinstance(dtype, pl.Categorical) else dtype
    raise InvalidArgument(
        f"{where}: column {name!r} is {shown}; a {type(scalar).__name__} value "
        f"({scalar!r}) cannot be compared with it"
    )


def in_filter(column: str, values: Iterable[Any]) -> common_pb2.Filter:
    """A filter keeping the rows whose `column` is one of `values`."""
    listed = common_pb2.ValueList(values=[python_to_value(v) for v in values])
    return common_pb2.Filter(column=common_pb2.ColumnPredicate(column=column, in_values=listed))


def all_of(filters: Iterable[common_pb2.Filter]) -> common_pb2.Filter:
    """The conjunction of the non-empty filters (an empty filter when there are none)."""
    present = [f for f in filters if not is_empty(f)]
    if not present:
        return common_pb2.Filter()
    if len(present) == 1:
        return present[0]
    return common_pb2.Filter(all_of=common_pb2.FilterList(filters=present))


def check_filter_depth(node: common_pb2.Filter, where: str) -> None:
    """InvalidArgument for a filter tree deeper than MAX_FILTER_DEPTH levels (as
    filter_expression refuses it), found without compiling it."""
    level = [node]
    for depth in range(MAX_FILTER_DEPTH + 2):
        if not level:
            return
        if depth > MAX_FILTER_DEPTH:
            raise InvalidArgument(f"{where}: filter tree deeper than {MAX_FILTER_DEPTH} levels")
        below: list[common_pb2.Filter] = []
        for child in level:
            kind = child.WhichOneof("kind")
            if kind == "negate":
                below.append(child.negate)
            elif kind in ("all_of", "any_of"):
                below.extend(getattr(child, kind).filters)
        level = below
