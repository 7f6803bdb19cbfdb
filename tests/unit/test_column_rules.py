"""The column-type rule book the Editor offers choices from and metadata_svc enforces."""

from __future__ import annotations

from typing import Any

import pytest

from depictio.dashboards.column_rules import (
    allowed_aggregations,
    allowed_interactive_types,
    column_kind,
    figure_column_allowed,
    missing_roles,
    type_violations,
)
from depictio.dashboards.models import CardComponent, FigureComponent, InteractiveComponent

TYPES = {
    "mass": "double",
    "count": "int64",
    "species": "string",
    "alive": "bool",
    "seen": "timestamp[us]",
}
DATA = {"data_collection": "penguins"}


@pytest.mark.parametrize(
    ("type_name", "kind"),
    [
        ("int64", "numeric"),
        ("uint8", "numeric"),
        ("double", "numeric"),
        ("float", "numeric"),
        ("decimal128(10, 2)", "numeric"),
        ("bool", "boolean"),
        ("string", "text"),
        ("large_string", "text"),
        ("timestamp[us]", "temporal"),
        ("timestamp[us, tz=UTC]", "temporal"),
        ("date32[day]", "temporal"),
        ("binary", "text"),
    ],
)
def test_stored_type_names_map_to_kinds(type_name: str, kind: str) -> None:
    assert column_kind(type_name) == kind


def test_text_columns_are_counted_never_averaged() -> None:
    assert set(allowed_aggregations("text")) == {"count", "nunique", "mode"}
    assert "mean" in allowed_aggregations("numeric")
    assert "sum" not in allowed_aggregations("temporal")


def test_range_controls_only_on_numbers_and_dates() -> None:
    assert "range_slider" not in allowed_interactive_types("text")
    assert "range_slider" in allowed_interactive_types("numeric")
    assert allowed_interactive_types("boolean")[0] == "checkbox"
    assert "date_range" in allowed_interactive_types("temporal")
    assert "text_input" not in allowed_interactive_types("numeric")


def test_measured_figure_roles_need_numbers() -> None:
    assert not figure_column_allowed("box", "y", "text")
    assert figure_column_allowed("box", "x", "text")
    assert not figure_column_allowed("box", "x", "text", has_x=True, has_y=False)
    assert not figure_column_allowed("histogram", "x", "text")
    assert not figure_column_allowed("scatter", "size", "text")
    assert figure_column_allowed("scatter", "color", "text")
    assert not figure_column_allowed("heatmap", "color", "text")
    assert figure_column_allowed("heatmap", "x", "text")


@pytest.mark.parametrize(
    ("component", "expected"),
    [
        (
            CardComponent(type="card", id="c", data=DATA, column="species", aggregation="mean"),
            [
                (
                    "aggregation",
                    "'mean' of column 'species' (string) is not allowed; "
                    "a text column takes count, nunique, mode",
                )
            ],
        ),
        (
            CardComponent(
                type="card",
                id="c",
                data=DATA,
                column="alive",
                aggregation="count",
                secondary=["mean", "median"],
            ),
            [
                (
                    "secondary[1]",
                    "'median' of column 'alive' (bool) is not allowed; "
                    "a boolean column takes count, sum, mean, nunique, mode",
                )
            ],
        ),
        (
            InteractiveComponent(
                type="interactive",
                id="i",
                data=DATA,
                column="species",
                interactive_type="range_slider",
            ),
            [
                (
                    "interactive_type",
                    "a range_slider on column 'species' (string) is not "
                    "allowed; a text column takes select, multiselect, segmented_control, "
                    "text_input",
                )
            ],
        ),
        (
            FigureComponent(
                type="figure",
                id="f",
                data=DATA,
                visu_type="bar",
                x="species",
                y="seen",
                size="species",
            ),
            [
                (
                    "y",
                    "column 'seen' (timestamp[us]) cannot be the y of a bar chart; "
                    "expected a numeric or boolean column",
                ),
                (
                    "size",
                    "column 'species' (string) cannot be the size of a bar chart; "
                    "expected a numeric or boolean column",
                ),
            ],
        ),
    ],
)
def test_violations_name_the_field_column_type_and_choices(
    component: Any, expected: list[tuple[str, str]]
) -> None:
    assert type_violations(component, TYPES) == expected


def test_suitable_options_and_unknown_columns_pass() -> None:
    fine = [
        CardComponent(
            type="card",
            id="c",
            data=DATA,
            column="mass",
            aggregation="mean",
            secondary=["min", "max", "std"],
        ),
        InteractiveComponent(
            type="interactive", id="i", data=DATA, column="count", interactive_type="range_slider"
        ),
        FigureComponent(
            type="figure",
            id="f",
            data=DATA,
            visu_type="scatter",
            x="mass",
            y="count",
            color="species",
        ),
        # A column the types do not know is the existence check's business, not this one's.
        CardComponent(type="card", id="u", data=DATA, column="unknown", aggregation="mean"),
    ]
    assert [type_violations(component, TYPES) for component in fine] == [[], [], [], []]


@pytest.mark.parametrize(
    ("visu_type", "roles", "expected"),
    [
        ("line", {}, [("x", "a line chart needs x or y")]),
        ("scatter", {"color": "species"}, [("x", "a scatter chart needs x or y")]),
        ("histogram", {"y": "mass"}, []),
        ("box", {"x": "mass"}, []),
        ("bar", {"y": "mass"}, [("x", "a bar chart needs x or color")]),
        ("bar", {"color": "species"}, []),
        ("pie", {"x": "species"}, []),
        ("heatmap", {"x": "species"}, [("y", "a heatmap chart needs y")]),
        ("heatmap", {}, [("x", "a heatmap chart needs x"), ("y", "a heatmap chart needs y")]),
        ("heatmap", {"x": "species", "y": "count"}, []),
    ],
)
def test_a_chart_names_the_columns_it_cannot_be_drawn_without(
    visu_type: str, roles: dict[str, str], expected: list[tuple[str, str]]
) -> None:
    figure = FigureComponent(type="figure", id="f", data=DATA, visu_type=visu_type, **roles)
    assert missing_roles(figure) == expected
