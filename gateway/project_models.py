"""Request and response bodies of the project routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from google.protobuf.json_format import MessageToDict
from pydantic import BaseModel, Field, model_validator

from depictio.clients.metadata import role_name
from depictio.v1 import common_pb2
from depictio.v1 import metadata_pb2 as pb
from gateway.models import Input, from_timestamp

RoleName = Literal["viewer", "editor", "owner"]
PROJECT_TYPE_NAMES = {pb.PROJECT_TYPE_BASIC: "basic", pb.PROJECT_TYPE_ADVANCED: "advanced"}
STRUCTURE_NAMES = {
    pb.DATA_LOCATION_STRUCTURE_FLAT: "flat",
    pb.DATA_LOCATION_STRUCTURE_SEQUENCING_RUNS: "sequencing-runs",
}


class ProjectUpdate(Input):
    """Changes to a project; omitted fields stay as they are (owners)."""

    name: str | None = Field(None, min_length=1, max_length=200, description="New name.")
    is_public: bool | None = Field(None, description="Readable by everyone signed in.")


class MemberSet(Input):
    """Adds a member or changes a member's role: name the user by e-mail or by id."""

    email: str | None = Field(None, min_length=3, max_length=254, description="The user's e-mail.")
    user_id: str | None = Field(None, min_length=1, max_length=64, description="The user's id.")
    role: RoleName = Field(description="viewer, editor or owner.")

    @model_validator(mode="after")
    def _one_user(self) -> MemberSet:
        if (self.email is None) == (self.user_id is None):
            raise ValueError("give exactly one of email and user_id")
        return self


class MemberPublic(BaseModel):
    """A project member."""

    user_id: str
    email: str
    role: str = Field(description="viewer, editor or owner.")

    @classmethod
    def from_pb(cls, member: pb.Member) -> MemberPublic:
        return cls(user_id=member.user_id, email=member.email, role=role_name(member.role))


def _message_dict(message: Any) -> dict[str, Any]:
    return MessageToDict(message, preserving_proto_field_name=True)


class ColumnPublic(BaseModel):
    """A column of a data collection's table."""

    name: str
    type: str


class DataCollectionPublic(BaseModel):
    """A data collection with its declared and observed columns."""

    id: str
    data_collection_tag: str
    description: str
    type: str
    metatype: str
    scan_mode: str
    filename: str
    regex_pattern: str
    wildcards: list[dict[str, str]]
    format: str
    polars_kwargs: dict[str, Any]
    columns_description: dict[str, str]
    keep_columns: list[str]
    workflow_id: str
    declared_columns: list[str]
    observed_columns: list[ColumnPublic]
    observed_version: int

    @classmethod
    def from_pb(cls, dc: pb.DataCollection) -> DataCollectionPublic:
        return cls(
            id=dc.id,
            data_collection_tag=dc.data_collection_tag,
            description=dc.description,
            type=dc.type,
            metatype=dc.metatype,
            scan_mode=dc.scan_mode,
            filename=dc.filename,
            regex_pattern=dc.regex_pattern,
            wildcards=[{"name": w.name, "wildcard_regex": w.wildcard_regex} for w in dc.wildcards],
            format=dc.format,
            polars_kwargs=_message_dict(dc.polars_kwargs),
            columns_description=dict(dc.columns_description),
            keep_columns=list(dc.keep_columns),
            workflow_id=dc.workflow_id,
            declared_columns=list(dc.declared_columns),
            observed_columns=[ColumnPublic(name=c.name, type=c.type) for c in dc.observed_columns],
            observed_version=dc.observed_version,
        )


class WorkflowPublic(BaseModel):
    """A workflow with its data collections."""

    id: str
    name: str
    workflow_tag: str
    description: str
    engine: dict[str, str]
    version: str
    catalog: dict[str, str]
    repository_url: str
    data_location: dict[str, Any]
    data_collections: list[DataCollectionPublic]

    @classmethod
    def from_pb(cls, workflow: pb.Workflow) -> WorkflowPublic:
        location = workflow.data_location
        return cls(
            id=workflow.id,
            name=workflow.name,
            workflow_tag=workflow.workflow_tag,
            description=workflow.description,
            engine={"name": workflow.engine_name, "version": workflow.engine_version},
            version=workflow.version,
            catalog={"name": workflow.catalog, "url": workflow.catalog_url},
            repository_url=workflow.repository_url,
            data_location={
                "structure": STRUCTURE_NAMES.get(location.structure, ""),
                "locations": list(location.locations),
                "runs_regex": location.runs_regex,
            },
            data_collections=[DataCollectionPublic.from_pb(dc) for dc in workflow.data_collections],
        )


