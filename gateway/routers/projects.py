"""/api/v1/projects: projects from Depictio configs, members, runs and files.

metadata_svc decides every access; this router translates HTTP to its RPCs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from depictio.clients.metadata import ConfigFormatName
from depictio.errors import InvalidArgument
from depictio.v1 import metadata_pb2 as pb
from gateway.data_backend import data_as
from gateway.identity import CurrentUser, Services
from gateway.metadata_backend import ERRORS, Caller, PageSize, PageToken, metadata_as
from gateway.project_models import (
    FilePublic,
    MemberPublic,
    MemberSet,
    Page,
    ProjectPublic,
    ProjectSynced,
    ProjectUpdate,
    RunPublic,
    RunRegister,
    RunRegistered,
)

router = APIRouter(prefix="/api/v1/projects", tags=["projects"], responses=ERRORS)

CONFIG_MEDIA_TYPES: dict[str, ConfigFormatName] = {
    "application/json": "json",
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
    "text/x-yaml": "yaml",
    "text/plain": "yaml",
}
CONFIG_BODY = {
    "requestBody": {
        "required": True,
        "description": "A Depictio project.yaml, as YAML or JSON (by Content-Type).",
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


async def config_body(request: Request) -> tuple[str, ConfigFormatName]:
    """The request's config text and its format ('yaml' or 'json')."""
    media_type = request.headers.get("content-type", "application/yaml").split(";")[0].strip()
    config_format = CONFIG_MEDIA_TYPES.get(media_type.lower())
    if config_format is None:
        expected = ", ".join(sorted(CONFIG_MEDIA_TYPES))
        raise InvalidArgument(f"content-type: expected one of {expected}, got '{media_type}'")
    body = await request.body()
    try:
        return body.decode("utf-8"), config_format
    except UnicodeDecodeError as exc:
        raise InvalidArgument("body: not UTF-8 text") from exc


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectSynced,
    openapi_extra=CONFIG_BODY,
    responses={200: {"model": ProjectSynced, "description": "An existing project was synced."}},
)
async def sync_project(
    request: Request, response: Response, user: CurrentUser, services: Services
) -> ProjectSynced:
    """Creates a project from its config (the caller becomes owner), or syncs the project the
    config names (by id, else by name): ids are kept, an identical config changes nothing."""
    text, config_format = await config_body(request)
    synced = await metadata_as(services, user).sync_project(text, config_format)
    if not synced.created:
        response.status_code = status.HTTP_200_OK
    public = ProjectPublic.from_pb(synced.project)
    return ProjectSynced(**public.model_dump(), changed=synced.changed, created=synced.created)


@router.get("", response_model=Page[ProjectPublic])
async def list_projects(
    caller: Caller, services: Services, page_size: PageSize = 0, page_token: PageToken = ""
) -> Page[ProjectPublic]:
    """The projects the caller can read, oldest first."""
    answer = await metadata_as(services, caller).list_projects(page_size, page_token)
    return Page[ProjectPublic].of([ProjectPublic.from_pb(p) for p in answer.projects], answer.page)


@router.get("/{project_id}", response_model=ProjectPublic)
async def get_project(project_id: str, caller: Caller, services: Services) -> ProjectPublic:
    """One project with its workflows, data collections, joins, links and members."""
    return ProjectPublic.from_pb(await metadata_as(services, caller).get_project(project_id))


@router.patch("/{project_id}", response_model=ProjectPublic)
async def update_project(
    project_id: str, body: ProjectUpdate, user: CurrentUser, services: Services
) -> ProjectPublic:
    """Renames a project or changes its visibility (owners)."""
    project = await metadata_as(services, user).update_project(
        project_id, name=body.name, is_public=body.is_public
    )
    return ProjectPublic.from_pb(project)


