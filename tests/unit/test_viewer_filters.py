"""The Viewer's filter state → filter trees: every control kind and selection keeps exactly the
rows pandas keeps on the same table, joins spread filters, and defaults filter nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from dash_apps.viewer.filter_state import (
    EVERY_VALUE,
    MAX_SELECTED_POINTS,
    control_filter,
    filters_by_data_collection,
    selection_filter,
)
from depictio.filters import filter_expression
from depictio.v1 import common_pb2, data_pb2

FRAME = pd.DataFrame(
    {
        "species": ["Adelie", "Gentoo", "Adelie", "Chinstrap", None, "Gentoo"],
        "mass": [3750.0, 5000.0, 3200.5, 3900.0, 4100.0, None],
        "year": [2007, 2008, 2009, 2007, 2008, 2009],
        "male": [True, False, True, None, False, True],
        "seen": pd.to_datetime(
            ["2007-11-10", "2008-01-02", "2009-12-31", "2007-06-30", "2008-07-01", "2009-01-01"],
            utc=True,
        ),
        "note": ["tagged", "Tag lost", "tagged twice", "", "no tag", None],
    }
)
TYPES = {
    "species": "string",
    "mass": "double",
    "year": "int64",
    "male": "bool",
    "seen": "timestamp[us, tz=UTC]",
    "note": "string",
}
BOUNDS: dict[str, dict[str, Any]] = {
    "mass": {"min": 3200.5, "max": 5000.0},
    "year": {"min": 2007, "max": 2009},
}


def kept(node: common_pb2.Filter | None) -> list[int]:
    """Row positions the filter keeps on FRAME (every row without a filter)."""
    table = pl.from_pandas(FRAME).with_row_index("row")
    if node is None:
        return table.get_column("row").to_list()
    expression = filter_expression(node, dict(table.schema))
    return table.filter(expression).get_column("row").to_list()


def control(column: str, kind: str) -> dict[str, Any]:
    return {"id": f"{column}_control", "column": column, "interactive_type": kind}


def apply(column: str, kind: str, value: Any) -> list[int]:
    node = control_filter(control(column, kind), value, TYPES[column], BOUNDS.get(column, {}))
    return kept(node)


def positions(mask: pd.Series) -> list[int]:
    return [i for i, keep in enumerate(mask.fillna(False).astype(bool)) if keep]


@pytest.mark.parametrize(
    ("column", "kind", "value", "expected"),
    [
        ("species", "select", "Gentoo", FRAME["species"] == "Gentoo"),
        ("species", "segmented_control", "Adelie", FRAME["species"] == "Adelie"),
        (
            "species",
            "multiselect",
            ["Adelie", "Chinstrap"],
            FRAME["species"].isin(["Adelie", "Chinstrap"]),
        ),
        # Select options are strings: "2008" selects the integer year 2008.
        ("year", "select", "2008", FRAME["year"] == 2008),
        ("year", "multiselect", ["2007", "2009"], FRAME["year"].isin([2007, 2009])),
        ("mass", "range_slider", [3500, 4500], FRAME["mass"].between(3500, 4500)),
        ("year", "range_slider", [2008, 2009], FRAME["year"].between(2008, 2009)),
        ("mass", "slider", 3900, FRAME["mass"] <= 3900),
        ("male", "checkbox", True, FRAME["male"] == True),  # noqa: E712 (a pandas mask)
        # Text search ignores case ("Tag lost" is kept).
        ("note", "text_input", "tag", FRAME["note"].str.contains("tag", case=False, regex=False)),
        (
            "seen",
            "date_range",
            ["2007-11-10", "2009-01-01"],
            FRAME["seen"].between(
                datetime(2007, 11, 10, tzinfo=UTC), datetime(2009, 1, 1, 23, 59, 59, tzinfo=UTC)
            ),
        ),
        (
            "seen",
            "date_range",
            [None, "2008-01-02"],
            FRAME["seen"] < datetime(2008, 1, 3, tzinfo=UTC),
        ),
    ],
)
def test_each_control_keeps_the_rows_pandas_keeps(
    column: str, kind: str, value: Any, expected: pd.Series
) -> None:
    assert apply(column, kind, value) == positions(expected)


@pytest.mark.parametrize(
    ("column", "kind", "value"),
    [
        ("species", "select", None),
        ("species", "segmented_control", EVERY_VALUE),
        ("species", "multiselect", []),
        ("mass", "range_slider", [3200.5, 5000.0]),
        ("mass", "slider", 5000.0),
        ("male", "checkbox", False),
        ("note", "text_input", "  "),
        ("seen", "date_range", [None, None]),
    ],
)
def test_a_control_at_its_default_filters_nothing(column: str, kind: str, value: Any) -> None:
    # A full-range slider must not drop the rows with nulls either: it is no filter at all.
    assert (
        control_filter(control(column, kind), value, TYPES[column], BOUNDS.get(column, {})) is None
    )


def test_box_lasso_and_row_selections_keep_exactly_the_selected_rows() -> None:
    spec = {"id": "scatter", "x": "mass", "y": "year"}
    box = selection_filter(spec, {"kind": "box", "x": [3500, 4200], "y": [2007, 2008]}, TYPES)
    assert kept(box) == positions(
        FRAME["mass"].between(3500, 4200) & FRAME["year"].between(2007, 2008)
    )

    lasso = {"kind": "points", "points": [[3750.0, 2007], [5000.0, 2008], [3750.0, 2007]]}
    expected = ((FRAME["mass"] == 3750.0) & (FRAME["year"] == 2007)) | (
        (FRAME["mass"] == 5000.0) & (FRAME["year"] == 2008)
    )
    assert kept(selection_filter(spec, lasso, TYPES)) == positions(expected)

    rows = {
        "kind": "rows",
        "rows": [{"species": "Gentoo", "year": 2009}, {"species": "Adelie", "year": 2007}],
    }
    expected = ((FRAME["species"] == "Gentoo") & (FRAME["year"] == 2009)) | (
        (FRAME["species"] == "Adelie") & (FRAME["year"] == 2007)
    )
    assert kept(selection_filter({"id": "table"}, rows, TYPES)) == positions(expected)


def test_too_many_selected_points_are_refused_with_the_limit() -> None:
    points = [[float(i), 2007] for i in range(MAX_SELECTED_POINTS + 1)]
    with pytest.raises(ValueError, match=f"{MAX_SELECTED_POINTS:,}"):
        selection_filter(
            {"id": "s", "x": "mass", "y": "year"}, {"kind": "points", "points": points}, TYPES
        )


def context() -> dict[str, Any]:
    """Three tables: `left` and `right` joined into `joined` (which has both their columns)."""

    def entry(dc: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {"tab": "t", "section": "", "dc": dc, "spec": spec}

    return {
        "components": {
            "species_control": entry("left", control("species", "multiselect")),
            "joined_year": entry("joined", control("year", "range_slider")),
            "scatter": entry("left", {"id": "scatter", "type": "figure", "x": "mass", "y": "year"}),
        },
        "related": {"left": ["joined"], "right": ["joined"], "joined": ["left", "right"]},
        "types": {
            "left": {"species": "string", "mass": "double", "year": "int64"},
            "right": {"year": "int64", "island": "string"},
            "joined": {"species": "string", "mass": "double", "year": "int64", "island": "string"},
        },
        "specs": {"joined": {"year": {"min": 2007, "max": 2009}}},
    }


def test_filters_reach_joined_tables_that_have_the_column() -> None:
    state = {
        "controls": {"species_control": ["Adelie"], "joined_year": [2008, 2009]},
        "selections": {"scatter": {"kind": "box", "x": [3000, 4000], "y": [2007, 2009]}},
    }
    filters, active = filters_by_data_collection(context(), state)
    columns = {dc: sorted(_columns(node)) for dc, node in filters.items()}
    # left: its own control and selection, and the joined table's year filter (left has year);
    # right: only the year (no species column); joined: its own year and the left's species.
    assert columns == {
        "left": ["mass", "species", "year", "year"],
        "joined": ["species", "year"],
        "right": ["year"],
    }
    assert [a.component_id for a in active] == ["species_control", "joined_year", "scatter"]
    # The scatter's own refresh leaves its selection out.
    own, _ = filters_by_data_collection(context(), state, skip_selection_of="scatter")
    assert sorted(_columns(own["left"])) == ["species", "year"]


def _columns(node: common_pb2.Filter) -> list[str]:
    kind = node.WhichOneof("kind")
    if kind == "column":
        return [node.column.column]
    if kind in ("all_of", "any_of"):
        return [c for child in getattr(node, kind).filters for c in _columns(child)]
    return _columns(node.negate) if kind == "negate" else []


@pytest.mark.parametrize("kind", ["select", "segmented_control"])
def test_empty_text_and_all_are_values_a_control_can_choose(kind: str) -> None:
    table = pl.DataFrame({"tag": ["", "a", "__all__", None, ""]}).with_row_index("row")
    spec = {"id": "t", "column": "tag", "interactive_type": kind}
    for value, wanted in (("", [0, 4]), ("__all__", [2])):
        chosen = control_filter(spec, value, "string", {})
        assert chosen is not None
        expression = filter_expression(chosen, dict(table.schema))
        assert table.filter(expression).get_column("row").to_list() == wanted
    assert (
        control_filter(spec, EVERY_VALUE if kind == "segmented_control" else None, "string", {})
        is None
    )


def test_an_empty_text_option_is_labelled() -> None:
    from dash_apps.viewer.controls import option_values
    from dash_apps.viewer.data_batch import Round
    from depictio.arrow_ipc import table_to_ipc

    table = pa.table({"value": ["b", ""], "count": pa.array([2, 1], pa.int64())})
    round_ = Round(results={"c": data_pb2.ComponentResult(id="c", arrow_ipc=table_to_ipc(table))})
    assert option_values(round_, "c") == [
        {"value": "", "label": "(empty text)"},
        {"value": "b", "label": "b"},
    ]
