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


def test_active_filter_values_read_without_float_noise() -> None:
    from dash_apps.viewer.filter_state import describe

    assert describe(7.720000000000002) == "7.72"
    assert describe([5.92, 7.720000000000002]) == "5.92, 7.72"
    assert describe(["a", "b", "c", "d"]) == "a, b, c (+1)"
    assert describe(3) == "3"
