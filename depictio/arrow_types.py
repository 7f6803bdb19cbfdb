"""The types columns are stored with in Delta tables, and which type changes a table takes.

Shared by data_svc (which enforces them on write) and the CLI (which checks files against a
table before uploading anything).
"""

from __future__ import annotations

import pyarrow as pa

# Delta Lake has no unsigned integers: each is stored in a signed type that holds its values
# (uint64 in int64, which refuses its values above 2^63 - 1).
SIGNED_FOR_UNSIGNED = {8: pa.int16(), 16: pa.int32(), 32: pa.int64(), 64: pa.int64()}


def storable_type(dtype: pa.DataType) -> pa.DataType:
    """The type a column is stored with: one string/binary flavour, dictionaries decoded,
    unsigned integers signed."""
    if pa.types.is_unsigned_integer(dtype):
        return SIGNED_FOR_UNSIGNED[dtype.bit_width]
    if pa.types.is_dictionary(dtype):
        return storable_type(dtype.value_type)
    if pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype):
        return pa.string()
    if pa.types.is_large_binary(dtype) or pa.types.is_binary_view(dtype):
        return pa.binary()
    if pa.types.is_null(dtype):
        return pa.string()
    if pa.types.is_timestamp(dtype) and dtype.unit != "us":
        # Delta stores microseconds.
        return pa.timestamp("us", tz=dtype.tz)
    return dtype


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
        return incoming.tz == existing.tz
    return False


def parse_type_name(name: str) -> pa.DataType | None:
    """The Arrow type a name such as Describe gives ('int64', 'double', 'string', 'bool',
    'date32[day]'…) stands for; None for a name pyarrow has no alias of."""
    try:
        return pa.type_for_alias(name)
    except ValueError:
        return None
