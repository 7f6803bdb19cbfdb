"""The types columns are stored with in Delta tables, and which type changes a table takes.

Shared by data_svc (which enforces them on write) and the CLI (which checks files against a
table before uploading anything).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import pyarrow as pa

# Delta Lake has no unsigned integers: each is stored in a signed type that holds its values
# (uint64 in int64, which refuses its values above 2^63 - 1).
SIGNED_FOR_UNSIGNED = {8: pa.int16(), 16: pa.int32(), 32: pa.int64(), 64: pa.int64()}


class UnstorableColumn(ValueError):
    """A column no Delta table can hold as it is: what is wrong, naming the column."""


# Types Delta Lake has no counterpart of, with what their values are to a reader.
UNSUPPORTED: tuple[tuple[Callable[[pa.DataType], bool], str], ...] = (
    (pa.types.is_time, "times of day"),
    (pa.types.is_duration, "durations"),
    (pa.types.is_interval, "intervals"),
    (pa.types.is_union, "unions of types"),
    (lambda t: pa.types.is_decimal(t) and t.precision > 38, "decimals of over 38 digits"),
)
# Every flavour of list, each stored as a plain list.
LIST_KINDS: tuple[Callable[[pa.DataType], bool], ...] = (
    pa.types.is_list, pa.types.is_large_list, pa.types.is_list_view,
    pa.types.is_large_list_view, pa.types.is_fixed_size_list,
)  # fmt: skip


def has_kind(dtype: pa.DataType, matches: Callable[[pa.DataType], bool]) -> bool:
    """True when `dtype`, or a type nested in it at any depth, `matches`."""
    if matches(dtype):
        return True
    if pa.types.is_dictionary(dtype):
        return has_kind(dtype.value_type, matches)
    return any(has_kind(dtype.field(i).type, matches) for i in range(dtype.num_fields))


def holds_only_nulls(dtype: pa.DataType) -> bool:
    """True for the type of a column of nulls only, or of lists of them (a CSV file's empty
    column, polars' lists that are all empty): its values fit a column of any type (a list
    column of any list type)."""
    if pa.types.is_null(dtype):
        return True
    return any(is_list(dtype) for is_list in LIST_KINDS) and holds_only_nulls(dtype.value_type)


def unsupported_kind(dtype: pa.DataType) -> str | None:
    """What `dtype`'s values are when Delta cannot store them (at any depth of a nested
    type), else None."""
    return next((kind for matches, kind in UNSUPPORTED if has_kind(dtype, matches)), None)


def check_column_names(names: list[str], where: str, what: str = "column") -> None:
    """UnstorableColumn for a column (or a struct's field: `what` says which) without a
    name, a name with a NUL character, or a name given twice (in any case)."""
    for position, name in enumerate(names, start=1):
        if not name:
            raise UnstorableColumn(f"{where}: {what} {position} has no name (each needs one)")
        if "\x00" in name:
            raise UnstorableColumn(
                f"{where}: {what} {position} ({name!r}) has a NUL character in its name"
            )
    # Delta compares column names regardless of case.
    folded = Counter(name.lower() for name in names)
    duplicates = sorted({name for name in names if folded[name.lower()] > 1})
    if duplicates:
        raise UnstorableColumn(
            f"{where}: duplicate {what}s {duplicates} (names are compared regardless of case)"
        )


def check_field_names(schema: pa.Schema, where: str) -> None:
    """check_column_names for the columns of `schema` and for the fields of its struct
    columns, at any depth (inside lists and maps too)."""
    check_column_names(schema.names, where)

    def check_inside(dtype: pa.DataType, path: str) -> None:
        if pa.types.is_dictionary(dtype):
            dtype = dtype.value_type
        fields = [dtype.field(i) for i in range(dtype.num_fields)]
        if pa.types.is_struct(dtype):
            check_column_names([f.name for f in fields], where, f"column {path!r}, field")
        for field in fields:  # a struct's fields, a list's items, a map's entries
            check_inside(field.type, f"{path}.{field.name}")

    for field in schema:
        check_inside(field.type, field.name)


def internal_name(name: str) -> str:
    """The name of an intermediate column of a computation over a table: no stored column's
    name holds a NUL character (check_column_names), so it cannot meet one of them."""
    return f"\x00{name}"


def storable_type(dtype: pa.DataType) -> pa.DataType:
    """The type a column is stored with, at every depth of a nested type: one string, binary
    and list flavour, dictionaries decoded, unsigned integers signed, half floats as float32,
    dates in days, decimals in 128 bits, timestamps in microseconds and instants in UTC."""
    if pa.types.is_unsigned_integer(dtype):
        return SIGNED_FOR_UNSIGNED[dtype.bit_width]
    if pa.types.is_dictionary(dtype):
        return storable_type(dtype.value_type)
    if pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype):
        return pa.string()
    if any(
        check(dtype)
        for check in (
            pa.types.is_large_binary,
            pa.types.is_binary_view,
            pa.types.is_fixed_size_binary,
        )
    ):
        return pa.binary()
    if pa.types.is_null(dtype):
        return pa.string()
    if pa.types.is_float16(dtype):
        return pa.float32()
    if pa.types.is_date64(dtype):
        return pa.date32()
    if pa.types.is_decimal(dtype) and dtype.precision <= 38:
        return pa.decimal128(dtype.precision, dtype.scale)
    if pa.types.is_timestamp(dtype):
        # Delta stores microseconds, and instants (a time zone given) in UTC.
        return pa.timestamp("us", tz="UTC" if dtype.tz else None)
    if any(is_list(dtype) for is_list in LIST_KINDS):
        return pa.list_(_storable_field(dtype.value_field))
    if pa.types.is_struct(dtype):
        return pa.struct([_storable_field(dtype.field(i)) for i in range(dtype.num_fields)])
    if pa.types.is_map(dtype):
        return pa.map_(storable_type(dtype.key_type), _storable_field(dtype.item_field))
    return dtype


def _storable_field(field: pa.Field) -> pa.Field:
    return field.with_type(storable_type(field.type))


def written_type(dtype: pa.DataType) -> pa.DataType:
    """The type a column is handed to the Delta writer with: its storable type, except that
    text dictionaries stay dictionaries (stored as their values' type, each value encoded once
    instead of being spelled out on every row first)."""
    stored = storable_type(dtype)
    if pa.types.is_dictionary(dtype) and pa.types.is_string(stored):
        return pa.dictionary(dtype.index_type, stored)
    return stored


def stored_column(
    name: str, column: pa.ChunkedArray, target: pa.DataType, where: str
) -> pa.ChunkedArray:
    """`column` cast to `target`; UnstorableColumn naming the column when its type has no
    Delta counterpart or a value does not fit `target` (a uint64 above 2^63 - 1, nanoseconds
    in a microsecond timestamp)."""
    kind = unsupported_kind(column.type)
    if kind is not None:
        raise UnstorableColumn(
            f"column {name!r} of {where}: Delta tables cannot store {kind} ({column.type}); "
            "give them as text or as numbers"
        )
    if column.type == target:
        return column
    try:
        if has_kind(column.type, pa.types.is_list_view):
            # pyarrow casts a list view to a list of broken offsets: rebuilt from its values
            # (a rare type: slow is fine).
            return pa.chunked_array(
                [pa.array(chunk.to_pylist(), target) for chunk in column.chunks], target
            )
        return column.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise UnstorableColumn(
            f"column {name!r} of {where}: its {column.type} values do not all fit {target}, "
            f"the type it is stored with ({exc})"
        ) from exc


def is_text(dtype: pa.DataType) -> bool:
    """Text or bytes of any flavour, or a dictionary of them."""
    if pa.types.is_dictionary(dtype):
        return is_text(dtype.value_type)
    return any(
        check(dtype)
        for check in (
            pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view,
            pa.types.is_binary, pa.types.is_large_binary, pa.types.is_binary_view,
        )
    )  # fmt: skip


def storable_table(table: pa.Table, where: str) -> pa.Table:
    """`table` checked as data_svc checks what it is to store (`where`: its file), its columns
    cast to the types they are stored with — text left as it is (it always fits; the server
    settles its flavour). UnstorableColumn for the first column that cannot be stored."""
    check_field_names(table.schema, where)
    columns = [
        column
        if is_text(column.type)
        else stored_column(name, column, written_type(column.type), where)
        for name, column in zip(table.column_names, table.columns, strict=True)
    ]
    return pa.Table.from_arrays(columns, names=table.column_names)


def widens_to(incoming: pa.DataType, existing: pa.DataType) -> bool:
    """True when every `incoming` value fits `existing` exactly (int32→int64, int→float64)."""
    if incoming == existing:
        return True
    if pa.types.is_null(incoming):
        return True
    if pa.types.is_integer(incoming) and pa.types.is_integer(existing):
        return existing.bit_width >= incoming.bit_width and (
            pa.types.is_signed_integer(existing) or pa.types.is_unsigned_integer(incoming)
        )
    if pa.types.is_integer(incoming) or pa.types.is_floating(incoming):
        return pa.types.is_float64(existing) or (
            pa.types.is_float32(existing) and pa.types.is_float16(incoming)
        )
    if pa.types.is_timestamp(incoming) and pa.types.is_timestamp(existing):
        # Instants (any time zone: stored in UTC) or local times, on both sides.
        return (incoming.tz is None) == (existing.tz is None)
    return False


# How pyarrow names a timestamp type: 'timestamp[us]', 'timestamp[us, tz=UTC]'.
TIMESTAMP_NAME = re.compile(r"timestamp\[(s|ms|us|ns)(?:, tz=(.+))?\]")


def parse_type_name(name: str) -> pa.DataType | None:
    """The Arrow type a name such as Describe gives ('int64', 'double', 'string', 'bool',
    'date32[day]', 'timestamp[us, tz=UTC]'…) stands for; None for a name pyarrow has no alias
    of."""
    timestamp = TIMESTAMP_NAME.fullmatch(name)
    if timestamp is not None:
        return pa.timestamp(timestamp.group(1), tz=timestamp.group(2))
    try:
        return pa.type_for_alias(name)
    except ValueError:
        return None
