"""Point traces reach the page with the values of the query result, whatever their type.

Numbers travel as arrays (Dash's JSON writer hands them to orjson whole): the page must
still receive every value, a missing one as null, integers as their value."""

from __future__ import annotations

import json
import math

import pandas as pd
import polars as pl
from dash._utils import to_json

from dash_apps.viewer.figures import WEBGL_FROM_POINTS, figure, shown_points


def sent(built: dict) -> dict:
    """The figure as the page receives it."""
    return json.loads(to_json(built))


def same(received: list, expected: list) -> bool:
    return len(received) == len(expected) and all(
        (b is None and a is None) or (b is not None and a is not None and math.isclose(a, b))
        for a, b in zip(received, expected, strict=True)
    )


def test_a_scatter_sends_every_value_with_missing_ones_as_null() -> None:
    frame = pl.DataFrame(
        {
            "x": [1.5, None, float("nan"), -2.25, 1e300],
            "y": [1, 2, None, 4, 2**53 + 1],
            "c": [0.1, 0.2, 0.3, None, 0.5],
        },
        schema={"x": pl.Float64, "y": pl.Int64, "c": pl.Float32},
    )
    spec = {"id": "s", "visu_type": "scatter", "x": "x", "y": "y", "color": "c"}
    (trace,) = sent(figure(spec, frame.to_arrow(), "light"))["data"]
    assert trace["type"] == "scatter"
    assert same(trace["x"], [1.5, None, None, -2.25, 1e300])
    # Integers without a missing value stay integers (exact past 2^53).
    assert same(trace["y"][:2], [1, 2]) and trace["y"][2] is None
    assert trace["marker"]["color"][3] is None
    assert math.isclose(trace["marker"]["color"][0], 0.1, rel_tol=1e-6)


def test_integers_without_missing_values_arrive_exact() -> None:
    frame = pl.DataFrame({"x": [1, 2, 3], "y": [2**53 + 1, -(2**62), 0]})
    spec = {"id": "s", "visu_type": "line", "x": "x", "y": "y"}
    (trace,) = sent(figure(spec, frame.to_arrow(), "light"))["data"]
    assert trace["x"] == [1, 2, 3]
    assert trace["y"] == [2**53 + 1, -(2**62), 0]


def test_a_large_scatter_by_category_is_one_webgl_trace_per_category() -> None:
    n = WEBGL_FROM_POINTS + 1
    kinds = ["b", "a", None]
    frame = pl.DataFrame(
        {
            "x": [float(i) for i in range(n)],
            "y": [i % 7 for i in range(n)],
            "kind": [kinds[i % 3] for i in range(n)],
        }
    )
    spec = {"id": "s", "visu_type": "scatter", "x": "x", "y": "y", "color": "kind"}
    built = figure(spec, frame.to_arrow(), "light")
    traces = sent(built)["data"]
    # One trace per category, in order, the missing ones last, each with its points.
    assert [trace["name"] for trace in traces] == ["a", "b", "(missing)"]
    assert {trace["type"] for trace in traces} == {"scattergl"}
    for trace, kind in zip(traces, ["a", "b", None], strict=True):
        rows = [i for i in range(n) if kinds[i % 3] == kind]
        assert trace["x"] == [float(i) for i in rows]
        assert trace["y"] == [i % 7 for i in rows]
    assert shown_points(built) == n


def test_a_small_scatter_names_the_trace_of_missing_categories() -> None:
    frame = pl.DataFrame({"x": [1.0, 2.0, 3.0], "y": [4, 5, 6], "kind": [None, "b", "a"]})
    spec = {"id": "s", "visu_type": "scatter", "x": "x", "y": "y", "color": "kind"}
    traces = sent(figure(spec, frame.to_arrow(), "light"))["data"]
    assert [(t["type"], t["name"], t["x"]) for t in traces] == [
        ("scatter", "a", [3.0]),
        ("scatter", "b", [2.0]),
        ("scatter", "(missing)", [1.0]),
    ]


