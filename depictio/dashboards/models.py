"""The Depictio dashboard format as pydantic models, shared by metadata_svc and the Dash apps.

A dashboard has tabs; a tab has components (a union discriminated on `type`), a 12-column grid
layout of `{i, x, y, w, h}` items and filter sections grouping interactive components.
Components name their data by workflow and data collection tag, so a dashboard's YAML is
portable between projects with the same structure.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

GRID_COLUMNS = 12
ElementId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$"),
    Field(description="1 to 64 characters of A-Z, a-z, 0-9, _ and -."),
]
ColumnName = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class Model(BaseModel):
    """Base of every dashboard model: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


class DataRef(Model):
    """The data collection a component shows."""

    workflow: str | None = Field(
        None, description="Workflow name; may be left out when the tag is unique in the project."
    )
    data_collection: str = Field(min_length=1, description="The data collection's tag.")


class ComponentBase(Model):
    """What every component has."""

    id: ElementId = Field(description="Unique within the dashboard; layout items refer to it.")
    title: str = Field("", max_length=200, description="Shown above the component.")


class FigureComponent(ComponentBase):
    """A Plotly figure of one data collection."""

    type: Literal["figure"] = Field(description="Discriminator.")
    data: DataRef
    visu_type: Literal[
        "scatter", "line", "bar", "histogram", "box", "violin", "pie", "heatmap", "area"
    ] = Field("scatter", description="Kind of chart.")
    x: ColumnName | None = Field(None, description="Column on the x axis.")
    y: ColumnName | None = Field(None, description="Column on the y axis.")
    color: ColumnName | None = Field(None, description="Column that colours the marks.")
    size: ColumnName | None = Field(None, description="Column that sizes the marks.")
    hover: list[ColumnName] = Field(default_factory=list, description="Columns in the tooltip.")
    options: dict[str, Any] = Field(
        default_factory=dict, description="Further Plotly Express arguments (no column names)."
    )


CardAggregation = Literal[
    "count", "sum", "mean", "median", "min", "max", "std", "var", "nunique", "mode"
]


class CardComponent(ComponentBase):
    """One aggregated number of a column, with up to four secondary aggregations under it."""

    type: Literal["card"] = Field(description="Discriminator.")
    data: DataRef
    column: ColumnName = Field(description="The aggregated column.")
    aggregation: CardAggregation = Field("count", description="How the column is aggregated.")
    secondary: list[CardAggregation] = Field(
        default_factory=list,
        max_length=4,
        description="Further aggregations of the same column shown smaller under the value.",
    )


class InteractiveComponent(ComponentBase):
    """A filter control on a column; its value filters the dashboard's other components."""

    type: Literal["interactive"] = Field(description="Discriminator.")
    data: DataRef
    column: ColumnName = Field(description="The filtered column.")
    interactive_type: Literal[
        "select",
        "multiselect",
        "segmented_control",
        "checkbox",
        "range_slider",
        "slider",
        "date_range",
        "text_input",
    ] = Field(description="Kind of control.")


class TableComponent(ComponentBase):
    """A paged table of a data collection's rows."""

    type: Literal["table"] = Field(description="Discriminator.")
    data: DataRef
    columns: list[ColumnName] = Field(
        default_factory=list, description="Columns shown, in order; empty shows all."
    )
    page_size: int = Field(50, ge=1, le=1000, description="Rows per page.")


class TextComponent(ComponentBase):
    """Markdown text."""

    type: Literal["text"] = Field(description="Discriminator.")
    content: str = Field("", max_length=100_000, description="Markdown.")


Component = Annotated[
    FigureComponent | CardComponent | InteractiveComponent | TableComponent | TextComponent,
    Field(discriminator="type"),
]
DATA_COMPONENTS = (FigureComponent, CardComponent, InteractiveComponent, TableComponent)


class LayoutItem(Model):
    """Where a component sits on the tab's 12-column grid."""

    i: ElementId = Field(description="The component's id.")
    x: int = Field(ge=0, lt=GRID_COLUMNS, description="First column (0-11).")
    y: int = Field(ge=0, description="First row.")
    w: int = Field(ge=1, le=GRID_COLUMNS, description="Width in columns.")
    h: int = Field(ge=1, le=1000, description="Height in rows.")


class FilterSection(Model):
    """A foldable group of interactive components."""

    id: ElementId
    title: str = Field("", max_length=200)
    component_ids: list[ElementId] = Field(
        default_factory=list, description="Interactive components of this tab, in order."
    )
    collapsed: bool = Field(False, description="Folded when the dashboard opens.")


class Tab(Model):
    """One tab of a dashboard."""

    id: ElementId
    title: str = Field(min_length=1, max_length=200)
    components: list[Component] = Field(default_factory=list)
    layout: list[LayoutItem] = Field(default_factory=list, description="One item per component.")
    filter_sections: list[FilterSection] = Field(default_factory=list)


class DashboardDocument(Model):
    """A dashboard's content (what each saved version stores)."""

    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    is_public: bool = Field(
        False, description="Readable by non-members when its project is public."
    )
    tabs: list[Tab] = Field(min_length=1)


class DashboardYaml(DashboardDocument):
    """A dashboard as exported to and imported from YAML."""

    depictio_dashboard: Literal[1] = Field(1, description="Version of this format.")
    project_id: str | None = Field(
        None, description="Project to import into, unless the import names another."
    )


def yaml_json_schema() -> dict[str, Any]:
    """The JSON Schema of the dashboard YAML format."""
    schema = DashboardYaml.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Depictio dashboard"
    return schema
