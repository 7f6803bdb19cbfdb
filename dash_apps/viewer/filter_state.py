"""The page's filter state (one client-side store) → typed filter trees per data collection.

The store holds each control's value and each selection (points on a scatter, rows of a
table). Every non-empty one becomes a predicate on its data collection; filters on one table
reach the tables joined with it (when they have the column) here, and linked tables in
data_svc. Values arrive as JSON — strings for select options — and are typed from the
column's Arrow type before they become proto Values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from depictio.filters import all_of, in_filter, python_to_value
from depictio.v1 import common_pb2

# A selection of more points than this is refused as a filter rather than sent as a huge tree.
MAX_SELECTED_POINTS = 5_000
INTEGER_TYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
FLOAT_TYPES = ("float", "double", "halffloat", "float16", "float32", "float64")

# The segmented control's "All" segment, named apart from any text a column holds ("__all__"
# can be one: a value of that text could not be chosen).
EVERY_VALUE = "__depictio_every_value__"


@dataclass(frozen=True)
class ActiveFilter:
    """One filter in force, for the summary: where it comes from and what it keeps."""

    component_id: str
    label: str
    description: str


def typed(value: Any, arrow_type: str) -> Any:
    """A JSON value as the column's type expects it (select options arrive as strings)."""
    if value is None:
        return None
    if arrow_type in INTEGER_TYPES:
        return int(float(value))
    if arrow_type in FLOAT_TYPES:
        return float(value)
    if arrow_type == "bool":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if arrow_type.startswith("timestamp") or arrow_type.startswith("date"):
        return _moment(value)
    return value if isinstance(value, str) else str(value)


def _moment(value: Any) -> datetime:
    text = str(value).replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def predicate(column: str, op: str, value: Any) -> common_pb2.Filter:
    """A one-column filter (`op` is a ColumnPredicate field name)."""
    node = common_pb2.ColumnPredicate(column=column)
    if op == "equals":
        node.equals.CopyFrom(python_to_value(value))
    elif op == "contains_any_case":
        node.contains_any_case = str(value)
    elif op == "range":
        low, high = value
        if low is not None:
            node.range.min.CopyFrom(python_to_value(low))
        if high is not None:
            node.range.max.CopyFrom(python_to_value(high))
    else:
        raise ValueError(f"unknown predicate {op!r}")
    return common_pb2.Filter(column=node)


def any_of(filters: list[common_pb2.Filter]) -> common_pb2.Filter:
    return common_pb2.Filter(any_of=common_pb2.FilterList(filters=filters))


def control_filter(
    spec: dict[str, Any], value: Any, arrow_type: str, bounds: dict[str, Any]
) -> common_pb2.Filter | None:
    """The filter an interactive control's value stands for (None when it keeps every row)."""
    column = spec["column"]
    kind = spec["interactive_type"]
    if kind in ("select", "segmented_control"):
        # An empty text is a value like any other (a cleared select is None).
        if value is None or value == EVERY_VALUE:
            return None
        return in_filter(column, [typed(value, arrow_type)])
    if kind == "multiselect":
        if not value:
            return None
        return in_filter(column, [typed(v, arrow_type) for v in value])
    if kind == "checkbox":
        return predicate(column, "equals", True) if value else None
    if kind == "text_input":
        text = (value or "").strip()
        return predicate(column, "contains_any_case", text) if text else None
    if kind == "range_slider":
        if not value or list(value) == [bounds.get("min"), bounds.get("max")]:
            return None
        return predicate(
            column, "range", (typed(value[0], arrow_type), typed(value[1], arrow_type))
        )
    if kind == "slider":
        if value is None or value == bounds.get("max"):
            return None
        return predicate(column, "range", (None, typed(value, arrow_type)))
    if kind == "date_range":
        if not value or not any(value):
            return None
        start = _moment(value[0]) if value[0] else None
        end = (
            _moment(value[1]) + timedelta(days=1) - timedelta(microseconds=1) if value[1] else None
        )
        return predicate(column, "range", (start, end))
    raise ValueError(f"unknown interactive type {kind!r}")