def test_boolean_categories_are_drawn_as_text() -> None:
    # Plotly draws nothing on an axis of true and false: a heatmap of a boolean drew empty.
    frame = pl.DataFrame(
        {"grp": ["a", "a", "b"], "flag": [False, True, True], "n": [3, 5, 7]},
        schema={"grp": pl.String, "flag": pl.Boolean, "n": pl.Int64},
    )
    heat = {"id": "h", "visu_type": "heatmap", "x": "grp", "y": "flag"}
    (trace,) = sent(figure(heat, frame.to_arrow(), "light"))["data"]
    assert (trace["x"], trace["y"]) == (["a", "b"], ["False", "True"])
    # z[row of y][column of x], a missing cell as null.
    assert trace["z"] == [[3, None], [5, 7]]
    bars = {"id": "b", "visu_type": "bar", "x": "flag"}
    (bar,) = sent(figure(bars, frame.select("flag", "n").to_arrow(), "light"))["data"]
    assert (bar["x"], bar["y"]) == (["False", "True", "True"], [3, 5, 7])


def test_a_figure_of_no_rows_says_so_and_one_with_rows_does_not() -> None:
    spec = {"id": "s", "visu_type": "scatter", "x": "x", "y": "y"}
    empty = pl.DataFrame({"x": [], "y": []}, schema={"x": pl.Float64, "y": pl.Float64})
    notes = sent(figure(spec, empty.to_arrow(), "light"))["layout"]["annotations"]
    assert [n["text"] for n in notes] == ["No rows match the filters"]
    some = pl.DataFrame({"x": [1.0], "y": [2.0]})
    assert sent(figure(spec, some.to_arrow(), "light"))["layout"]["annotations"] == []
    # A histogram's bins that count nothing are no rows either.
    bins = pl.DataFrame({"bin_start": [0.0, 1.0], "bin_end": [1.0, 2.0], "count": [0, 0]})
    histogram = {"id": "h", "visu_type": "histogram", "x": "v"}
    assert len(sent(figure(histogram, bins.to_arrow(), "light"))["layout"]["annotations"]) == 1


def test_missing_and_empty_categories_are_named_alike_in_every_chart() -> None:
    # A bar's counts by category as data_svc answers them (the null group included), checked
    # against pandas' value_counts(dropna=False) of the same values.
    values = ["a", "", None, "b", "", None, "a", None]
    counts = pd.Series(values, dtype=object).value_counts(dropna=False)
    frame = pl.DataFrame(
        {"cat": list(counts.index), "count": counts.to_list()},
        schema={"cat": pl.String, "count": pl.Int64},
    )
    label = {"a": "a", "b": "b", "": "(empty text)", None: "(missing)"}
    wanted = {label[None if pd.isna(k) else k]: v for k, v in counts.items()}
    (bar,) = sent(figure({"id": "b", "visu_type": "bar", "x": "cat"}, frame.to_arrow(), "light"))[
        "data"
    ]
    assert dict(zip(bar["x"], bar["y"], strict=True)) == wanted
    (pie,) = sent(figure({"id": "p", "visu_type": "pie", "x": "cat"}, frame.to_arrow(), "light"))[
        "data"
    ]
    assert dict(zip(pie["labels"], pie["values"], strict=True)) == wanted
    cells = pl.DataFrame(
        {"x": ["p", None, "p"], "y": ["u", "u", None], "mean": [1.0, 5.0, 6.0]},
        schema={"x": pl.String, "y": pl.String, "mean": pl.Float64},
    )
    (heat,) = sent(
        figure({"id": "h", "visu_type": "heatmap", "x": "x", "y": "y"}, cells.to_arrow(), "light")
    )["data"]
    assert (heat["x"], heat["y"]) == (["p", "(missing)"], ["u", "(missing)"])
    assert heat["z"] == [[1.0, 5.0], [6.0, None]]


def test_a_box_of_no_values_says_so_and_a_violin_is_named_after_its_column() -> None:
    stats = ["q1", "median", "q3", "lower_whisker", "upper_whisker", "mean"]
    nothing = pl.DataFrame({s: [None] for s in stats}, schema=dict.fromkeys(stats, pl.Float64))
    box = {"id": "b", "visu_type": "box", "y": "v"}
    notes = sent(figure(box, nothing.to_arrow(), "light"))["layout"]["annotations"]
    assert [n["text"] for n in notes] == ["No rows match the filters"]
    violin = {"id": "v", "visu_type": "violin", "y": "depth"}
    points = pl.DataFrame({"depth": [1.0, 2.0]})
    (trace,) = sent(figure(violin, points.to_arrow(), "light"))["data"]
    assert trace["name"] == "depth"
