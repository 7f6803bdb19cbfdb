"""Cards and tables from query results: formatted numbers, grid rows, sample notes."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pyarrow as pa
from dash import html

from depictio.v1 import data_pb2

# Numbers this large or larger (in magnitude) are shown in scientific notation.
SCIENTIFIC_FROM = 1e15


def format_value(value: Any) -> str:
    """A number as a card shows it: integers with separators, others to 4 decimals, the very
    large in scientific notation (4e+299, not 300 digits), infinities as ∞."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) < SCIENTIFIC_FROM else f"{value:.4g}"
    if isinstance(value, float):
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        value += 0.0  # -0.0 shown as 0
        if abs(value) >= SCIENTIFIC_FROM:
            return f"{value:.4g}"
        if value.is_integer():
            return f"{int(value):,}"
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


# A value's characters are about 0.65 em wide in the theme's bold font (measured in Chromium):
# a value of n characters fits its card (a size container, see frame.py) at a font size up to
# 100 / (0.7 n) per cent of the card's width.
CARD_VALUE_EM_PER_CHARACTER = 0.7
CARD_VALUE_LARGEST = "1.8rem"


def value_font_size(text: str) -> str:
    """The card value's font size: 1.8rem, smaller when the card is too narrow for `text` (a
    narrow card cut "1,437,000" to "1,437,0" without a sign)."""
    fitting = 100 / (CARD_VALUE_EM_PER_CHARACTER * max(len(text), 1))
    return f"min({CARD_VALUE_LARGEST}, {fitting:.1f}cqi)"


def card_body(spec: dict[str, Any], table: pa.Table) -> list[Any]:
    """The card's value, then its secondary aggregations, from the one-row result."""
    row = table.to_pylist()[0] if table.num_rows else {}
    values = list(row.values())
    names = [
        spec["aggregation"],
        *[s for s in spec.get("secondary", []) if s != spec["aggregation"]],
    ]
    text = format_value(values[0] if values else None)
    main = html.Div(
        text,
        className="dpt-card-value",
        title=text,
        style={"fontSize": value_font_size(text), "fontWeight": 700, "lineHeight": 1.2},
    )
    secondary = [
        html.Span(f"{name} {format_value(value)}", className="dpt-card-secondary-item")
        for name, value in zip(names[1:], values[1:], strict=False)
    ]
    return [
        main,
        html.Div(
            f"{spec['aggregation']} of {spec['column']}",
            className="dpt-card-caption",
            style={"fontSize": "0.75rem", "opacity": 0.7},
        ),
        html.Div(
            secondary,
            className="dpt-card-secondary",
            style={"display": "flex", "flexWrap": "wrap", "gap": "0 12px", "fontSize": "0.8rem"},
        ),
    ]


def json_cell(value: Any) -> Any:
    """A table cell as JSON (dates and times as ISO text; NaN and infinities, which JSON has
    no form of, as text — not blank like a missing value)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("∞" if value > 0 else "−∞")
    return value


def table_rows(table: pa.Table) -> list[dict[str, Any]]:
    """A page of rows for AG Grid."""
    return [{k: json_cell(v) for k, v in row.items()} for row in table.to_pylist()]


def rows_caption(result: data_pb2.ComponentResult, page: int, page_size: int) -> str:
    """'Rows 1–25 of 150' for a table page."""
    total = result.total_rows
    if total == 0:
        return "No rows match the filters"
    first = (page - 1) * page_size + 1
    last = min(page * page_size, total)
    return f"Rows {first:,}–{last:,} of {total:,}"


def sample_note(result: data_pb2.ComponentResult, shown: int) -> str:
    """Says when a figure shows a sample rather than every point."""
    if result.sampled:
        return f"Estimated: {shown:,} of {result.total_rows:,} points shown"
    return ""