def selection_filter(
    spec: dict[str, Any], selection: dict[str, Any], types: dict[str, str]
) -> common_pb2.Filter | None:
    """The filter a selection on a figure or table stands for."""
    kind = selection.get("kind")
    if kind == "box":
        x, y = spec.get("x"), spec.get("y")
        parts = []
        if x and selection.get("x"):
            parts.append(predicate(x, "range", tuple(selection["x"])))
        if y and selection.get("y"):
            parts.append(predicate(y, "range", tuple(selection["y"])))
        return all_of(parts) if parts else None
    if kind == "points":
        x, y = spec["x"], spec["y"]
        pairs = {(p[0], p[1]) for p in selection.get("points", [])}
        if not pairs:
            return None
        if len(pairs) > MAX_SELECTED_POINTS:
            raise ValueError(
                f"{len(pairs):,} points selected; at most {MAX_SELECTED_POINTS:,} can filter"
            )
        return any_of(
            [
                all_of(
                    [
                        predicate(x, "equals", typed(px, types.get(x, ""))),
                        predicate(y, "equals", typed(py, types.get(y, ""))),
                    ]
                )
                for px, py in sorted(pairs, key=repr)
            ]
        )
    if kind == "rows":
        rows = selection.get("rows", [])
        if not rows:
            return None
        return any_of(
            [
                all_of(
                    [
                        predicate(column, "equals", typed(value, types.get(column, "")))
                        for column, value in row.items()
                        if column in types and value is not None
                    ]
                )
                for row in rows
            ]
        )
    return None


def filters_by_data_collection(
    context: dict[str, Any], state: dict[str, Any], skip_selection_of: str = ""
) -> tuple[dict[str, common_pb2.Filter], list[ActiveFilter]]:
    """Per data collection id, the AND of its filters; and the filters in force, described.

    `skip_selection_of` leaves out one component's own selection (its own refresh shows all
    its points, with the selection drawn on them)."""
    predicates: dict[str, list[tuple[str, common_pb2.Filter]]] = {}
    active: list[ActiveFilter] = []
    components = context["components"]
    for cid, value in (state.get("controls") or {}).items():
        entry = components.get(cid)
        if entry is None or not entry.get("dc"):
            continue
        dc = entry["dc"]
        spec = entry["spec"]
        types = context["types"].get(dc, {})
        bounds = context["specs"].get(dc, {}).get(spec["column"], {})
        node = control_filter(spec, value, types.get(spec["column"], ""), bounds)
        if node is not None:
            predicates.setdefault(dc, []).append((spec["column"], node))
            active.append(ActiveFilter(cid, spec.get("title") or spec["column"], describe(value)))
    for cid, selection in (state.get("selections") or {}).items():
        entry = components.get(cid)
        if entry is None or not entry.get("dc") or cid == skip_selection_of:
            continue
        dc = entry["dc"]
        node = selection_filter(entry["spec"], selection, context["types"].get(dc, {}))
        if node is not None:
            predicates.setdefault(dc, []).append(("", node))
            count = len(selection.get("points") or selection.get("rows") or [])
            what = f"{count:,} selected" if count else "box selection"
            active.append(ActiveFilter(cid, entry["spec"].get("title") or cid, what))
    propagated: dict[str, list[tuple[str, common_pb2.Filter]]] = {}
    for dc, entries in predicates.items():
        for other in context["related"].get(dc, []):
            columns = context["types"].get(other)
            for column, node in entries:
                if column and columns is not None and column in columns:
                    propagated.setdefault(other, []).append((column, node))
    for dc, entries in propagated.items():
        predicates.setdefault(dc, []).extend(entries)
    return {dc: all_of(node for _, node in entries) for dc, entries in predicates.items()}, active


def describe(value: Any) -> str:
    """A control's value in a few words (numbers to 6 significant digits)."""
    if isinstance(value, list):
        shown = ", ".join(describe(v) for v in value[:3] if v is not None)
        return shown + (f" (+{len(value) - 3})" if len(value) > 3 else "")
    if value is True:
        return "yes"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
