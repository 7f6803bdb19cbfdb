"""Arrow values as JSON and CSV text hold them: bytes as base64, NaN and infinities as null,
nested values (lists, structs, maps) as JSON; and that text read back as the values
(`from_text`, for CSV uploads)."""

from __future__ import annotations

import base64
import json
import math
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pyarrow as pa

from depictio.arrow_types import LIST_KINDS


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


class TextValueError(ValueError):
    """A text value that is not what `csv_ready` writes for its column's type: `row` (from 0)
    of the column, its `text`, what is wrong with it (`problem`: "is not base64 text of", "is
    not JSON text of" or "does not fit", followed by the type) and pyarrow's or JSON's
    `detail`."""

    def __init__(self, row: int, text: str, problem: str, detail: str = "") -> None:
        super().__init__(
            f"row {row}: {text!r} {problem} the type" + (f": {detail}" if detail else "")
        )
        self.row = row
        self.text = text
        self.problem = problem
        self.detail = detail


# What converting a JSON value to an Arrow type may raise on a value that does not fit it.
NOT_FITTING = (ValueError, TypeError, OverflowError, ArithmeticError, pa.ArrowException)


def from_text(column: pa.Array | pa.ChunkedArray, dtype: pa.DataType) -> pa.Array:
    """The values of type `dtype` that a text column holds as `csv_ready` writes them: bytes
    as base64 text, nested values as JSON text (a map as [key, value] pairs, or an object).
    A value that is neither is refused (TextValueError)."""
    texts: list[str | None] = column.to_pylist()
    values = [
        None if text is None else _from_text(row, text, dtype) for row, text in enumerate(texts)
    ]
    try:
        return pa.array(values, dtype)
    except NOT_FITTING as exc:
        failure = exc
    # Which value does not fit: one by one, only now.
    for row, value in enumerate(values):
        try:
            pa.array([value], dtype)
        except NOT_FITTING as exc:
            raise TextValueError(row, str(texts[row]), "does not fit", str(exc)) from exc
    raise failure


def _from_text(row: int, text: str, dtype: pa.DataType) -> Any:
    if pa.types.is_dictionary(dtype):
        return _from_text(row, text, dtype.value_type)
    if not pa.types.is_nested(dtype):
        try:
            return base64.b64decode(text, validate=True)
        except ValueError as exc:
            raise TextValueError(row, text, "is not base64 text of") from exc
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise TextValueError(row, text, "is not JSON text of", str(exc)) from exc
    try:
        return from_json(parsed, dtype)
    except NOT_FITTING as exc:
        raise TextValueError(row, text, "does not fit", str(exc)) from exc


def from_json(value: Any, dtype: pa.DataType) -> Any:
    """A JSON value (as `json_value` gives it) as what `pa.array` takes for `dtype`: bytes from
    base64 text, dates and times from ISO 8601 text, a map from [key, value] pairs; ValueError
    naming what does not fit (pa.array checks the rest: numbers, text)."""
    if value is None:
        return None
    if pa.types.is_dictionary(dtype):
        return from_json(value, dtype.value_type)
    if needs_text(dtype) and not pa.types.is_nested(dtype):
        return base64.b64decode(_expect(value, str, "base64 text"), validate=True)
    if pa.types.is_struct(dtype):
        fields = [dtype.field(i) for i in range(dtype.num_fields)]
        members = _expect(value, dict, "an object")
        unknown = set(members) - {field.name for field in fields}
        if unknown:
            raise ValueError(f"no field {min(unknown)!r}")
        return {field.name: from_json(members.get(field.name), field.type) for field in fields}
    if pa.types.is_map(dtype):
        pairs = list(value.items()) if isinstance(value, dict) else _expect(value, list, "pairs")
        for pair in pairs:
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise ValueError(f"expected a [key, value] pair, got {json.dumps(pair)[:80]}")
        return [(from_json(k, dtype.key_type), from_json(v, dtype.item_type)) for k, v in pairs]
    if any(is_list(dtype) for is_list in LIST_KINDS):
        return [from_json(item, dtype.value_type) for item in _expect(value, list, "a list")]
    if pa.types.is_timestamp(dtype):
        return datetime.fromisoformat(_expect(value, str, "ISO 8601 text"))
    if pa.types.is_date(dtype):
        return date.fromisoformat(_expect(value, str, "ISO 8601 text"))
    if pa.types.is_time(dtype):
        return time.fromisoformat(_expect(value, str, "ISO 8601 text"))
    if pa.types.is_decimal(dtype) and isinstance(value, str | int | float):
        return Decimal(str(value))
    return value


def _expect(value: Any, kind: type, described: str) -> Any:
    if not isinstance(value, kind):
        raise ValueError(f"expected {described}, got {json.dumps(value)[:80]}")
    return value
