"""Typed client of metadata_svc."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from depictio.clients.base import ServiceClient
from depictio.v1 import common_pb2, metadata_pb2_grpc
from depictio.v1 import metadata_pb2 as pb

ConfigFormatName = Literal["yaml", "json"]
ActionName = Literal["read", "write", "manage"]
RoleName = Literal["viewer", "editor", "owner"]
SchemeName = Literal["light", "dark"]

CONFIG_FORMATS: dict[str, pb.ConfigFormat.ValueType] = {
    "yaml": pb.CONFIG_FORMAT_YAML,
    "json": pb.CONFIG_FORMAT_JSON,
}
ACTIONS: dict[str, pb.Action.ValueType] = {
    "read": pb.ACTION_READ,
    "write": pb.ACTION_WRITE,
    "manage": pb.ACTION_MANAGE,
}
ROLES: dict[str, common_pb2.Role.ValueType] = {
    "viewer": common_pb2.ROLE_VIEWER,
    "editor": common_pb2.ROLE_EDITOR,
    "owner": common_pb2.ROLE_OWNER,
}
ROLE_NAMES: dict[int, str] = {value: name for name, value in ROLES.items()}
COLOR_SCHEMES: dict[str, pb.ColorScheme.ValueType] = {
    "light": pb.COLOR_SCHEME_LIGHT,
    "dark": pb.COLOR_SCHEME_DARK,
}


def role_name(role: int) -> str:
    """'viewer', 'editor', 'owner', or '' for no role."""
    return ROLE_NAMES.get(role, "")


def page_request(page_size: int, page_token: str) -> common_pb2.PageRequest:
    """A PageRequest message."""
    return common_pb2.PageRequest(page_size=page_size, page_token=page_token)


class MetadataClient(ServiceClient):
    """MetadataService RPCs as typed methods."""

    @property
    def stub(self) -> metadata_pb2_grpc.MetadataServiceStub:
        return metadata_pb2_grpc.MetadataServiceStub(self.channel)

    # access

    async def check_access(
        self,
        action: ActionName,
        *,
        project_id: str = "",
        data_collection_id: str = "",
    ) -> pb.CheckAccessResponse:
        """Whether the caller may `action` the project or data collection (exactly one given)."""
        if bool(project_id) == bool(data_collection_id):
            raise ValueError("give exactly one of project_id and data_collection_id")
        request = pb.CheckAccessRequest(action=ACTIONS[action])
        if project_id:
            request.project_id = project_id
        else:
            request.data_collection_id = data_collection_id
        return await self.call(self.stub.CheckAccess, request)

    async def record_table_schema(
        self, data_collection_id: str, columns: Iterable[tuple[str, str]], version: int
    ) -> pb.RecordTableSchemaResponse:
        """Records the (name, type) columns of a data collection's table at `version`."""
        request = pb.RecordTableSchemaRequest(
            data_collection_id=data_collection_id,
            columns=[pb.ColumnSchema(name=name, type=kind) for name, kind in columns],
            version=version,
        )
        return await self.call(self.stub.RecordTableSchema, request)

    # projects

    async def create_project(
        self, config_text: str, config_format: ConfigFormatName = "yaml"
    ) -> pb.Project:
        request = pb.CreateProjectRequest(
            config=config_text, config_format=CONFIG_FORMATS[config_format]
        )
        return (await self.call(self.stub.CreateProject, request)).project

    async def sync_project(
        self, config_text: str, config_format: ConfigFormatName = "yaml"
    ) -> pb.SyncProjectResponse:
        request = pb.SyncProjectRequest(
            config=config_text, config_format=CONFIG_FORMATS[config_format]
        )
        return await self.call(self.stub.SyncProject, request)

    async def get_project(self, project_id: str) -> pb.Project:
        request = pb.GetProjectRequest(project_id=project_id)
        return (await self.call(self.stub.GetProject, request)).project

    async def list_projects(
        self, page_size: int = 0, page_token: str = ""
    ) -> pb.ListProjectsResponse:
        request = pb.ListProjectsRequest(page=page_request(page_size, page_token))
        return await self.call(self.stub.ListProjects, request)

    async def update_project(
        self, project_id: str, name: str | None = None, is_public: bool | None = None
    ) -> pb.Project:
        request = pb.UpdateProjectRequest(project_id=project_id)
        if name is not None:
            request.name = name
        if is_public is not None:
            request.is_public = is_public
        return (await self.call(self.stub.UpdateProject, request)).project

    async def delete_project(self, project_id: str) -> None:
        await self.call(self.stub.DeleteProject, pb.DeleteProjectRequest(project_id=project_id))

    # members

    async def list_members(self, project_id: str) -> list[pb.Member]:
        request = pb.ListMembersRequest(project_id=project_id)
        return list((await self.call(self.stub.ListMembers, request)).members)

    async def set_member(
        self, project_id: str, user_id: str, role: RoleName, email: str = ""
    ) -> pb.Member:
        request = pb.SetMemberRequest(
            project_id=project_id, user_id=user_id, role=ROLES[role], email=email
        )
        return (await self.call(self.stub.SetMember, request)).member

    async def remove_member(self, project_id: str, user_id: str) -> None:
        request = pb.RemoveMemberRequest(project_id=project_id, user_id=user_id)
        await self.call(self.stub.RemoveMember, request)

    # runs and files

    async def register_run(
        self, run: pb.Run, files: Iterable[pb.File], replace_files: bool = False
    ) -> pb.RegisterRunResponse:
        request = pb.RegisterRunRequest(run=run, files=list(files), replace_files=replace_files)
        return await self.call(self.stub.RegisterRun, request)

    async def list_runs(
        self, project_id: str, page_size: int = 0, page_token: str = ""
    ) -> pb.ListRunsResponse:
        request = pb.ListRunsRequest(
            project_id=project_id, page=page_request(page_size, page_token)
        )
        return await self.call(self.stub.ListRuns, request)

    async def list_files(
        self,
        project_id: str,
        page_size: int = 0,
        page_token: str = "",
        data_collection_id: str = "",
        run_id: str = "",
    ) -> pb.ListFilesResponse:
        request = pb.ListFilesRequest(
            project_id=project_id,
            page=page_request(page_size, page_token),
            data_collection_id=data_collection_id,
            run_id=run_id,
        )
        return await self.call(self.stub.ListFiles, request)

    # dashboards

    async def create_dashboard(self, project_id: str, document_json: str) -> pb.Dashboard:
        request = pb.CreateDashboardRequest(project_id=project_id, document_json=document_json)
        return (await self.call(self.stub.CreateDashboard, request)).dashboard

    async def get_dashboard(self, dashboard_id: str) -> pb.Dashboard:
        request = pb.GetDashboardRequest(dashboard_id=dashboard_id)
        return (await self.call(self.stub.GetDashboard, request)).dashboard

    async def list_dashboards(
        self, project_id: str = "", page_size: int = 0, page_token: str = ""
    ) -> pb.ListDashboardsResponse:
        request = pb.ListDashboardsRequest(
            project_id=project_id, page=page_request(page_size, page_token)
        )
        return await self.call(self.stub.ListDashboards, request)

    async def update_dashboard(
        self, dashboard_id: str, document_json: str, expected_version: int = 0
    ) -> pb.Dashboard:
        request = pb.UpdateDashboardRequest(
            dashboard_id=dashboard_id,
            document_json=document_json,
            expected_version=expected_version,
        )
        return (await self.call(self.stub.UpdateDashboard, request)).dashboard

    async def delete_dashboard(self, dashboard_id: str) -> None:
        request = pb.DeleteDashboardRequest(dashboard_id=dashboard_id)
        await self.call(self.stub.DeleteDashboard, request)

    async def duplicate_dashboard(self, dashboard_id: str, title: str = "") -> pb.Dashboard:
        request = pb.DuplicateDashboardRequest(dashboard_id=dashboard_id, title=title)
        return (await self.call(self.stub.DuplicateDashboard, request)).dashboard

    async def list_dashboard_versions(self, dashboard_id: str) -> list[pb.DashboardVersion]:
        request = pb.ListDashboardVersionsRequest(dashboard_id=dashboard_id)
        return list((await self.call(self.stub.ListDashboardVersions, request)).versions)

    async def get_dashboard_version(self, dashboard_id: str, version: int) -> pb.Dashboard:
        request = pb.GetDashboardVersionRequest(dashboard_id=dashboard_id, version=version)
        return (await self.call(self.stub.GetDashboardVersion, request)).dashboard

    async def restore_dashboard_version(self, dashboard_id: str, version: int) -> pb.Dashboard:
        request = pb.RestoreDashboardVersionRequest(dashboard_id=dashboard_id, version=version)
        return (await self.call(self.stub.RestoreDashboardVersion, request)).dashboard

    async def export_dashboard_yaml(self, dashboard_id: str) -> str:
        request = pb.ExportDashboardYamlRequest(dashboard_id=dashboard_id)
        return str((await self.call(self.stub.ExportDashboardYaml, request)).yaml)

    async def import_dashboard_yaml(self, yaml_text: str, project_id: str = "") -> pb.Dashboard:
        request = pb.ImportDashboardYamlRequest(yaml=yaml_text, project_id=project_id)
        return (await self.call(self.stub.ImportDashboardYaml, request)).dashboard

    async def set_dashboard_thumbnail(
        self, dashboard_id: str, scheme: SchemeName, png: bytes, dashboard_version: int = 0
    ) -> pb.SetDashboardThumbnailResponse:
        """Stores the PNG picture of a dashboard (its `dashboard_version`, 0: the current)."""
        request = pb.SetDashboardThumbnailRequest(
            dashboard_id=dashboard_id,
            scheme=COLOR_SCHEMES[scheme],
            png=png,
            dashboard_version=dashboard_version,
        )
        return await self.call(self.stub.SetDashboardThumbnail, request)

    async def get_dashboard_thumbnail(
        self, dashboard_id: str, scheme: SchemeName
    ) -> pb.DashboardThumbnail:
        """The stored picture of a dashboard in `scheme` (NOT_FOUND when there is none)."""
        request = pb.GetDashboardThumbnailRequest(
            dashboard_id=dashboard_id, scheme=COLOR_SCHEMES[scheme]
        )
        return (await self.call(self.stub.GetDashboardThumbnail, request)).thumbnail
