"""Pydantic models of Depictio's `project.yaml`: every published field, unknown keys refused.

Enum-like values are case-insensitive where Depictio's are (`type: "Table"`, `format: "CSV"`,
`metatype: "Aggregate"`, `mode: "Recursive"`, `how: "INNER"`) and are normalised to lower case.
Rules that span several fields (scan parameters per mode, tag references of joins and links…)
are checked after this structural pass, by depictio.projects.checks.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _valid_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from exc
    return value


def _http_url(value: str | None) -> str | None:
    if value and not re.match(r"^https?://", value):
        raise ValueError("must start with http:// or https://")
    return value


Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$"),
    Field(description="A stable id: 1 to 64 characters of A-Z, a-z, 0-9, _ and -."),
]
RegexText = Annotated[str, AfterValidator(_valid_regex)]
NonEmpty = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


CaseInsensitive = BeforeValidator(_lower)
ScanMode = Annotated[Literal["single", "recursive"], CaseInsensitive]
TableFormat = Annotated[Literal["csv", "tsv", "parquet", "feather", "xls", "xlsx"], CaseInsensitive]
JoinHow = Annotated[Literal["inner", "left", "right", "outer"], CaseInsensitive]
DataCollectionType = Annotated[Literal["table"], CaseInsensitive]
DataCollectionSource = Annotated[Literal["native", "joined"], CaseInsensitive]
Metatype = Annotated[Literal["metadata", "aggregate"], CaseInsensitive]
Structure = Annotated[Literal["flat", "sequencing-runs"], CaseInsensitive]
Aggregation = Annotated[
    Literal["mean", "sum", "min", "max", "first", "last", "count", "median"], CaseInsensitive
]
Resolver = Annotated[
    Literal["direct", "sample_mapping", "pattern", "regex", "wildcard"], CaseInsensitive
]
TargetType = Annotated[Literal["table", "multiqc", "image"], CaseInsensitive]
ProjectType = Annotated[Literal["basic", "advanced"], CaseInsensitive]


class Strict(BaseModel):
    """Base of every config model: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


class WildcardConfig(Strict):
    """A named capture of a recursive scan pattern; it becomes a column."""

    name: NonEmpty = Field(description="Column the captured text goes to.")
    wildcard_regex: RegexText = Field(description="Regular expression of the captured part.")


class RegexConfig(Strict):
    """The file pattern of a recursive scan."""

    pattern: RegexText = Field(description="Regular expression a file path must match.")
    wildcards: list[WildcardConfig] | None = Field(None, description="Named captures.")


class ScanParameters(Strict):
    """Parameters of a scan: `filename` (single) or `regex_config` (recursive)."""

    filename: str | None = Field(None, description="The file of a single scan.")
    regex_config: RegexConfig | None = Field(None, description="The pattern of a recursive scan.")
    max_depth: int | None = Field(None, ge=0, description="Deepest folder level searched.")
    ignore: list[str] | None = Field(None, description="Glob patterns to skip.")


class ScanConfig(Strict):
    """How a data collection's files are found."""

    mode: ScanMode = Field(description="single or recursive.")
    scan_parameters: ScanParameters


class TableProperties(Strict):
    """Table-specific properties of a data collection."""

    format: TableFormat = Field(description="File format (case-insensitive).")
    polars_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Reader options passed to polars."
    )
    keep_columns: list[str] | None = Field(None, description="Columns kept; empty keeps all.")
    columns_description: dict[str, str] | None = Field(
        None, description="Column name → description."
    )


class TableJoinConfig(Strict):
    """Depictio's per-data-collection join (older form of the top-level `joins`)."""

    on_columns: list[str] = Field(min_length=1)
    how: JoinHow = "inner"
    with_dc: list[str] = Field(min_length=1)


class DataCollectionSettings(Strict):
    """The `config` block of a data collection."""

    type: DataCollectionType = Field(
        description="Data collection type; 'table' (multiqc, image and geojson come later)."
    )
    source: DataCollectionSource = Field(
        "native", description="native (scanned files) or joined (the result of a join)."
    )
    metatype: Metatype | None = Field(
        None, description="metadata (one file) or aggregate (files combined)."
    )
    scan: ScanConfig | None = None
    dc_specific_properties: TableProperties
    join: TableJoinConfig | None = None


