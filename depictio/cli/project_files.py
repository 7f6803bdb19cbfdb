"""A local `project.yaml`: validated offline, paths made absolute, matched with the server's ids.

Relative paths (workflow locations, a basic project's file names) are taken relative to the
folder of the YAML file; `{NAME}` placeholders are expanded from the CLI's environment, so
the config sent to the server carries the absolute, expanded locations.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from depictio.cli.failures import CliFailure
from depictio.errors import InvalidArgument
from depictio.projects.config_models import DataCollectionConfig, ProjectConfig
from depictio.projects.parsing import load_config_text, validate_project_config
from depictio.projects.references import DataCollectionIndex


@dataclass(frozen=True)
class DataCollectionPlan:
    """What the CLI needs of one data collection (its id once matched with the server)."""

    id: str
    tag: str
    workflow_name: str
    source: str
    scan_mode: str
    filename: str
    regex_pattern: str
    wildcards: tuple[tuple[str, str], ...]
    max_depth: int | None
    ignore: list[str]
    format: str
    polars_kwargs: dict[str, Any]
    keep_columns: tuple[str, ...]
    optional: bool
    # "metadata" (one table for the whole project), "aggregate" (files combined), or "".
    metatype: str = ""

    @property
    def label(self) -> str:
        return f"{self.workflow_name}.{self.tag}" if self.workflow_name else self.tag


@dataclass
class WorkflowPlan:
    """A workflow's runs location; a basic project is one workflow with structure ''."""

    id: str
    name: str
    structure: str
    locations: list[Path]
    runs_regex: str
    base: Path
    data_collections: list[DataCollectionPlan] = field(default_factory=list)

    @property
    def scanned_data_collections(self) -> list[DataCollectionPlan]:
        return [dc for dc in self.data_collections if dc.source == "native"]


@dataclass(frozen=True)
class JoinPlan:
    """A join and the joined data collection that holds its result (None: not declared)."""

    name: str
    left: DataCollectionPlan
    right: DataCollectionPlan
    on_columns: tuple[str, ...]
    how: str
    target: DataCollectionPlan | None


@dataclass
class ProjectPlan:
    """A project's workflows and joins, with server ids when matched."""

    id: str
    name: str
    workflows: list[WorkflowPlan]
    joins: list[JoinPlan]

    def data_collections(self) -> list[DataCollectionPlan]:
        return [dc for workflow in self.workflows for dc in workflow.data_collections]

    def data_collections_by_id(self) -> dict[str, DataCollectionPlan]:
        return {dc.id: dc for dc in self.data_collections() if dc.id}


@dataclass
class ProjectFile:
    """A validated project.yaml and the config to send to the server."""

    path: Path
    config: ProjectConfig
    document: dict[str, Any]

    @property
    def base(self) -> Path:
        return self.path.parent


