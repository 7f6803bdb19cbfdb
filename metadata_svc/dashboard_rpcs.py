"""Dashboard RPCs of MetadataService: CRUD, versions, duplicate, YAML export and import."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from depictio.dashboards.models import DashboardDocument
from depictio.dashboards.validation import KnownDataCollection, check_live, parse_document
from depictio.dashboards.yaml_format import document_data, export_yaml, import_yaml
from depictio.errors import InvalidArgument, NotFound
from depictio.pagination import next_page_token, page_bounds
from depictio.rpc.context import current_identity, require_identity
from depictio.timestamps import to_timestamp
from depictio.v1 import common_pb2
from depictio.v1 import metadata_pb2 as pb
from metadata_svc.access import READ, WRITE, Authorizer, Decision, decide_dashboard
from metadata_svc.dashboard_store import DashboardStore
from metadata_svc.project_documents import Doc
from metadata_svc.store import ProjectStore

MAX_DOCUMENT_BYTES = 4 * 1024 * 1024


def dashboard_message(doc: Doc) -> pb.Dashboard:
    return pb.Dashboard(
        id=str(doc.get("dashboard_id") or doc["_id"]),
        project_id=doc["project_id"],
        title=doc["title"],
        is_public=bool(doc.get("is_public")),
        version=int(doc["version"]),
        updated_at=to_timestamp(doc.get("updated_at", doc.get("saved_at"))),
        document_json=doc["document_json"],
        created_at=to_timestamp(doc.get("created_at")),
        created_by=str(doc.get("created_by") or doc.get("saved_by") or ""),
        thumbnail_updated_at=to_timestamp(doc.get("thumbnail_updated_at")),
    )


def document_from_json(text: str) -> DashboardDocument:
    """Pass one on a request's JSON document."""
    if len(text.encode()) > MAX_DOCUMENT_BYTES:
        raise InvalidArgument(f"document_json: larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgument(f"document_json: not valid JSON: {exc}") from exc
    return parse_document(data)


def canonical_json(document: DashboardDocument) -> str:
    return json.dumps(document_data(document), separators=(",", ":"))


def known_data_collections(store_project: Any) -> list[KnownDataCollection]:
    """The project's data collections with the columns dashboards may use: the observed
    schema when data_svc recorded one, else the declared columns."""
    workflow_names = {w["_id"]: w["name"] for w in store_project.workflows}
    known = []
    for dc in store_project.data_collections:
        observed_columns = dc.get("observed_columns", [])
        observed = tuple(c["name"] for c in observed_columns)
        declared = tuple(dc.get("declared_columns", []))
        source = "observed" if observed else ("declared" if declared else "")
        known.append(
            KnownDataCollection(
                id=dc["_id"],
                workflow=workflow_names.get(dc.get("workflow_id", "")),
                tag=dc["tag"],
                columns=observed or declared,
                columns_source=source,
                column_types={c["name"]: c.get("type", "") for c in observed_columns},
            )
        )
    return known


class DashboardRpcs:
    """The dashboard half of MetadataService."""

    store: ProjectStore
    dashboards: DashboardStore
    authorizer: Authorizer

    async def _validated_live(self, project_id: str, document: DashboardDocument) -> str:
        check_live(document, known_data_collections(await self.store.stored_project(project_id)))
        return canonical_json(document)

    async def _create(self, project_id: str, document: DashboardDocument) -> Doc:
        """Creates a dashboard in a project the caller may write (checked here)."""
        identity = require_identity()
        await self.authorizer.require(identity, project_id, WRITE)
        text = await self._validated_live(project_id, document)
        return await self.dashboards.create(
            project_id, document.title, document.is_public, text, identity.user_id
        )

    async def _read(self, dashboard_id: str) -> tuple[Doc, Doc, Decision]:
        """The dashboard the caller may read, its project and the allowing decision."""
        dashboard = await self.dashboards.dashboard(dashboard_id)
        project, decision = await self.authorizer.require_dashboard(
            current_identity(), dashboard, dashboard_id, READ
        )
        assert dashboard is not None
        return dashboard, project, decision

    async def _readable(self, dashboard_id: str) -> Doc:
        return (await self._read(dashboard_id))[0]

    async def _writable(self, dashboard_id: str) -> Doc:
        dashboard = await self.dashboards.dashboard(dashboard_id)
        await self.authorizer.require_dashboard(require_identity(), dashboard, dashboard_id, WRITE)
        assert dashboard is not None
        return dashboard

    async def CreateDashboard(
        self, request: pb.CreateDashboardRequest, context: Any
    ) -> pb.CreateDashboardResponse:
        # Authorized before the document is read: a caller who may not write learns nothing.
        await self.authorizer.require(require_identity(), request.project_id, WRITE)
        created = await self._create(request.project_id, document_from_json(request.document_json))
        return pb.CreateDashboardResponse(dashboard=dashboard_message(created))

    async def GetDashboard(
        self, request: pb.GetDashboardRequest, context: Any
    ) -> pb.GetDashboardResponse:
        return pb.GetDashboardResponse(
            dashboard=dashboard_message(await self._readable(request.dashboard_id))
        )

    async def ListDashboards(
        self, request: pb.ListDashboardsRequest, context: Any
    ) -> pb.ListDashboardsResponse:
        identity = current_identity()
        offset, limit = page_bounds(request.page.page_size, request.page.page_token)
        query = await self.dashboards.visible_query(identity.user_id, identity.is_admin)
        if request.project_id:
            await self.authorizer.require(identity, request.project_id, READ)
            query = (
                {"$and": [query, {"project_id": request.project_id}]}
                if query
                else {"project_id": request.project_id}
            )
        items, total = await self.dashboards.page(query, offset, limit)
        return pb.ListDashboardsResponse(
            dashboards=[dashboard_message(d) for d in items],
            page=common_pb2.PageResponse(
                next_page_token=next_page_token(offset, limit, total), total_size=total
            ),
        )

    async def UpdateDashboard(
        self, request: pb.UpdateDashboardRequest, context: Any
    ) -> pb.UpdateDashboardResponse:
        dashboard = await self._writable(request.dashboard_id)
        document = document_from_json(request.document_json)
        text = await self._validated_live(dashboard["project_id"], document)
        saved = await self.dashboards.save(
            dashboard["_id"],
            document.title,
            document.is_public,
            text,
            require_identity().user_id,
            request.expected_version,
        )
        return pb.UpdateDashboardResponse(dashboard=dashboard_message(saved))

    async def DeleteDashboard(
        self, request: pb.DeleteDashboardRequest, context: Any
    ) -> pb.DeleteDashboardResponse:
        dashboard = await self._writable(request.dashboard_id)
        await self.dashboards.delete(dashboard["_id"])
        return pb.DeleteDashboardResponse()

    async def DuplicateDashboard(
        self, request: pb.DuplicateDashboardRequest, context: Any
    ) -> pb.DuplicateDashboardResponse:
        source = await self._readable(request.dashboard_id)
        document = DashboardDocument.model_validate_json(source["document_json"])
        title = request.title.strip() or f"{document.title} (copy)"
        copy = document.model_copy(update={"title": title[:200]})
        created = await self._create(source["project_id"], parse_document(copy.model_dump()))
        return pb.DuplicateDashboardResponse(dashboard=dashboard_message(created))

    async def _version_reader(self, dashboard_id: str) -> tuple[Doc, Callable[[Doc], bool]]:
        """The readable dashboard, and which of its versions the caller may read: a
        non-member of its public project reads only the versions saved public (an earlier
        private version is not published with the current one)."""
        identity = current_identity()
        dashboard, project, decision = await self._read(dashboard_id)

        def may_read(version: Doc) -> bool:
            return decide_dashboard(identity, project, decision.role, version, READ).allowed

        return dashboard, may_read

    async def ListDashboardVersions(
        self, request: pb.ListDashboardVersionsRequest, context: Any
    ) -> pb.ListDashboardVersionsResponse:
        dashboard, may_read = await self._version_reader(request.dashboard_id)
        versions = [v for v in await self.dashboards.versions(dashboard["_id"]) if may_read(v)]
        return pb.ListDashboardVersionsResponse(
            versions=[
                pb.DashboardVersion(
                    version=v["version"],
                    saved_at=to_timestamp(v.get("saved_at")),
                    saved_by=v.get("saved_by", ""),
                    title=v.get("title", ""),
                )
                for v in versions
            ]
        )

    async def _version(self, dashboard_id: str, version: int) -> Doc:
        stored = await self.dashboards.version(dashboard_id, version)
        if stored is None:
            raise NotFound(f"version: dashboard '{dashboard_id}' has no version {version}")
        return stored

    async def GetDashboardVersion(
        self, request: pb.GetDashboardVersionRequest, context: Any
    ) -> pb.GetDashboardVersionResponse:
        dashboard, may_read = await self._version_reader(request.dashboard_id)
        stored = await self._version(dashboard["_id"], request.version)
        if not may_read(stored):
            raise NotFound(
                f"version: dashboard '{dashboard['_id']}' has no version {request.version} "
                "that you may read (it was not public)"
            )
        return pb.GetDashboardVersionResponse(
            dashboard=dashboard_message({**stored, "created_at": dashboard.get("created_at")})
        )

    async def RestoreDashboardVersion(
        self, request: pb.RestoreDashboardVersionRequest, context: Any
    ) -> pb.RestoreDashboardVersionResponse:
        dashboard = await self._writable(request.dashboard_id)
        stored = await self._version(dashboard["_id"], request.version)
        saved = await self.dashboards.save(
            dashboard["_id"],
            stored["title"],
            bool(stored.get("is_public")),
            stored["document_json"],
            require_identity().user_id,
        )
        return pb.RestoreDashboardVersionResponse(dashboard=dashboard_message(saved))

    async def ExportDashboardYaml(
        self, request: pb.ExportDashboardYamlRequest, context: Any
    ) -> pb.ExportDashboardYamlResponse:
        dashboard = await self._readable(request.dashboard_id)
        document = DashboardDocument.model_validate_json(dashboard["document_json"])
        return pb.ExportDashboardYamlResponse(yaml=export_yaml(document, dashboard["project_id"]))

    async def ImportDashboardYaml(
        self, request: pb.ImportDashboardYamlRequest, context: Any
    ) -> pb.ImportDashboardYamlResponse:
        require_identity()
        document = import_yaml(request.yaml)
        project_id = request.project_id or document.project_id
        if not project_id:
            raise InvalidArgument("project_id: name the project in the request or in the YAML")
        created = await self._create(project_id, parse_document(document_data(document)))
        return pb.ImportDashboardYamlResponse(dashboard=dashboard_message(created))
