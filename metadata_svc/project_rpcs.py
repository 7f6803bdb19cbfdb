"""Project, membership and access RPCs of MetadataService."""

from __future__ import annotations

import logging
from typing import Any

from depictio.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from depictio.pagination import next_page_token, page_bounds
from depictio.projects.parsing import ConfigInvalid, parse_project_config
from depictio.rpc.context import current_identity, require_identity
from depictio.v1 import common_pb2
from depictio.v1 import metadata_pb2 as pb
from metadata_svc.access import (
    MANAGE,
    MEMBERS_FOR_MEMBERS,
    NO_ROLE,
    OWNER,
    READ,
    WRITE,
    Authorizer,
    Decision,
    lists_members,
    refusal,
)
from metadata_svc.messages import member_message, project_message, project_summary
from metadata_svc.project_documents import StoredProject, build_documents, differs, new_id
from metadata_svc.store import ProjectStore

log = logging.getLogger("metadata_svc")

CONFIG_FORMAT_NAMES: dict[int, str] = {
    pb.CONFIG_FORMAT_UNSPECIFIED: "yaml",
    pb.CONFIG_FORMAT_YAML: "yaml",
    pb.CONFIG_FORMAT_JSON: "json",
}
ENTITY_ID_FIELDS = (
    ("workflows", "workflows"),
    ("data_collections", "data_collections"),
    ("joins", "joins"),
    ("links", "links"),
)