@router.delete("/{project_id}", status_code=status.HTTP_204_NO_CONTENT, response_model=None)
async def delete_project(project_id: str, user: CurrentUser, services: Services) -> None:
    """Deletes a project with its data collections and their tables, runs, files and
    dashboards (owners). The tables go first: data_svc checks the project's owners with
    metadata_svc, which knows them no more once the project is gone."""
    await data_as(services, user).delete_project_tables(project_id)
    await metadata_as(services, user).delete_project(project_id)


@router.get("/{project_id}/members", response_model=Page[MemberPublic])
async def list_members(project_id: str, caller: Caller, services: Services) -> Page[MemberPublic]:
    """The project's members, owners first."""
    members = await metadata_as(services, caller).list_members(project_id)
    items = [MemberPublic.from_pb(m) for m in members]
    return Page[MemberPublic].of(items)


@router.put("/{project_id}/members", response_model=MemberPublic)
async def set_member(
    project_id: str, body: MemberSet, user: CurrentUser, services: Services
) -> MemberPublic:
    """Adds a member or changes a member's role (owners); the last owner stays owner."""
    user_id, email = body.user_id or "", ""
    if body.email is not None:
        # auth_svc answers the project's owners only (anyone else learns nothing of the e-mail).
        found = await services.auth(user.access_token).lookup_user(body.email, project_id)
        user_id, email = found.user_id, found.email
    member = await metadata_as(services, user).set_member(project_id, user_id, body.role, email)
    return MemberPublic.from_pb(member)


@router.delete("/{project_id}/members", status_code=status.HTTP_204_NO_CONTENT, response_model=None)
async def remove_member(
    project_id: str,
    user: CurrentUser,
    services: Services,
    user_id: Annotated[str | None, Query(max_length=64, description="The member's id.")] = None,
    email: Annotated[str | None, Query(max_length=254, description="The member's e-mail.")] = None,
) -> None:
    """Removes a member (owners); the last owner cannot be removed."""
    if (user_id is None) == (email is None):
        raise InvalidArgument("give exactly one of the query parameters user_id and email")
    if email is not None:
        user_id = (await services.auth(user.access_token).lookup_user(email, project_id)).user_id
    assert user_id is not None
    await metadata_as(services, user).remove_member(project_id, user_id)


@router.get("/{project_id}/runs", response_model=Page[RunPublic])
async def list_runs(
    project_id: str,
    caller: Caller,
    services: Services,
    page_size: PageSize = 0,
    page_token: PageToken = "",
) -> Page[RunPublic]:
    """The project's registered runs."""
    answer = await metadata_as(services, caller).list_runs(project_id, page_size, page_token)
    return Page[RunPublic].of([RunPublic.from_pb(r) for r in answer.runs], answer.page)


@router.post("/{project_id}/runs", response_model=RunRegistered)
async def register_run(
    project_id: str, body: RunRegister, user: CurrentUser, services: Services
) -> RunRegistered:
    """Registers a run and its files (editors); a run is identified by workflow and tag."""
    run = pb.Run(
        project_id=project_id,
        workflow_id=body.workflow_id,
        run_tag=body.run_tag,
        location=body.location,
        hash=body.hash,
    )
    answer = await metadata_as(services, user).register_run(
        run, [file.to_pb() for file in body.files], replace_files=body.replace_files
    )
    return RunRegistered(
        run=RunPublic.from_pb(answer.run), files=[FilePublic.from_pb(f) for f in answer.files]
    )


@router.get("/{project_id}/files", response_model=Page[FilePublic])
async def list_files(
    project_id: str,
    caller: Caller,
    services: Services,
    page_size: PageSize = 0,
    page_token: PageToken = "",
    data_collection_id: Annotated[str, Query(max_length=64)] = "",
    run_id: Annotated[str, Query(max_length=64)] = "",
) -> Page[FilePublic]:
    """The project's scanned files, optionally of one data collection or run."""
    answer = await metadata_as(services, caller).list_files(
        project_id, page_size, page_token, data_collection_id, run_id
    )
    return Page[FilePublic].of([FilePublic.from_pb(f) for f in answer.files], answer.page)
