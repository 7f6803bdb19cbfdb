"""The "Add component" stepper: choose the data (with its schema), the component type, then
configure it with a live preview.

Field choices follow the column types (depictio.dashboards.column_rules, through
`sources`): a card on a text column offers no mean, a control on a category no range slider.
Every change of a field rebuilds the component (`stepper-component`), which the preview
callback (`preview`) draws.
"""

from __future__ import annotations

from typing import Any, get_args

import dash_mantine_components as dmc
from dash import Input, Output, State, html
from pydantic import TypeAdapter, ValidationError

from dash_apps.editor.sources import (
    aggregation_choices,
    figure_choices,
    interactive_choices,
    options,
    schema_rows,
    source_by_id,
    source_of,
    typed_options,
)
from depictio.dashboards.column_rules import missing_roles, type_violations
from depictio.dashboards.models import Component, FigureComponent

COMPONENT_TYPES = ("figure", "card", "interactive", "table", "text")
VISU_TYPES = list(get_args(FigureComponent.model_fields["visu_type"].annotation))
COMPONENT = TypeAdapter(Component)
# The stepper's fields: (id, property holding the value).
FIELDS = (
    ("stepper-source", "value"),
    ("stepper-type", "value"),
    ("cfg-title", "value"),
    ("cfg-visu", "value"),
    ("cfg-x", "value"),
    ("cfg-y", "value"),
    ("cfg-color", "value"),
    ("cfg-size", "value"),
    ("cfg-column", "value"),
    ("cfg-aggregation", "value"),
    ("cfg-interactive", "value"),
    ("cfg-columns", "value"),
    ("cfg-page-size", "value"),
    ("cfg-content", "value"),
)
# Which configuration groups each component type shows.
GROUPS = {
    "figure": ("cfg-figure",),
    "card": ("cfg-column-group", "cfg-card"),
    "interactive": ("cfg-column-group", "cfg-interactive-group"),
    "table": ("cfg-table",),
    "text": ("cfg-text",),
}
ALL_GROUPS = (
    "cfg-figure",
    "cfg-column-group",
    "cfg-card",
    "cfg-interactive-group",
    "cfg-table",
    "cfg-text",
)


def select(field_id: str, label: str, **extra: Any) -> dmc.Select:
    return dmc.Select(
        id=field_id, label=label, data=[], clearable=True, searchable=True, size="sm", **extra
    )


def stepper_modal(sources: list[dict[str, Any]]) -> dmc.Modal:
    """The modal of the stepper (closed; `open_stepper` fills and opens it)."""
    step_data = dmc.Stack(
        [
            dmc.Select(
                id="stepper-source",
                label="Workflow / data collection",
                data=[{"value": s["id"], "label": s["label"]} for s in sources],
                searchable=True,
            ),
            dmc.Text("Schema", size="sm", fw=500),
            html.Div(id="stepper-schema"),
        ]
    )
    step_type = dmc.RadioGroup(
        dmc.Group([dmc.Radio(label=t, value=t, id=f"stepper-type-{t}") for t in COMPONENT_TYPES]),
        id="stepper-type",
        label="Component type",
        value="figure",
    )
    configure = dmc.Grid(
        [
            dmc.GridCol(
                dmc.Stack(
                    [
                        dmc.TextInput(id="cfg-title", label="Title", size="sm"),
                        html.Div(
                            dmc.Stack(
                                [
                                    dmc.Select(
                                        id="cfg-visu",
                                        label="Chart",
                                        data=options(VISU_TYPES),
                                        value="scatter",
                                        size="sm",
                                    ),
                                    select("cfg-x", "x"),
                                    select("cfg-y", "y"),
                                    select("cfg-color", "Colour"),
                                    select("cfg-size", "Size"),
                                ],
                                gap=4,
                            ),
                            id="cfg-figure",
                        ),
                        html.Div(select("cfg-column", "Column"), id="cfg-column-group"),
                        html.Div(select("cfg-aggregation", "Aggregation"), id="cfg-card"),
                        html.Div(select("cfg-interactive", "Control"), id="cfg-interactive-group"),
                        html.Div(
                            dmc.Stack(
                                [
                                    dmc.MultiSelect(
                                        id="cfg-columns",
                                        label="Columns (none: all)",
                                        data=[],
                                        searchable=True,
                                        size="sm",
                                    ),
                                    dmc.NumberInput(
                                        id="cfg-page-size",
                                        label="Rows per page",
                                        value=25,
                                        min=1,
                                        max=1000,
                                        size="sm",
                                    ),
                                ],
                                gap=4,
                            ),
                            id="cfg-table",
                        ),
                        html.Div(
                            dmc.Textarea(
                                id="cfg-content", label="Markdown", autosize=True, minRows=4
                            ),
                            id="cfg-text",
                        ),
                        dmc.Text("", c="red", size="xs", id="stepper-error"),
                    ],
                    gap="xs",
                ),
                span=4,
            ),
            dmc.GridCol(
                dmc.Stack(
                    [
                        dmc.Text("Preview (with the dashboard's active filters)", size="sm"),
                        html.Div(
                            id="stepper-preview",
                            style={
                                "height": "360px",
                                "display": "flex",
                                "flexDirection": "column",
                                "gap": "4px",
                            },
                        ),
                    ],
                    gap=4,
                ),
                span=8,
            ),
        ]
    )
    return dmc.Modal(
        [
            dmc.Stepper(
                [
                    dmc.StepperStep(step_data, label="Data", description="What it shows"),
                    dmc.StepperStep(step_type, label="Type", description="How"),
                    dmc.StepperStep(configure, label="Configure", description="With a preview"),
                ],
                id="stepper",
                active=0,
            ),
            dmc.Group(
                [
                    dmc.Button("Back", id="stepper-back", variant="default"),
                    dmc.Button("Next", id="stepper-next"),
                    dmc.Button("Done", id="stepper-done", color="green"),
                ],
                justify="flex-end",
                mt="md",
            ),
        ],
        id="stepper-modal",
        title="Component",
        size="85%",
        opened=False,
    )


