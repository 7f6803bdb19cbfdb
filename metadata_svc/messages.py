"""Stored documents as protobuf messages."""

from __future__ import annotations

from typing import Any

from google.protobuf.struct_pb2 import Struct

from depictio.timestamps import to_timestamp
from depictio.v1 import metadata_pb2 as pb
from depictio.v1.common_pb2 import Role
from metadata_svc.project_documents import Doc
from metadata_svc.store import ProjectStore

PROJECT_TYPES = {"basic": pb.PROJECT_TYPE_BASIC, "advanced": pb.PROJECT_TYPE_ADVANCED}
STRUCTURES = {
    "flat": pb.DATA_LOCATION_STRUCTURE_FLAT,
    "sequencing-runs": pb.DATA_LOCATION_STRUCTURE_SEQUENCING_RUNS,
}


def struct_of(values: dict[str, Any] | None) -> Struct:
    message = Struct()
    if values:
        message.update(values)
    return message


def data_collection_message(doc: Doc) -> pb.DataCollection:
    return pb.DataCollection(
        id=doc["_id"],
        data_collection_tag=doc["tag"],
        description=doc.get("description", ""),
        type=doc["type"],
        metatype=doc.get("metatype", ""),
        scan_mode=doc.get("scan_mode", ""),
        filename=doc.get("filename", ""),
        regex_pattern=doc.get("regex_pattern", ""),
        wildcards=[pb.Wildcard(**w) for w in doc.get("wildcards", [])],
        format=doc.get("format", ""),
        polars_kwargs=struct_of(doc.get("polars_kwargs")),
        columns_description={
            c["name"]: c["description"] for c in doc.get("columns_description", [])
        },
        keep_columns=doc.get("keep_columns", []),
        project_id=doc["project_id"],
        workflow_id=doc.get("workflow_id", ""),
        declared_columns=doc.get("declared_columns", []),
        observed_columns=[pb.ColumnSchema(**c) for c in doc.get("observed_columns", [])],
        observed_version=int(doc.get("observed_version", 0)),
        max_depth=int(doc.get("max_depth", 0)),
        ignore=doc.get("ignore", []),
    )


def workflow_message(doc: Doc, data_collections: list[Doc]) -> pb.Workflow:
    return pb.Workflow(
        id=doc["_id"],
        name=doc["name"],
        engine_name=doc.get("engine_name", ""),
        engine_version=doc.get("engine_version", ""),
        version=doc.get("version", ""),
        catalog=doc.get("catalog", ""),
        catalog_url=doc.get("catalog_url", ""),
        repository_url=doc.get("repository_url", ""),
        workflow_tag=doc.get("workflow_tag", ""),
        description=doc.get("description", ""),
        data_location=pb.DataLocation(
            structure=STRUCTURES.get(
                doc.get("structure", ""), pb.DATA_LOCATION_STRUCTURE_UNSPECIFIED
            ),
            locations=doc.get("locations", []),
            runs_regex=doc.get("runs_regex", ""),
        ),
        data_collections=[data_collection_message(dc) for dc in data_collections],
    )


def join_message(doc: Doc) -> pb.Join:
    return pb.Join(
        id=doc["_id"],
        name=doc["name"],
        description=doc.get("description", ""),
        left_data_collection_id=doc["left_dc_id"],
        right_data_collection_id=doc["right_dc_id"],
        on_columns=doc.get("on_columns", []),
        how=doc.get("how", "inner"),
        persist=bool(doc.get("persist", True)),
        workflow_name=doc.get("workflow_name", ""),
    )


def link_message(doc: Doc) -> pb.Link:
    return pb.Link(
        id=doc["_id"],
        source_data_collection_id=doc["source_dc_id"],
        source_column=doc["source_column"],
        target_data_collection_id=doc["target_dc_id"],
        target_type=doc.get("target_type", "table"),
        resolver=doc.get("resolver", "direct"),
        target_field=doc.get("target_field", ""),
        mappings={m["source"]: pb.LinkValues(values=m["targets"]) for m in doc.get("mappings", [])},
        pattern=doc.get("pattern", ""),
        case_sensitive=bool(doc.get("case_sensitive", True)),
        enabled=bool(doc.get("enabled", True)),
        description=doc.get("description", ""),
    )


def member_message(doc: Doc) -> pb.Member:
    return pb.Member(
        user_id=doc["user_id"], email=doc.get("email", ""), role=Role.ValueType(int(doc["role"]))
    )


def project_summary(doc: Doc, caller_role: int) -> pb.Project:
    """A project without its entities and members (for lists)."""
    return pb.Project(
        id=doc["_id"],
        name=doc["name"],
        project_type=PROJECT_TYPES.get(doc.get("project_type", ""), pb.PROJECT_TYPE_UNSPECIFIED),
        is_public=bool(doc.get("is_public")),
        caller_role=Role.ValueType(caller_role),
        created_at=to_timestamp(doc.get("created_at")),
        updated_at=to_timestamp(doc.get("updated_at")),
        data_management_platform_project_url=doc.get("data_management_platform_project_url", ""),
        description=doc.get("description", ""),
    )


async def project_message(
    store: ProjectStore, project_id: str, caller_role: int, with_members: bool = True
) -> pb.Project:
    """A project with its workflows, data collections, joins, links and (`with_members`) its
    members."""
    stored = await store.stored_project(project_id)
    assert stored.project is not None
    message = project_summary(stored.project, caller_role)
    by_workflow: dict[str, list[Doc]] = {}
    for dc in stored.data_collections:
        by_workflow.setdefault(dc.get("workflow_id", ""), []).append(dc)
    message.workflows.extend(
        workflow_message(workflow, by_workflow.get(workflow["_id"], []))
        for workflow in stored.workflows
    )
    message.data_collections.extend(data_collection_message(dc) for dc in by_workflow.get("", []))
    message.joins.extend(join_message(join) for join in stored.joins)
    message.links.extend(link_message(link) for link in stored.links)
    if with_members:
        message.members.extend(member_message(m) for m in await store.memberships(project_id))
    return message