class ProjectPublic(BaseModel):
    """A project; lists leave out workflows, data collections, joins, links and members."""

    id: str
    name: str
    project_type: str = Field(description="basic or advanced.")
    is_public: bool
    description: str
    your_role: str = Field(description="The caller's role; empty when not a member.")
    created_at: datetime | None
    updated_at: datetime | None
    workflows: list[WorkflowPublic] = Field(default_factory=list)
    data_collections: list[DataCollectionPublic] = Field(default_factory=list)
    joins: list[dict[str, Any]] = Field(default_factory=list)
    links: list[dict[str, Any]] = Field(default_factory=list)
    members: list[MemberPublic] = Field(default_factory=list)

    @classmethod
    def from_pb(cls, project: pb.Project) -> ProjectPublic:
        return cls(
            id=project.id,
            name=project.name,
            project_type=PROJECT_TYPE_NAMES.get(project.project_type, ""),
            is_public=project.is_public,
            description=project.description,
            your_role=role_name(project.caller_role),
            created_at=from_timestamp(project.created_at, project.HasField("created_at")),
            updated_at=from_timestamp(project.updated_at, project.HasField("updated_at")),
            workflows=[WorkflowPublic.from_pb(w) for w in project.workflows],
            data_collections=[DataCollectionPublic.from_pb(dc) for dc in project.data_collections],
            joins=[_message_dict(join) for join in project.joins],
            links=[_message_dict(link) for link in project.links],
            members=[MemberPublic.from_pb(m) for m in project.members],
        )


class ProjectSynced(ProjectPublic):
    """A project after a config was applied."""

    changed: bool = Field(description="Whether the config changed anything.")
    created: bool = Field(description="Whether the project was created.")


class RunPublic(BaseModel):
    """A registered run."""

    id: str
    workflow_id: str
    run_tag: str
    location: str
    hash: str
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def from_pb(cls, run: pb.Run) -> RunPublic:
        return cls(
            id=run.id,
            workflow_id=run.workflow_id,
            run_tag=run.run_tag,
            location=run.location,
            hash=run.hash,
            created_at=from_timestamp(run.created_at, run.HasField("created_at")),
            updated_at=from_timestamp(run.updated_at, run.HasField("updated_at")),
        )


class FileRegister(Input):
    """A scanned file of a run."""

    data_collection_id: str = Field(min_length=1, max_length=64)
    path: str = Field(min_length=1, max_length=1000, description="Path within the run.")
    size: int = Field(0, ge=0, description="Bytes.")
    mtime: datetime | None = Field(None, description="Modification time.")
    sha256: str = Field("", pattern=r"^([0-9a-f]{64})?$", description="Content hash (hex).")

    def to_pb(self) -> pb.File:
        file = pb.File(
            data_collection_id=self.data_collection_id,
            path=self.path,
            size=self.size,
            sha256=self.sha256,
        )
        if self.mtime is not None:
            file.mtime.FromDatetime(self.mtime)
        return file


class RunRegister(Input):
    """A run and its files, registered after ingestion (editors)."""

    workflow_id: str = Field("", max_length=64, description="Empty in a basic project.")
    run_tag: str = Field(min_length=1, max_length=200)
    location: str = Field("", max_length=2000)
    hash: str = Field("", max_length=128, description="Hash of the run's files.")
    files: list[FileRegister] = Field(default_factory=list)
    replace_files: bool = Field(
        False, description="The files listed are the run's whole set; others are removed."
    )


class FilePublic(BaseModel):
    """A scanned file."""

    id: str
    run_id: str
    data_collection_id: str
    path: str
    size: int
    mtime: datetime | None
    sha256: str

    @classmethod
    def from_pb(cls, file: pb.File) -> FilePublic:
        return cls(
            id=file.id,
            run_id=file.run_id,
            data_collection_id=file.data_collection_id,
            path=file.path,
            size=file.size,
            mtime=from_timestamp(file.mtime, file.HasField("mtime")),
            sha256=file.sha256,
        )


T = TypeVar("T")


class RunRegistered(BaseModel):
    """A registered run with its files."""

    run: RunPublic
    files: list[FilePublic]


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    next_page_token: str | None = Field(description="Pass as page_token for the next page.")
    total: int = Field(description="Items across all pages.")

    @classmethod
    def of(cls, items: list[T], page: common_pb2.PageResponse | None = None) -> Page[T]:
        """A page of `items` as an RPC's PageResponse describes it (None: the whole list)."""
        if page is None:
            return cls(items=items, next_page_token=None, total=len(items))
        return cls(items=items, next_page_token=page.next_page_token or None, total=page.total_size)
