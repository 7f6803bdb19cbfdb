"""Which component options a column's type allows, and which columns a chart needs — one rule
book for the Editor and the server.

The Editor offers only the choices these functions allow (no mean of a text column, no range
slider on a category); metadata_svc refuses a saved dashboard that breaks them, naming the
component's field, the column, its type and what was expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from depictio.dashboards.models import (
    CardAggregation,
    CardComponent,
    FigureComponent,
    InteractiveComponent,
)

ColumnKind = Literal["numeric", "text", "boolean", "temporal"]
FigureRole = Literal["x", "y", "color", "size"]

_NUMERIC_PREFIXES = ("int", "uint", "float", "double", "halffloat", "decimal")
_TEMPORAL_PREFIXES = ("timestamp", "date", "time", "duration")

AGGREGATIONS_BY_KIND: dict[ColumnKind, tuple[CardAggregation, ...]] = {
    "numeric": ("count", "sum", "mean", "median", "min", "max", "std", "var", "nunique", "mode"),
    "boolean": ("count", "sum", "mean", "nunique", "mode"),
    "temporal": ("count", "min", "max", "nunique", "mode"),
    "text": ("count", "nunique", "mode"),
}
INTERACTIVE_BY_KIND: dict[ColumnKind, tuple[str, ...]] = {
    "numeric": ("select", "multiselect", "segmented_control", "slider", "range_slider"),
    "boolean": ("checkbox", "select", "segmented_control"),
    "temporal": ("date_range", "select", "multiselect"),
    "text": ("select", "multiselect", "segmented_control", "text_input"),
}
# (chart kind, role) pairs whose column is measured (summed, averaged, binned, sized), so
# must be numeric; every other role only groups, places or colours marks and takes any type.
_MEASURED_ROLES: dict[str, tuple[FigureRole, ...]] = {
    "bar": ("y",),
    "pie": ("y",),
    "heatmap": ("color",),
    "box": ("y",),
    "violin": ("y",),
    "histogram": ("x",),
}
_MEASURED_KINDS: tuple[ColumnKind, ...] = ("numeric", "boolean")
# The roles a chart kind cannot be drawn without: one of each group must name a column.
_NEEDED_ROLES: dict[str, tuple[tuple[FigureRole, ...], ...]] = {
    "heatmap": (("x",), ("y",)),
    "bar": (("x", "color"),),
    "pie": (("x", "color"),),
}
_EITHER_AXIS: tuple[tuple[FigureRole, ...], ...] = (("x", "y"),)
_EXPECTED = "a numeric or boolean column"


def column_kind(type_name: str) -> ColumnKind:
    """The kind of column a stored type name ('int64', 'double', 'string', 'bool',
    'timestamp[us]', 'date32[day]'…) stands for; an unknown name counts as text."""
    name = type_name.strip().lower()
    if name in ("bool", "boolean"):
        return "boolean"
    if name.startswith(_NUMERIC_PREFIXES):
        return "numeric"
    if name.startswith(_TEMPORAL_PREFIXES):
        return "temporal"
    return "text"


def allowed_aggregations(kind: ColumnKind) -> tuple[CardAggregation, ...]:
    """The card aggregations a column of this kind takes."""
    return AGGREGATIONS_BY_KIND[kind]


def allowed_interactive_types(kind: ColumnKind) -> tuple[str, ...]:
    """The filter controls a column of this kind takes."""
    return INTERACTIVE_BY_KIND[kind]


def measured_roles(visu_type: str, has_x: bool = True, has_y: bool = True) -> tuple[str, ...]:
    """The roles of a chart whose column is measured: a histogram bins y when it has no x; a
    box or violin summarises x when it has no y."""
    if visu_type == "histogram" and not has_x:
        return ("y", "size")
    if visu_type in ("box", "violin") and not has_y:
        return ("x", "size")
    return (*_MEASURED_ROLES.get(visu_type, ()), "size")


def figure_column_allowed(
    visu_type: str, role: FigureRole, kind: ColumnKind, has_x: bool = True, has_y: bool = True
) -> bool:
    """Whether a column of this kind may fill this role of this chart kind."""
    if role in measured_roles(visu_type, has_x, has_y):
        return kind in _MEASURED_KINDS
    return True


def missing_roles(figure: FigureComponent) -> list[tuple[str, str]]:
    """(field, message) for each column the figure's kind of chart needs and it lacks (a line
    without x or y drew empty axes)."""
    return [
        (group[0], f"a {figure.visu_type} chart needs {' or '.join(group)}")
        for group in _NEEDED_ROLES.get(figure.visu_type, _EITHER_AXIS)
        if not any(getattr(figure, role) for role in group)
    ]


def type_violations(component: Any, column_types: Mapping[str, str]) -> list[tuple[str, str]]:
    """(field, message) for each option of `component` its columns' types do not allow.

    Columns missing from `column_types` are left to the column-existence check.
    """

    def kind_of(column: str | None) -> tuple[ColumnKind, str] | None:
        if not column or column not in column_types:
            return None
        return column_kind(column_types[column]), column_types[column]

    problems: list[tuple[str, str]] = []
    if isinstance(component, CardComponent):
        found = kind_of(component.column)
        if found:
            kind, type_name = found
            allowed = allowed_aggregations(kind)
            named = [("aggregation", component.aggregation)] + [
                (f"secondary[{index}]", name) for index, name in enumerate(component.secondary)
            ]
            for field, aggregation in named:
                if aggregation not in allowed:
                    problems.append(
                        (
                            field,
                            f"'{aggregation}' of column '{component.column}' ({type_name}) is "
                            f"not allowed; a {kind} column takes {', '.join(allowed)}",
                        )
                    )
    elif isinstance(component, InteractiveComponent):
        found = kind_of(component.column)
        if found:
            kind, type_name = found
            allowed_controls = allowed_interactive_types(kind)
            if component.interactive_type not in allowed_controls:
                problems.append(
                    (
                        "interactive_type",
                        f"a {component.interactive_type} on column '{component.column}' "
                        f"({type_name}) is not allowed; a {kind} column takes "
                        f"{', '.join(allowed_controls)}",
                    )
                )
    elif isinstance(component, FigureComponent):
        roles: tuple[FigureRole, ...] = ("x", "y", "color", "size")
        for role in roles:
            column = getattr(component, role)
            found = kind_of(column)
            if found is None:
                continue
            if not figure_column_allowed(
                component.visu_type, role, found[0], bool(component.x), bool(component.y)
            ):
                problems.append(
                    (
                        role,
                        f"column '{column}' ({found[1]}) cannot be the {role} of a "
                        f"{component.visu_type} chart; expected {_EXPECTED}",
                    )
                )
    return problems
