"""The Viewer's filter controls: one per interactive component, with its options and default.

Select-like controls offer the column's distinct values (a DistinctQuery); sliders span the
column's range from the precomputed column specs, so they cost no scan.
"""

from __future__ import annotations

import math
from typing import Any

import dash_mantine_components as dmc

from dash_apps.viewer.data_batch import Round
from dash_apps.viewer.figures import EMPTY_TEXT_NAME
from dash_apps.viewer.filter_state import EVERY_VALUE, INTEGER_TYPES
from dash_apps.viewer.queries import MAX_OPTIONS
from dash_apps.viewer.values import SCIENTIFIC_FROM
from depictio.clients.data import result_table


def option_values(round_: Round, cid: str) -> list[dict[str, str]]:
    """A select-like control's options from its distinct-values result, in the values' order
    (the result lists the most frequent first: the ones kept when there are too many)."""
    result = round_.results.get(cid)
    if result is None:
        return []
    values = sorted(v for v in result_table(result).column(0).to_pylist() if v is not None)
    return [{"value": str(v), "label": str(v) if v != "" else EMPTY_TEXT_NAME} for v in values]


def segmented_options(round_: Round, cid: str) -> list[dict[str, str]]:
    """A segmented control's segments: All, then the options."""
    return [{"value": EVERY_VALUE, "label": "All"}, *option_values(round_, cid)]


def control(entry: dict[str, Any], context: dict[str, Any], round_: Round) -> Any:
    """An interactive component's control, with its starting value."""
    spec = entry["spec"]
    cid = spec["id"]
    kind = spec["interactive_type"]
    bounds = context["specs"].get(entry["dc"], {}).get(spec["column"], {})
    arrow_type = context["types"].get(entry["dc"], {}).get(spec["column"], "")
    label = spec.get("title") or spec["column"]
    if kind in ("select", "multiselect"):
        maker = dmc.MultiSelect if kind == "multiselect" else dmc.Select
        result = round_.results.get(cid)
        return maker(
            id={"type": "filter-select", "id": cid},
            label=label,
            # The distinct values were cut to the most frequent ones: said, not hidden.
            description=(
                f"The {MAX_OPTIONS:,} most frequent values"
                if result is not None and result.truncated
                else None
            ),
            data=option_values(round_, cid),
            value=[] if kind == "multiselect" else None,
            searchable=True,
            clearable=True,
            placeholder="All",
        )
    if kind == "segmented_control":
        return dmc.Stack(
            [
                dmc.Text(label, size="sm", fw=500),
                dmc.SegmentedControl(
                    id={"type": "filter-select", "id": cid},
                    data=segmented_options(round_, cid),
                    value=EVERY_VALUE,
                ),
            ],
            gap=4,
        )
    if kind == "checkbox":
        return dmc.Switch(id={"type": "filter-checked", "id": cid}, label=label, checked=False)
    if kind == "text_input":
        return dmc.TextInput(
            id={"type": "filter-value", "id": cid},
            label=label,
            value="",
            debounce=300,
            placeholder="Contains …",
        )
    if kind == "date_range":
        return dmc.DatePickerInput(
            id={"type": "filter-value", "id": cid},
            label=label,
            type="range",
            value=[None, None],
            clearable=True,
            minDate=_day(bounds.get("min")),
            maxDate=_day(bounds.get("max")),
        )
    low, high = bounds.get("min"), bounds.get("max")
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return dmc.Alert(f"{label}: no numeric range (no data yet?)", color="yellow")
    if not (math.isfinite(low) and math.isfinite(high)):
        return dmc.Alert(
            f"{label}: the column holds infinite values, which a slider cannot span",
            color="yellow",
        )
    low, high = low + 0, high + 0  # -0.0 as 0
    step, digits = slider_step(low, high, arrow_type in INTEGER_TYPES)
    common: dict[str, Any] = {
        "id": {"type": "filter-value", "id": cid},
        "min": low,
        "max": high,
        "step": step,
        # Values rounded to the step's decimals (no 7.720000000000002), the ends marked.
        "precision": digits,
        "marks": [{"value": v, "label": mark_label(v, digits)} for v in (low, high)],
        "updatemode": "mouseup",
        "mb": "lg",  # room for the marks' labels below the track
    }
    slider = (
        dmc.RangeSlider(value=[low, high], minRange=0, **common)
        if kind == "range_slider"
        else dmc.Slider(value=high, **common)
    )
    return dmc.Stack([dmc.Text(label, size="sm", fw=500), slider], gap=4)


def slider_step(low: float, high: float, integers: bool) -> tuple[float, int]:
    """A slider's step over [low, high] and the decimals its values keep: 1 for integers,
    else the power of ten nearest below a hundredth of the span (0.01 for 4.3–7.9); over no
    span, as many decimals as the value shows (3.5: 1)."""
    if integers:
        return 1, 0
    if not high > low:
        shown = f"{low:.6g}"
        return 1, len(shown.split(".")[1]) if "." in shown and "e" not in shown else 0
    # A hundredth of each end first: the span of -1e308..1e308 overflows.
    exponent = math.floor(math.log10(high / 100 - low / 100))
    return 10.0**exponent, max(0, -exponent)


def mark_label(value: float, digits: int) -> str:
    """A slider end's label: to the slider's decimals, the very large in scientific notation."""
    if abs(value) >= SCIENTIFIC_FROM:
        return f"{value:.4g}"
    return f"{value:,.{digits}f}"


def _day(value: Any) -> str | None:
    return str(value)[:10] if value else None


def control_defaults(context: dict[str, Any]) -> dict[str, Any]:
    """Every control's value when no filter is set, by component id."""
    return {
        cid: default_control_value(entry, context)
        for cid, entry in context["components"].items()
        if entry["spec"]["type"] == "interactive" and entry["dc"]
    }


def default_control_value(entry: dict[str, Any], context: dict[str, Any]) -> Any:
    """A control's value when no filter is set (the reset restores it)."""
    spec = entry["spec"]
    kind = spec["interactive_type"]
    bounds = context["specs"].get(entry["dc"], {}).get(spec["column"], {})
    return {
        "select": None,
        "multiselect": [],
        "segmented_control": EVERY_VALUE,
        "checkbox": False,
        "text_input": "",
        "date_range": [None, None],
        "range_slider": [bounds.get("min"), bounds.get("max")],
        "slider": bounds.get("max"),
    }[kind]
