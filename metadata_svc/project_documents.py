"""From a checked project config to the documents metadata_svc stores, keeping existing ids.

Matching: the project, its workflows, data collections, joins and links are matched to the
stored ones by id when the config gives one, else by name (workflow, join), tag within the
workflow (data collection) or source/target (link); what matches keeps its id, the rest gets a
new one. Runtime fields (observed table schema, timestamps, creator) are never part of these
documents, so a sync cannot overwrite them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from depictio.projects.checks import Violation
from depictio.projects.config_models import (
    DataCollectionConfig,
    JoinConfig,
    LinkConfig,
    ProjectConfig,
    WorkflowConfig,
)
from depictio.projects.parsing import ConfigInvalid
from depictio.projects.references import DataCollectionIndex, iter_data_collections

Doc = dict[str, Any]
PROVENANCE_COLUMNS = ("depictio_run_id", "depictio_file")


def new_id() -> str:
    """A fresh 24-hex id, the shape of Depictio's ObjectIds."""
    return uuid.uuid4().hex[:24]


@dataclass
class StoredProject:
    """A project's stored documents (empty lists for a project not stored yet)."""

    project: Doc | None = None
    workflows: list[Doc] = field(default_factory=list)
    data_collections: list[Doc] = field(default_factory=list)
    joins: list[Doc] = field(default_factory=list)
    links: list[Doc] = field(default_factory=list)


@dataclass
class ProjectDocuments:
    """The documents a config describes, with their ids settled."""

    project: Doc
    workflows: list[Doc]
    data_collections: list[Doc]
    joins: list[Doc]
    links: list[Doc]


def declared_columns(dc: DataCollectionConfig) -> list[str]:
    """The columns a data collection's config names: keep_columns (else the described
    columns), then the wildcard captures."""
    properties = dc.config.dc_specific_properties
    names = list(properties.keep_columns or []) or list(properties.columns_description or {})
    scan = dc.config.scan
    if scan and scan.scan_parameters.regex_config:
        names += [w.name for w in scan.scan_parameters.regex_config.wildcards or []]
    return list(dict.fromkeys(names))


def workflow_document(
    workflow: WorkflowConfig, workflow_id: str, project_id: str, position: int
) -> Doc:
    catalog = workflow.catalog
    return {
        "_id": workflow_id,
        "project_id": project_id,
        "position": position,
        "name": workflow.name,
        "engine_name": workflow.engine.name,
        "engine_version": workflow.engine.version or "",
        "version": workflow.version or "",
        "catalog": (catalog.name or "") if catalog else "",
        "catalog_url": (catalog.url or "") if catalog else "",
        "repository_url": workflow.repository_url or "",
        "workflow_tag": workflow.workflow_tag or default_workflow_tag(workflow),
        "description": workflow.description or "",
        "structure": workflow.data_location.structure,
        "locations": list(workflow.data_location.locations),
        "runs_regex": workflow.data_location.runs_regex or "",
        "settings": workflow.config.model_dump() if workflow.config else None,
    }


def default_workflow_tag(workflow: WorkflowConfig) -> str:
    """Depictio's derived tag: 'nf-core/name' for nf-core workflows, else 'engine/name'."""
    if workflow.catalog and workflow.catalog.name == "nf-core":
        return f"nf-core/{workflow.name}"
    return f"{workflow.engine.name}/{workflow.name}"


def data_collection_document(
    dc: DataCollectionConfig, dc_id: str, workflow_id: str, project_id: str, position: int
) -> Doc:
    settings = dc.config
    properties = settings.dc_specific_properties
    scan = settings.scan
    parameters = scan.scan_parameters if scan else None
    regex = parameters.regex_config if parameters else None
    return {
        "_id": dc_id,
        "project_id": project_id,
        "workflow_id": workflow_id,
        "position": position,
        "tag": dc.data_collection_tag,
        "description": dc.description or "",
        "optional": dc.optional,
        "type": settings.type,
        "source": settings.source,
        "metatype": settings.metatype or "",
        "scan_mode": scan.mode if scan else "",
        "filename": (parameters.filename or "") if parameters else "",
        "regex_pattern": regex.pattern if regex else "",
        "wildcards": [w.model_dump() for w in (regex.wildcards or [])] if regex else [],
        "max_depth": (parameters.max_depth or 0) if parameters else 0,
        "ignore": list(parameters.ignore or []) if parameters else [],
        "format": properties.format,
        "polars_kwargs": properties.polars_kwargs,
        # A list, not a mapping: column names may contain dots, which MongoDB keys must not.
        "columns_description": [
            {"name": name, "description": text}
            for name, text in (properties.columns_description or {}).items()
        ],
        "keep_columns": list(properties.keep_columns or []),
        "declared_columns": declared_columns(dc),
        "table_join": settings.join.model_dump() if settings.join else None,
    }