def load_project_file(path: Path) -> ProjectFile:
    """Reads and validates a project.yaml offline; every problem names the file and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CliFailure(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CliFailure(f"{path}: cannot read it ({exc})") from exc
    try:
        data = load_config_text(text, "yaml", str(path))
        document = copy.deepcopy(data)
        config = validate_project_config(data)
    except InvalidArgument as exc:
        raise CliFailure(f"{path}: {exc}") from exc
    base = path.resolve().parent
    for index, workflow in enumerate(config.workflows):
        absolute = [
            str((base / location).resolve()) for location in workflow.data_location.locations
        ]
        workflow.data_location.locations = absolute
        document["workflows"][index]["data_location"]["locations"] = absolute
    for index, dc in enumerate(config.data_collections):
        parameters = dc.config.scan.scan_parameters if dc.config.scan else None
        if parameters is not None and parameters.filename:
            absolute_file = str((base / parameters.filename).resolve())
            parameters.filename = absolute_file
            scan = document["data_collections"][index]["config"]["scan"]
            scan["scan_parameters"]["filename"] = absolute_file
    return ProjectFile(path=path.resolve(), config=config, document=document)


def data_collection_plan(dc: DataCollectionConfig, dc_id: str, workflow: str) -> DataCollectionPlan:
    settings = dc.config
    scan = settings.scan
    parameters = scan.scan_parameters if scan else None
    regex = parameters.regex_config if parameters else None
    properties = settings.dc_specific_properties
    return DataCollectionPlan(
        id=dc_id,
        tag=dc.data_collection_tag,
        workflow_name=workflow,
        source=settings.source,
        scan_mode=scan.mode if scan else "",
        filename=(parameters.filename or "") if parameters else "",
        regex_pattern=regex.pattern if regex else "",
        wildcards=tuple((w.name, w.wildcard_regex) for w in (regex.wildcards or []))
        if regex
        else (),
        max_depth=parameters.max_depth if parameters else None,
        ignore=list(parameters.ignore or []) if parameters else [],
        format=str(properties.format).lower(),
        polars_kwargs=dict(properties.polars_kwargs or {}),
        keep_columns=tuple(properties.keep_columns or ()),
        optional=dc.optional,
        metatype=settings.metatype or "",
    )


def server_ids(project: dict[str, Any] | None) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Workflow ids by name and data collection ids by (workflow name, tag) of a server project."""
    if project is None:
        return {}, {}
    workflows = {w["name"]: w["id"] for w in project.get("workflows", [])}
    dcs = {("", dc["data_collection_tag"]): dc["id"] for dc in project.get("data_collections", [])}
    for workflow in project.get("workflows", []):
        for dc in workflow["data_collections"]:
            dcs[(workflow["name"], dc["data_collection_tag"])] = dc["id"]
    return workflows, dcs


def project_plan(project_file: ProjectFile, server_project: dict[str, Any] | None) -> ProjectPlan:
    """The plan of a project file, with the ids of `server_project` (offline: empty ids)."""
    config = project_file.config
    workflow_ids, dc_ids = server_ids(server_project)
    plans: list[WorkflowPlan] = []
    if config.data_collections:
        basic = WorkflowPlan("", "", "", [], "", project_file.base)
        basic.data_collections = [
            data_collection_plan(dc, dc_ids.get(("", dc.data_collection_tag), ""), "")
            for dc in config.data_collections
        ]
        plans.append(basic)
    for workflow in config.workflows:
        location = workflow.data_location
        plan = WorkflowPlan(
            id=workflow_ids.get(workflow.name, ""),
            name=workflow.name,
            structure=location.structure,
            locations=[Path(p) for p in location.locations],
            runs_regex=location.runs_regex or "",
            base=project_file.base,
        )
        plan.data_collections = [
            data_collection_plan(
                dc, dc_ids.get((workflow.name, dc.data_collection_tag), ""), workflow.name
            )
            for dc in workflow.data_collections
        ]
        plans.append(plan)
    if server_project is not None:
        missing = [dc.label for p in plans for dc in p.data_collections if not dc.id]
        if missing:
            raise CliFailure(
                f"{project_file.path}: data collections {missing} are not on the server: run "
                "`depictio project sync FILE` first"
            )
    project = ProjectPlan(
        id=server_project["id"] if server_project else "",
        name=config.name,
        workflows=plans,
        joins=[],
    )
    project.joins = join_plans(config, project)
    return project


def join_plans(config: ProjectConfig, project: ProjectPlan) -> list[JoinPlan]:
    """The config's persisted joins; their result goes to the `source: joined` data collection
    tagged with the join's name."""
    index = DataCollectionIndex(config)
    plans_by_key = {(dc.workflow_name, dc.tag): dc for dc in project.data_collections()}

    def plan_of(reference: str, workflow_name: str | None) -> DataCollectionPlan:
        entry = index.by_tag(reference, workflow_name)
        return plans_by_key[(entry.workflow_name or "", entry.tag)]

    joins = []
    for join in config.joins:
        if not join.persist:
            continue
        left = plan_of(join.left_dc, join.workflow_name)
        right = plan_of(join.right_dc, join.workflow_name)
        target = next(
            (
                dc
                for dc in project.data_collections()
                if dc.tag == join.name
                and dc.source == "joined"
                and dc.workflow_name in ("", left.workflow_name)
            ),
            None,
        )
        joins.append(JoinPlan(join.name, left, right, tuple(join.on_columns), join.how, target))
    return joins
