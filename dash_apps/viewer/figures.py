"""Plotly figures (as plain dicts) from query results, in the page's colour scheme.

Figures are built by hand rather than with Plotly Express: a dict per trace from the result
columns costs microseconds, and a dashboard of sixteen figures is rebuilt on every filter
change. Large scatters use WebGL (`scattergl`), one trace per colour category like small
ones: in Chromium that draws a 10,000-point scatter of 12 categories sooner than one trace
coloured point by point (whose colours and hover texts are 10,000 strings to send and parse).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
from dash.dcc import Graph

WEBGL_FROM_POINTS = 2_000
# The key of the one group of a frame not split by a column.
UNGROUPED = object()
# The legend name of the rows whose colour column is empty.
MISSING_NAME = "(missing)"
EMPTY_TEXT_NAME = "(empty text)"
# Kinds whose x axis holds categories.
CATEGORY_X_KINDS = {"bar", "box", "violin", "heatmap"}
SCHEME_STYLES: dict[str, dict[str, Any]] = {
    "light": {"font": "#212529", "grid": "#e9ecef", "zero": "#ced4da"},
    "dark": {"font": "#c9c9c9", "grid": "#373a40", "zero": "#5c5f66"},
}


def graph_config(pixel_ratio: float | None) -> Graph.Config:
    """A figure's Plotly config. WebGL figures are drawn at the screen's pixel ratio: Plotly's
    default (2) draws four times the pixels a usual screen shows: a 10,000-point scatter then
    took 1.7 times as long to paint (260 vs 150 ms, headless Chromium without a GPU)."""
    config: Graph.Config = {"displaylogo": False, "responsive": True}
    if pixel_ratio is not None:
        config["plotGlPixelRatio"] = pixel_ratio
    return config


def theme_layout(scheme: str) -> dict[str, Any]:
    """The parts of a figure's layout that follow the colour scheme."""
    style = SCHEME_STYLES.get(scheme, SCHEME_STYLES["light"])
    axis = {"gridcolor": style["grid"], "zerolinecolor": style["zero"]}
    return {
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": style["font"]},
        "xaxis": dict(axis),
        "yaxis": dict(axis),
    }


def base_layout(spec: dict[str, Any], scheme: str) -> dict[str, Any]:
    """Margins, axis titles, theme; `uirevision` keeps zoom and selections across updates."""
    layout = theme_layout(scheme)
    # Category labels turn on their side when they do not fit across: room for them and the
    # axis title below (set once: Plotly's automargin would draw each such figure twice).
    bottom = 70 if spec["visu_type"] in CATEGORY_X_KINDS and spec.get("x") else 40
    layout.update(
        {
            "margin": {"l": 50, "r": 10, "t": 10, "b": bottom},
            "uirevision": spec["id"],
            # Above the plot: below it, the legend and the x axis's title overlapped.
            "legend": {
                "orientation": "h",
                "yanchor": "bottom",
                "y": 1.0,
                "xanchor": "left",
                "x": 0,
            },
            "autosize": True,
        }
    )
    if spec.get("x"):
        layout["xaxis"]["title"] = {"text": spec["x"]}
    if spec.get("y"):
        layout["yaxis"]["title"] = {"text": spec["y"]}
    if spec["visu_type"] == "histogram":
        layout["barmode"] = "stack"
        layout["yaxis"]["title"] = {"text": "count"}
    return layout


def shown_points(built: dict[str, Any]) -> int:
    """How many points a built figure draws."""
    total = 0
    for trace in built["data"]:
        values = trace.get("x") if trace.get("x") is not None else trace.get("y")
        if values is not None:
            total += len(values)
    return total


def groups(frame: pl.DataFrame, column: str | None) -> list[tuple[Any, pl.DataFrame]]:
    """The frame split by the values of `column`, sorted by value, missing last (one group,
    keyed UNGROUPED, without it)."""
    if not column or column not in frame.columns:
        return [(UNGROUPED, frame)]
    keys = frame.get_column(column).unique().sort(nulls_last=True).to_list()
    parts = frame.partition_by(column, as_dict=True, maintain_order=True)
    return [(key, parts[(key,)]) for key in keys if (key,) in parts]