class ProjectRpcs:
    """CreateProject, SyncProject, Get/List/Update/DeleteProject, members, CheckAccess,
    RecordTableSchema."""

    store: ProjectStore
    authorizer: Authorizer

    async def _sync(
        self, config_text: str, config_format: int, create_only: bool
    ) -> pb.SyncProjectResponse:
        identity = require_identity()
        # No environment: placeholders are the CLI's to expand; expanded here, a config could
        # read this process's secrets back through its locations.
        config = parse_project_config(
            config_text, CONFIG_FORMAT_NAMES.get(config_format, "yaml"), environ={}
        )
        existing = await self.store.project(config.id) if config.id else None
        if existing is None and not config.id:
            existing = await self.store.project_by_name(config.name)
        if existing is not None and create_only:
            field = "id" if config.id else "name"
            value = config.id or config.name
            raise AlreadyExists(f"{field}: a project with {field} '{value}' exists already")
        if existing is not None:
            project, decision = await self.authorizer.require(identity, existing["_id"], WRITE)
            if (
                bool(project.get("is_public")) != config.is_public
                and decision.role < OWNER
                and not identity.is_admin
            ):
                raise refusal(identity, await self.authorizer.check(identity, project, MANAGE))
            stored = await self.store.stored_project(existing["_id"])
            project_id = str(existing["_id"])
            clash = await self.store.project_by_name(config.name)
            if clash is not None and clash["_id"] != project_id:
                raise AlreadyExists(f"name: another project is named '{config.name}'")
        else:
            if config.id and await self.store.project_deleted(config.id):
                # A new project under a deleted one's id would read the tables it left.
                raise FailedPrecondition(
                    f"id: '{config.id}' was a deleted project's id, and ids are not given "
                    "twice; choose another id, or leave it out to get a new one"
                )
            stored = StoredProject()
            project_id = config.id or new_id()
            clash = await self.store.project_by_name(config.name)
            if clash is not None:
                raise AlreadyExists(f"name: a project named '{config.name}' exists already")
        documents = build_documents(config, stored, project_id)
        await self._refuse_foreign_ids(documents, project_id)
        changed = differs(documents, stored)
        if changed:
            await self.store.save_project(documents, stored, identity.user_id)
        created = stored.project is None
        if created:
            await self.store.put_membership(project_id, identity.user_id, identity.email, OWNER)
            log.info(
                "project created", extra={"project_id": project_id, "user_id": identity.user_id}
            )
        role = await self.authorizer.role_of(identity, project_id)
        message = await project_message(self.store, project_id, role)
        return pb.SyncProjectResponse(project=message, changed=changed, created=created)

    async def _refuse_foreign_ids(self, documents: Any, project_id: str) -> None:
        """Ids given in the config must not belong to another project's entities."""
        problems = []
        for collection, attribute in ENTITY_ID_FIELDS:
            docs = getattr(documents, attribute)
            taken = await self.store.ids_taken_elsewhere(
                collection, [d["_id"] for d in docs], project_id
            )
            problems += [
                (
                    f"{collection}[{doc['position']}].id",
                    f"'{doc['_id']}' belongs to another project",
                )
                for doc in docs
                if doc["_id"] in taken
            ]
        if problems:
            raise ConfigInvalid(problems)

    async def CreateProject(
        self, request: pb.CreateProjectRequest, context: Any
    ) -> pb.CreateProjectResponse:
        response = await self._sync(request.config, request.config_format, create_only=True)
        return pb.CreateProjectResponse(project=response.project)

    async def SyncProject(
        self, request: pb.SyncProjectRequest, context: Any
    ) -> pb.SyncProjectResponse:
        return await self._sync(request.config, request.config_format, create_only=False)

    async def GetProject(
        self, request: pb.GetProjectRequest, context: Any
    ) -> pb.GetProjectResponse:
        identity = current_identity()
        _, decision = await self.authorizer.require(identity, request.project_id, READ)
        message = await project_message(
            self.store, request.project_id, decision.role, lists_members(identity, decision)
        )
        return pb.GetProjectResponse(project=message)

    async def ListProjects(
        self, request: pb.ListProjectsRequest, context: Any
    ) -> pb.ListProjectsResponse:
        identity = current_identity()
        offset, limit = page_bounds(request.page.page_size, request.page.page_token)
        projects, total = await self.store.readable_projects(
            identity.user_id, identity.is_admin, offset, limit
        )
        roles = await self.store.memberships_of(identity.user_id, [p["_id"] for p in projects])
        return pb.ListProjectsResponse(
            projects=[project_summary(p, roles.get(p["_id"], NO_ROLE)) for p in projects],
            page=common_pb2.PageResponse(
                next_page_token=next_page_token(offset, limit, total), total_size=total
            ),
        )

    async def UpdateProject(
        self, request: pb.UpdateProjectRequest, context: Any
    ) -> pb.UpdateProjectResponse:
        identity = current_identity()
        _, decision = await self.authorizer.require(identity, request.project_id, MANAGE)
        fields: dict[str, Any] = {}
        if request.HasField("name"):
            name = request.name.strip()
            if not name or len(name) > 200:
                raise InvalidArgument("name: must be 1 to 200 characters")
            fields["name"] = name
        if request.HasField("is_public"):
            fields["is_public"] = request.is_public
        if fields:
            await self.store.set_project_fields(request.project_id, fields)
        message = await project_message(self.store, request.project_id, decision.role)
        return pb.UpdateProjectResponse(project=message)

    async def DeleteProject(
        self, request: pb.DeleteProjectRequest, context: Any
    ) -> pb.DeleteProjectResponse:
        identity = current_identity()
        await self.authorizer.require(identity, request.project_id, MANAGE)
        await self.store.delete_project(request.project_id)
        log.info(
            "project deleted", extra={"project_id": request.project_id, "user_id": identity.user_id}
        )
        return pb.DeleteProjectResponse()

    # members

    async def ListMembers(
        self, request: pb.ListMembersRequest, context: Any
    ) -> pb.ListMembersResponse:
        identity = current_identity()
        _, decision = await self.authorizer.require(identity, request.project_id, READ)
        if not lists_members(identity, decision):
            raise refusal(
                identity,
                Decision(False, decision.role, MEMBERS_FOR_MEMBERS, decision.project_id),
            )
        members = await self.store.memberships(request.project_id)
        return pb.ListMembersResponse(members=[member_message(m) for m in members])

    async def _refuse_losing_last_owner(self, project_id: str, user_id: str) -> None:
        current = await self.store.membership(project_id, user_id)
        if (
            current
            and current["role"] == OWNER
            and await self.store.count_role(project_id, OWNER) <= 1
        ):
            raise FailedPrecondition(
                f"user_id: {current.get('email') or user_id} is the last owner: "
                "make another member owner first"
            )

    async def SetMember(self, request: pb.SetMemberRequest, context: Any) -> pb.SetMemberResponse:
        await self.authorizer.require(current_identity(), request.project_id, MANAGE)
        if not request.user_id:
            raise InvalidArgument("user_id: required")
        if request.role not in (common_pb2.ROLE_VIEWER, common_pb2.ROLE_EDITOR, OWNER):
            raise InvalidArgument("role: must be viewer, editor or owner")
        if request.role != OWNER:
            await self._refuse_losing_last_owner(request.project_id, request.user_id)
        member = await self.store.put_membership(
            request.project_id, request.user_id, request.email.strip().lower(), request.role
        )
        return pb.SetMemberResponse(member=member_message(member))

    async def RemoveMember(
        self, request: pb.RemoveMemberRequest, context: Any
    ) -> pb.RemoveMemberResponse:
        await self.authorizer.require(current_identity(), request.project_id, MANAGE)
        await self._refuse_losing_last_owner(request.project_id, request.user_id)
        if not await self.store.delete_membership(request.project_id, request.user_id):
            raise NotFound(f"user_id: '{request.user_id}' is not a member of the project")
        return pb.RemoveMemberResponse()

    # access and table schemas

    async def CheckAccess(
        self, request: pb.CheckAccessRequest, context: Any
    ) -> pb.CheckAccessResponse:
        identity = current_identity()
        target = request.WhichOneof("target")
        if target == "data_collection_id":
            dc = await self.store.data_collection(request.data_collection_id)
            if dc is None:
                raise NotFound(
                    f"data_collection_id: no data collection '{request.data_collection_id}'"
                )
            project_id = str(dc["project_id"])
        elif target == "project_id":
            project_id = request.project_id
        else:
            raise InvalidArgument("target: give project_id or data_collection_id")
        project = await self.authorizer.project(project_id)
        decision = await self.authorizer.check(identity, project, request.action)
        return pb.CheckAccessResponse(
            allowed=decision.allowed,
            role=common_pb2.Role.ValueType(decision.role),
            reason=decision.reason,
            project_id=project_id,
        )

    async def RecordTableSchema(
        self, request: pb.RecordTableSchemaRequest, context: Any
    ) -> pb.RecordTableSchemaResponse:
        identity = require_identity()
        dc = await self.store.data_collection(request.data_collection_id)
        if dc is None:
            raise NotFound(f"data_collection_id: no data collection '{request.data_collection_id}'")
        await self.authorizer.require(identity, str(dc["project_id"]), WRITE)
        if request.version < 0:
            raise InvalidArgument(f"version: must be >= 0, got {request.version}")
        names = [column.name for column in request.columns]
        if any(not name for name in names) or len(set(names)) != len(names):
            raise InvalidArgument("columns: names must be non-empty and unique")
        columns = [{"name": c.name, "type": c.type} for c in request.columns]
        version, recorded = await self.store.record_table_schema(
            dc["_id"], columns, request.version
        )
        return pb.RecordTableSchemaResponse(version=version, recorded=recorded)