def join_document(
    join: JoinConfig, join_id: str, project_id: str, position: int, left: str, right: str
) -> Doc:
    return {
        "_id": join_id,
        "project_id": project_id,
        "position": position,
        "name": join.name,
        "description": join.description or "",
        "left_dc_id": left,
        "right_dc_id": right,
        "on_columns": list(join.on_columns),
        "how": join.how,
        "persist": join.persist,
        "workflow_name": join.workflow_name or "",
        "granularity": join.granularity.model_dump() if join.granularity else None,
    }


def link_document(
    link: LinkConfig, link_id: str, project_id: str, position: int, source: str, target: str
) -> Doc:
    settings = link.link_config
    return {
        "_id": link_id,
        "project_id": project_id,
        "position": position,
        "source_dc_id": source,
        "source_column": link.source_column,
        "target_dc_id": target,
        "target_type": link.target_type,
        "resolver": settings.resolver,
        "target_field": settings.target_field or "",
        "mappings": [
            {"source": key, "targets": list(values)}
            for key, values in (settings.mappings or {}).items()
        ],
        "pattern": settings.pattern or "",
        "case_sensitive": settings.case_sensitive,
        "enabled": link.enabled,
        "description": link.description or "",
    }


def _match(given: str | None, candidates: list[Doc], **keys: Any) -> str:
    """The id for an entity: the given one, else a stored one with the same keys, else new."""
    if given:
        return given
    for doc in candidates:
        if all(doc.get(name) == value for name, value in keys.items()):
            return str(doc["_id"])
    return new_id()


def build_documents(
    config: ProjectConfig, stored: StoredProject, project_id: str
) -> ProjectDocuments:
    """The documents `config` describes for project `project_id`, reusing stored ids."""
    project = {
        "_id": project_id,
        "name": config.name,
        "project_type": config.project_type,
        "is_public": config.is_public,
        "description": config.description or "",
        "data_management_platform_project_url": config.data_management_platform_project_url or "",
        "yaml_config_path": config.yaml_config_path or "",
    }
    workflows = []
    workflow_ids: list[str] = []
    for position, workflow in enumerate(config.workflows):
        workflow_id = _match(workflow.id, stored.workflows, name=workflow.name)
        workflow_ids.append(workflow_id)
        workflows.append(workflow_document(workflow, workflow_id, project_id, position))

    dc_ids: list[str | None] = []
    data_collections = []
    for position, (_, w_index, _, dc) in enumerate(iter_data_collections(config)):
        workflow_id = workflow_ids[w_index] if w_index is not None else ""
        dc_id = _match(
            dc.id, stored.data_collections, workflow_id=workflow_id, tag=dc.data_collection_tag
        )
        dc_ids.append(dc_id)
        data_collections.append(
            data_collection_document(dc, dc_id, workflow_id, project_id, position)
        )

    index = DataCollectionIndex(config, dc_ids)
    problems: list[Violation] = []
    joins = []
    for position, join in enumerate(config.joins):
        left = index.by_tag(join.left_dc, join.workflow_name).id
        right = index.by_tag(join.right_dc, join.workflow_name).id
        join_id = _match(join.id, stored.joins, name=join.name)
        joins.append(join_document(join, join_id, project_id, position, str(left), str(right)))
    links = []
    for position, link in enumerate(config.links):
        try:
            source = index.resolve(link.source_dc_id, link.source_dc_tag).id
            target = index.resolve(link.target_dc_id, link.target_dc_tag).id
        except LookupError as exc:
            problems.append((f"links[{position}]", str(exc)))
            continue
        link_id = _match(
            link.id,
            stored.links,
            source_dc_id=source,
            source_column=link.source_column,
            target_dc_id=target,
        )
        links.append(link_document(link, link_id, project_id, position, str(source), str(target)))
    if problems:
        raise ConfigInvalid(problems)
    return ProjectDocuments(project, workflows, data_collections, joins, links)


CONFIG_FIELDS_IGNORED = frozenset(
    {"created_at", "updated_at", "created_by", "observed_columns", "observed_version"}
)


def _config_part(doc: Doc) -> Doc:
    return {key: value for key, value in doc.items() if key not in CONFIG_FIELDS_IGNORED}


def differs(documents: ProjectDocuments, stored: StoredProject) -> bool:
    """Whether storing `documents` would change anything stored."""
    if stored.project is None or _config_part(stored.project) != documents.project:
        return True
    pairs = (
        (documents.workflows, stored.workflows),
        (documents.data_collections, stored.data_collections),
        (documents.joins, stored.joins),
        (documents.links, stored.links),
    )
    for wanted, present in pairs:
        by_id = {doc["_id"]: _config_part(doc) for doc in present}
        if len(by_id) != len(wanted) or any(by_id.get(doc["_id"]) != doc for doc in wanted):
            return True
    return False