def _values(frame: pl.DataFrame, column: str | None) -> list[Any] | None:
    if not column or column not in frame.columns:
        return None
    return frame.get_column(column).to_list()


def _points_of(frame: pl.DataFrame, column: str | None) -> np.ndarray | list[Any] | None:
    """A point trace's values of `column` as an array (numbers) or a list (other values).

    Dash writes a response's JSON through Plotly's encoder, which walks every value of a
    list in Python but hands a numeric array to orjson whole: for a 10,000-point scatter,
    ~20 ms less per page or filter change."""
    dtype = frame.schema.get(column) if column else None
    if dtype is not None and (dtype.is_integer() or dtype.is_float()):
        return frame.get_column(str(column)).to_numpy()
    return _values(frame, column)


def _named(trace: dict[str, Any], key: Any) -> dict[str, Any]:
    """A group's trace named after its value (the group of missing values: MISSING_NAME)."""
    if key is not UNGROUPED:
        name = str(category_label(key))
        trace["name"] = name
        trace["legendgroup"] = name
    return trace


# Written across an empty figure: its query kept no row.
NO_DATA_NOTE = {
    "text": "No rows match the filters",
    "xref": "paper",
    "yref": "paper",
    "x": 0.5,
    "y": 0.5,
    "showarrow": False,
}


