"""Arrow values as JSON and CSV text hold them: bytes as base64, NaN and infinities as null,
nested values (lists, structs, maps) as JSON."""

from __future__ import annotations

import base64
import json
import math
from datetime import date, datetime, time
from typing import Any

import pyarrow as pa


def json_default(value: Any) -> Any:
    """What `json.dumps` writes for a value it has no form of: bytes as base64 text, dates
    and times in ISO 8601 as /query's results give them (UTC as `Z`), the rest (decimals) as
    their text."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime | date | time):
        text = value.isoformat()
        return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
    return str(value)


def json_value(value: Any) -> Any:
    """`value` (as Arrow's to_pylist gives it) with what JSON cannot hold replaced: a NaN or an
    infinity by null, bytes by base64 text, a map's (key, value) pairs by lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes | bytearray):
        return json_default(value)
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: json_value(item) for key, item in value.items()}
    return value


def json_text(value: Any) -> str:
    """One value as JSON text."""
    return json.dumps(json_value(value), default=json_default, allow_nan=False)


def needs_text(dtype: pa.DataType) -> bool:
    """Whether CSV needs a column of `dtype` given as text: bytes and nested values."""
    if pa.types.is_dictionary(dtype):
        return needs_text(dtype.value_type)
    return (
        pa.types.is_nested(dtype)
        or pa.types.is_binary(dtype)
        or pa.types.is_large_binary(dtype)
        or pa.types.is_binary_view(dtype)
        or pa.types.is_fixed_size_binary(dtype)
    )


def csv_ready(batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch | pa.Table:
    """`batch` with its bytes columns as base64 text and its nested ones as JSON text, which
    CSV can hold (the others as they are)."""
    columns = []
    for column in batch.columns:
        if needs_text(column.type):
            text = [
                None if value is None else json_default(value)
                if isinstance(value, bytes) else json_text(value)
                for value in column.to_pylist()
            ]  # fmt: skip
            column = pa.array(text, pa.string())
        columns.append(column)
    return type(batch).from_arrays(columns, names=batch.schema.names)
