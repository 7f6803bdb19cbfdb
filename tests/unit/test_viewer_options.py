"""A select-like control lists its options in the values' order, not by frequency."""

from __future__ import annotations

import pyarrow as pa

from dash_apps.viewer.controls import option_values
from dash_apps.viewer.data_batch import Round
from depictio.arrow_ipc import table_to_ipc
from depictio.v1 import data_pb2


def distinct_result(values: list[object], counts: list[int]) -> Round:
    """A round holding a distinct-values result as data_svc answers it (by count)."""
    table = pa.table({"value": values, "count": pa.array(counts, pa.int64())})
    result = data_pb2.ComponentResult(id="c", arrow_ipc=table_to_ipc(table))
    return Round(results={"c": result})


def test_text_options_are_in_alphabetical_order() -> None:
    round_ = distinct_result(["E", "A", "B", "D", "C"], [9, 7, 5, 3, 1])
    assert [o["value"] for o in option_values(round_, "c")] == ["A", "B", "C", "D", "E"]


def test_number_options_are_in_numeric_order() -> None:
    round_ = distinct_result([10, 9, 100, 2], [4, 3, 2, 1])
    assert [o["label"] for o in option_values(round_, "c")] == ["2", "9", "10", "100"]


def test_a_slider_steps_by_a_round_hundredth_of_its_span() -> None:
    from dash_apps.viewer.controls import slider_step

    assert slider_step(4.3, 7.9, integers=False) == (0.01, 2)
    assert slider_step(0.0, 1000.0, integers=False) == (10.0, 0)
    assert slider_step(0.0, 0.5, integers=False) == (0.001, 3)
    assert slider_step(3, 2_000, integers=True) == (1, 0)
    assert slider_step(5.0, 5.0, integers=False) == (1, 0)
    # One value: its own decimals (3.5 was marked "4"); the widest span floats hold.
    assert slider_step(3.5, 3.5, integers=False) == (1, 1)
    assert slider_step(-1e308, 1e308, integers=False) == (1e306, 0)


def test_a_slider_over_infinite_values_is_a_notice_not_a_broken_dashboard() -> None:
    from dash_apps.viewer.controls import control

    spec = {"id": "s", "type": "interactive", "column": "v", "interactive_type": "slider"}
    context = {
        "specs": {"dc": {"v": {"min": float("-inf"), "max": 8.0}}},
        "types": {"dc": {"v": "double"}},
    }
    shown = control({"spec": spec, "dc": "dc"}, context, Round(results={}))
    assert "infinite values" in str(shown.children)
    huge = {"specs": {"dc": {"v": {"min": -4e299, "max": 4e299}}}, "types": context["types"]}
    slider = control({"spec": spec, "dc": "dc"}, huge, Round(results={})).children[1]
    assert [mark["label"] for mark in slider.marks] == ["-4e+299", "4e+299"]


def test_numbers_shown_as_people_read_them() -> None:
    from dash_apps.viewer.values import format_value, json_cell

    assert format_value(4.000000000000001e299) == "4e+299"
    assert format_value(-0.0) == "0"
    assert format_value(1_234_567.891) == "1,234,567.891"
    assert format_value(float("inf")) == "∞"
    assert format_value(float("nan")) == "–"
    assert [json_cell(v) for v in (float("inf"), float("-inf"), float("nan"), 1.5)] == [
        "∞",
        "−∞",
        "NaN",
        1.5,
    ]


def test_active_filter_values_read_without_float_noise() -> None:
    from dash_apps.viewer.filter_state import describe

    assert describe(7.720000000000002) == "7.72"
    assert describe([5.92, 7.720000000000002]) == "5.92, 7.72"
    assert describe(["a", "b", "c", "d"]) == "a, b, c (+1)"
    assert describe(3) == "3"


def test_a_select_of_cut_options_says_so() -> None:
    from dash_apps.viewer.controls import control
    from dash_apps.viewer.queries import MAX_OPTIONS

    spec = {"id": "c", "type": "interactive", "column": "v", "interactive_type": "select"}
    context = {"specs": {}, "types": {"dc": {"v": "string"}}}
    round_ = distinct_result(["a", "b"], [2, 1])
    assert control({"spec": spec, "dc": "dc"}, context, round_).description is None
    round_.results["c"].truncated = True
    cut = control({"spec": spec, "dc": "dc"}, context, round_)
    assert cut.description == f"The {MAX_OPTIONS:,} most frequent values"
