"""MetadataService: the project, run and dashboard RPCs over one database."""

from __future__ import annotations

from depictio.mongo import MongoDatabase
from depictio.v1 import metadata_pb2_grpc
from metadata_svc.access import Authorizer
from metadata_svc.dashboard_rpcs import DashboardRpcs
from metadata_svc.dashboard_store import DashboardStore
from metadata_svc.project_rpcs import ProjectRpcs
from metadata_svc.run_rpcs import RunRpcs, RunStore
from metadata_svc.store import ProjectStore
from metadata_svc.thumbnail_rpcs import ThumbnailRpcs, ThumbnailStore

SERVICE = "depictio.v1.MetadataService"


class MetadataServicer(
    ProjectRpcs,
    RunRpcs,
    DashboardRpcs,
    ThumbnailRpcs,
    metadata_pb2_grpc.MetadataServiceServicer,
):
    """Implements MetadataService; every RPC decides access through one Authorizer."""

    def __init__(self, db: MongoDatabase) -> None:
        self.store = ProjectStore(db)
        self.runs = RunStore(db)
        self.dashboards = DashboardStore(db)
        self.thumbnails = ThumbnailStore(db)
        self.authorizer = Authorizer(self.store)