def schema_table(rows: list[dict[str, str]]) -> Any:
    if not rows:
        return dmc.Text("No columns known yet (not ingested?)", size="xs", c="dimmed")
    return dmc.Table(
        data={
            "head": ["Column", "Type", "Kind"],
            "body": [[r["column"], r["type"], r["kind"]] for r in rows],
        },
        id="stepper-schema-table",
        striped=True,
        fz="xs",
    )


def field_values(spec: dict[str, Any] | None, source_id: str | None) -> list[Any]:
    """The stepper's field values for a component (a new one when `spec` is None)."""
    spec = spec or {}
    return [
        source_id,
        spec.get("type", "figure"),
        spec.get("title", ""),
        spec.get("visu_type", "scatter"),
        spec.get("x"),
        spec.get("y"),
        spec.get("color"),
        spec.get("size"),
        spec.get("column"),
        spec.get("aggregation"),
        spec.get("interactive_type"),
        spec.get("columns", []),
        spec.get("page_size", 25),
        spec.get("content", ""),
    ]


def build_component(
    target: dict[str, Any], sources: list[dict[str, Any]], values: dict[str, Any]
) -> dict[str, Any]:
    """The component the fields describe (ValueError with the model's words when invalid)."""
    kind = values["stepper-type"]
    spec: dict[str, Any] = {"id": target["id"], "type": kind, "title": values["cfg-title"] or ""}
    if kind != "text":
        source = source_by_id(sources, values["stepper-source"])
        if source is None:
            raise ValueError("choose a data collection (step 1)")
        spec["data"] = {"workflow": source["workflow"], "data_collection": source["tag"]}
    if kind == "figure":
        spec["visu_type"] = values["cfg-visu"] or "scatter"
        for role in ("x", "y", "color", "size"):
            spec[role] = values[f"cfg-{role}"] or None
    elif kind == "card":
        spec["column"] = values["cfg-column"]
        spec["aggregation"] = values["cfg-aggregation"] or "count"
    elif kind == "interactive":
        spec["column"] = values["cfg-column"]
        spec["interactive_type"] = values["cfg-interactive"]
    elif kind == "table":
        spec["columns"] = values["cfg-columns"] or []
        spec["page_size"] = int(values["cfg-page-size"] or 25)
    else:
        spec["content"] = values["cfg-content"] or ""
    try:
        component = COMPONENT.validate_python(spec)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'component'}: {e['msg']}"
            for e in exc.errors()
        )
        raise ValueError(problems) from exc
    source = source_by_id(sources, values["stepper-source"])
    refused = type_violations(component, dict(source["columns"]) if source else {})
    if isinstance(component, FigureComponent):
        refused = missing_roles(component) + refused
    if refused:
        raise ValueError("; ".join(f"{field}: {message}" for field, message in refused))
    return component.model_dump(mode="json")


def register_stepper(app: Any) -> None:
    """Navigation, field choices and the component the fields describe."""
    app.clientside_callback(
        """function(back, next, active) {
            const id = dash_clientside.callback_context.triggered_id;
            const step = (active || 0) + (id === "stepper-next" ? 1 : -1);
            return Math.max(0, Math.min(2, step));
        }""",
        Output("stepper", "active"),
        Input("stepper-back", "n_clicks"),
        Input("stepper-next", "n_clicks"),
        State("stepper", "active"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output("stepper-schema", "children"),
        Output("cfg-x", "data"),
        Output("cfg-y", "data"),
        Output("cfg-color", "data"),
        Output("cfg-size", "data"),
        Output("cfg-column", "data"),
        Output("cfg-aggregation", "data"),
        Output("cfg-interactive", "data"),
        Output("cfg-columns", "data"),
        *[Output(group, "style") for group in ALL_GROUPS],
        Input("stepper-source", "value"),
        Input("stepper-type", "value"),
        Input("cfg-visu", "value"),
        Input("cfg-column", "value"),
        State("editor-meta", "data"),
    )
    def field_choices(
        source_id: str | None,
        kind: str | None,
        visu_type: str | None,
        column: str | None,
        meta: dict[str, Any],
    ) -> Any:
        source = source_by_id(meta["sources"], source_id)
        roles = figure_choices(source, visu_type or "scatter")
        columns = source["columns"] if source else []
        shown = GROUPS.get(kind or "", ())
        return (
            schema_table(schema_rows(source)),
            roles["x"],
            roles["y"],
            roles["color"],
            roles["size"],
            typed_options(columns),
            options(aggregation_choices(source, column)),
            options(interactive_choices(source, column)),
            typed_options(columns),
            *[{} if group in shown else {"display": "none"} for group in ALL_GROUPS],
        )

    @app.callback(
        Output("stepper-component", "data"),
        Output("stepper-error", "children"),
        *[Input(field, prop) for field, prop in FIELDS],
        State("stepper-target", "data"),
        State("editor-meta", "data"),
        prevent_initial_call=True,
    )
    def describe_component(*args: Any) -> Any:
        *values, target, meta = args
        if not target:
            return None, ""
        named = {field: value for (field, _), value in zip(FIELDS, values, strict=True)}
        try:
            return build_component(target, meta["sources"], named), ""
        except ValueError as exc:
            return None, str(exc)


def spec_source_id(sources: list[dict[str, Any]], spec: dict[str, Any]) -> str | None:
    """The data collection id a component's spec names."""
    source = source_of(sources, spec.get("data"))
    return source["id"] if source else None