def figure(spec: dict[str, Any], table: pa.Table, scheme: str) -> dict[str, Any]:
    """The figure of one component's query result (saying so when it holds nothing)."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    kind = spec["visu_type"]
    builder = BUILDERS.get(kind, _points)
    layout = base_layout(spec, scheme)
    layout["annotations"] = [] if _holds_rows(frame) else [dict(NO_DATA_NOTE)]
    return {"data": builder(spec, frame), "layout": layout}


def _holds_rows(frame: pl.DataFrame) -> bool:
    """Whether a query result counts any row (a histogram's bins may all count none, a box's
    one row of statistics may be all null)."""
    if "bin_start" in frame.columns and "count" in frame.columns:
        return bool(frame.get_column("count").sum())
    if "median" in frame.columns and "q1" in frame.columns:
        return frame.get_column("median").drop_nulls().len() > 0
    return frame.height > 0


def _points(spec: dict[str, Any], frame: pl.DataFrame) -> list[dict[str, Any]]:
    kind = spec["visu_type"]
    x, y, color = spec.get("x"), spec.get("y"), spec.get("color")
    categorical_color = color and frame.schema.get(color) in (pl.String, pl.Categorical, pl.Boolean)
    traces = []
    for key, part in groups(frame, color if categorical_color else None):
        if kind in ("line", "area") and x:
            part = part.sort(x)
        trace: dict[str, Any] = {
            "type": "scattergl" if frame.height > WEBGL_FROM_POINTS else "scatter",
            "mode": "lines" if kind in ("line", "area") else "markers",
            "x": _points_of(part, x),
            "y": _points_of(part, y),
        }
        if kind == "area":
            trace["fill"] = "tozeroy"
        marker: dict[str, Any] = {}
        if color and not categorical_color:
            marker.update(
                {"color": _points_of(part, color), "colorscale": "Viridis", "showscale": True}
            )
        size = spec.get("size")
        if size and size in part.columns:
            sizes = part.get_column(size).cast(pl.Float64)
            largest = sizes.max() or 1.0
            marker["size"] = (sizes / largest * 20 + 4).fill_null(4).to_list()
        if marker:
            trace["marker"] = marker
        hover = [c for c in spec.get("hover", []) if c in part.columns]
        if hover:
            trace["customdata"] = part.select(hover).rows()
            trace["hovertemplate"] = (
                f"{x}=%{{x}}<br>{y}=%{{y}}<br>"
                + "<br>".join(f"{c}=%{{customdata[{i}]}}" for i, c in enumerate(hover))
                + "<extra></extra>"
            )
        traces.append(_named(trace, key))
    return traces


def _histogram(spec: dict[str, Any], frame: pl.DataFrame) -> list[dict[str, Any]]:
    if "bin_start" in frame.columns:
        starts = frame.get_column("bin_start").to_list()
        ends = frame.get_column("bin_end").to_list()
        return [
            {
                "type": "bar",
                "x": [(a + b) / 2 for a, b in zip(starts, ends, strict=True)],
                "width": [b - a for a, b in zip(starts, ends, strict=True)],
                "y": frame.get_column("count").to_list(),
                "name": spec.get("x") or spec.get("y"),
            }
        ]
    column = spec.get("x") or spec.get("y")
    nbins = int(spec.get("options", {}).get("nbins") or 20)
    return [
        _named({"type": "histogram", "x": _values(part, column), "nbinsx": nbins}, key)
        for key, part in groups(frame, spec.get("color"))
    ]


def _box(spec: dict[str, Any], frame: pl.DataFrame) -> list[dict[str, Any]]:
    x, y, color = spec.get("x"), spec.get("y"), spec.get("color")
    category = x if y else None
    traces = []
    for key, part in groups(frame, color):
        names = _categories(_values(part, category)) or [y or x]
        traces.append(
            _named(
                {
                    "type": "box",
                    "x": [str(n) for n in names],
                    "q1": _values(part, "q1"),
                    "median": _values(part, "median"),
                    "q3": _values(part, "q3"),
                    "lowerfence": _values(part, "lower_whisker"),
                    "upperfence": _values(part, "upper_whisker"),
                    "mean": _values(part, "mean"),
                },
                key,
            )
        )
    return traces


def _violin(spec: dict[str, Any], frame: pl.DataFrame) -> list[dict[str, Any]]:
    x, y = spec.get("x"), spec.get("y")
    return [
        _named(
            {
                "type": "violin",
                "x": _categories(_values(part, x)) if y else None,
                "y": _values(part, y or x),
                "name": y or x,
            },
            key,
        )
        for key, part in groups(frame, spec.get("color"))
    ]


def _categories(values: list[Any] | None) -> list[Any] | None:
    """Values placed along a category axis or in a legend, as every chart names them:
    booleans as text (Plotly draws nothing on an axis of true and false), a missing value as
    MISSING_NAME and an empty text as EMPTY_TEXT_NAME (Plotly drops the one and leaves the
    other unnamed)."""
    if values is None:
        return None
    return [category_label(v) for v in values]


def category_label(value: Any) -> Any:
    """One value as a category (see _categories); numbers and other text as they are."""
    if value is None:
        return MISSING_NAME
    if value == "":
        return EMPTY_TEXT_NAME
    return str(value) if isinstance(value, bool) else value


def _measure(frame: pl.DataFrame) -> str:
    return frame.columns[-1]


def _bar(spec: dict[str, Any], frame: pl.DataFrame) -> list[dict[str, Any]]:
    x, color = spec.get("x"), spec.get("color")
    measure = _measure(frame)
    return [
        _named(
            {"type": "bar", "x": _categories(_values(part, x)), "y": _values(part, measure)}, key
        )
        for key, part in groups(frame, color if color != x else None)
    ]


def _pie(spec: dict[str, Any], frame: pl.DataFrame) -> list[dict[str, Any]]:
    names = spec.get("x") or spec.get("color")
    return [
        {
            "type": "pie",
            "labels": [str(v) for v in _categories(_values(frame, names)) or []],
            "values": _values(frame, _measure(frame)),
        }
    ]


def _heatmap(spec: dict[str, Any], frame: pl.DataFrame) -> list[dict[str, Any]]:
    x, y = spec.get("x"), spec.get("y")
    if not x or not y:
        return []
    measure = _measure(frame)
    xs = frame.get_column(x).unique().sort(nulls_last=True).to_list()
    ys = frame.get_column(y).unique().sort(nulls_last=True).to_list()
    cells = {(a, b): v for a, b, v in frame.select(x, y, measure).rows()}
    z = [[cells.get((a, b)) for a in xs] for b in ys]
    return [
        {
            "type": "heatmap",
            "x": _categories(xs),
            "y": _categories(ys),
            "z": z,
            "colorscale": "Viridis",
        }
    ]


BUILDERS = {
    "scatter": _points,
    "line": _points,
    "area": _points,
    "histogram": _histogram,
    "box": _box,
    "violin": _violin,
    "bar": _bar,
    "pie": _pie,
    "heatmap": _heatmap,
}