class DataCollectionConfig(Strict):
    """One data collection."""

    id: Identifier | None = None
    data_collection_tag: NonEmpty = Field(description="Tag unique within its workflow.")
    description: str | None = None
    config: DataCollectionSettings
    optional: bool = Field(False, description="A run may lack this collection's files.")


class EngineConfig(Strict):
    """The engine a workflow runs on."""

    name: NonEmpty
    version: str | None = None


class CatalogConfig(Strict):
    """Where a workflow is published."""

    name: Literal["workflowhub", "nf-core", "smk-wf-catalog"] | None = None
    url: Annotated[str | None, AfterValidator(_http_url)] = None


class WorkflowSettings(Strict):
    """A workflow's own `config` block."""

    version: str | None = None
    workflow_parameters: dict[str, Any] | None = None


class DataLocationConfig(Strict):
    """Where a workflow's runs are."""

    structure: Structure
    locations: list[NonEmpty] = Field(min_length=1, description="Folders; {ENV} expanded.")
    runs_regex: RegexText | None = Field(None, description="Run folder pattern.")


class WorkflowConfig(Strict):
    """A workflow of a project."""

    id: Identifier | None = None
    name: NonEmpty
    engine: EngineConfig
    version: Annotated[str | None, BeforeValidator(lambda v: None if v == "" else v)] = None
    catalog: CatalogConfig | None = None
    workflow_tag: str | None = None
    description: str | None = None
    repository_url: str | None = None
    config: WorkflowSettings | None = None
    data_location: DataLocationConfig
    data_collections: list[DataCollectionConfig] = Field(min_length=1)


class ColumnAggregation(Strict):
    """Aggregation of one column when join granularities differ."""

    column: NonEmpty
    function: Aggregation


class GranularityConfig(Strict):
    """How to aggregate when joined tables have different granularities."""

    aggregate_to: NonEmpty
    numeric_default: Aggregation = "mean"
    categorical_default: Aggregation = "first"
    column_overrides: list[ColumnAggregation] | None = None


class JoinConfig(Strict):
    """A join of two data collections."""

    id: Identifier | None = None
    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,100}$")] = Field(
        description="Letters, digits, _ and -; unique within the project."
    )
    description: str | None = None
    left_dc: NonEmpty = Field(description="Tag ('tag' or 'workflow.tag') of the left side.")
    right_dc: NonEmpty = Field(description="Tag of the right side.")
    on_columns: list[NonEmpty] = Field(min_length=1)
    how: JoinHow = "inner"
    granularity: GranularityConfig | None = None
    persist: bool = True
    workflow_name: str | None = Field(None, description="Workflow the tags are looked up in.")


class LinkSettings(Strict):
    """How a link resolves source values to target values."""

    resolver: Resolver = "direct"
    mappings: dict[str, list[str]] | None = None
    pattern: str | None = None
    target_field: str | None = None
    case_sensitive: bool = True


class LinkConfig(Strict):
    """A link from a source data collection's column to a target data collection."""

    id: Identifier | None = None
    source_dc_id: str | None = None
    source_dc_tag: str | None = None
    source_column: NonEmpty
    target_dc_id: str | None = None
    target_dc_tag: str | None = None
    target_type: TargetType
    link_config: LinkSettings = Field(default_factory=LinkSettings)
    description: str | None = None
    enabled: bool = True


class ProjectConfig(Strict):
    """A whole `project.yaml`."""

    id: Identifier | None = None
    name: NonEmpty = Field(max_length=200)
    project_type: ProjectType = "basic"
    is_public: bool = False
    description: str | None = None
    data_management_platform_project_url: Annotated[str | None, AfterValidator(_http_url)] = None
    yaml_config_path: str | None = Field(None, description="Set by Depictio's CLI; kept as is.")
    workflows: list[WorkflowConfig] = Field(default_factory=list)
    data_collections: list[DataCollectionConfig] = Field(default_factory=list)
    joins: list[JoinConfig] = Field(default_factory=list)
    links: list[LinkConfig] = Field(default_factory=list)
