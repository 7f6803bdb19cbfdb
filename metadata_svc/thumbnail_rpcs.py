"""Dashboard thumbnails: one PNG per dashboard and colour scheme, in `dashboard_thumbnails`.

The worker draws them after a save and stores them with SetDashboardThumbnail; the UI shows
them in the dashboards list. Readers of a dashboard may read its thumbnails, its editors may
replace them; they go with the dashboard (and its project) when it is deleted.
"""

from __future__ import annotations

from typing import Any

import pymongo
from pymongo.database import Database

from depictio.errors import InvalidArgument, NotFound
from depictio.mongo import MongoDatabase
from depictio.rpc.context import current_identity, require_identity
from depictio.timestamps import to_timestamp
from depictio.v1 import metadata_pb2 as pb
from metadata_svc.access import READ, WRITE, Authorizer
from metadata_svc.dashboard_store import DashboardStore
from metadata_svc.project_documents import Doc
from metadata_svc.store import now

COLLECTION = "dashboard_thumbnails"
MAX_PNG_BYTES = 512 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SCHEME_NAMES: dict[int, str] = {pb.COLOR_SCHEME_LIGHT: "light", pb.COLOR_SCHEME_DARK: "dark"}


def thumbnail_id(dashboard_id: str, scheme: str) -> str:
    return f"{dashboard_id}:{scheme}"


def scheme_name(scheme: int) -> str:
    """'light' or 'dark'; INVALID_ARGUMENT for anything else."""
    if scheme not in SCHEME_NAMES:
        raise InvalidArgument("scheme: must be COLOR_SCHEME_LIGHT or COLOR_SCHEME_DARK")
    return SCHEME_NAMES[scheme]


def check_png(data: bytes) -> None:
    """Refuses anything but a PNG of at most MAX_PNG_BYTES (signature, then an IHDR chunk)."""
    if not data:
        raise InvalidArgument("png: required")
    if len(data) > MAX_PNG_BYTES:
        raise InvalidArgument(f"png: {len(data):,} bytes, at most {MAX_PNG_BYTES:,} allowed")
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise InvalidArgument("png: not a PNG image (no PNG signature and IHDR header)")
    width = int.from_bytes(data[16:20], "big") if len(data) >= 24 else 0
    height = int.from_bytes(data[20:24], "big") if len(data) >= 24 else 0
    if not width or not height:
        raise InvalidArgument("png: the image has no width or height")


class ThumbnailStore:
    """Async access to the thumbnails collection."""

    def __init__(self, db: MongoDatabase) -> None:
        self.db = db

    async def put(self, dashboard: Doc, scheme: str, png: bytes, version: int) -> int:
        """Stores a thumbnail unless one of a newer dashboard version is there; the version the
        stored thumbnail shows afterwards."""
        dashboard_id = str(dashboard["_id"])
        key = thumbnail_id(dashboard_id, scheme)

        def put(database: Database) -> int:
            moment = now()
            fields = {"png": png, "dashboard_version": version, "updated_at": moment}
            collection = database[COLLECTION]
            for _ in range(2):
                replaced = collection.update_one(
                    {"_id": key, "dashboard_version": {"$lte": version}}, {"$set": fields}
                )
                if replaced.matched_count == 0:
                    try:
                        collection.insert_one(
                            {
                                "_id": key,
                                "dashboard_id": dashboard_id,
                                "project_id": dashboard["project_id"],
                                "scheme": scheme,
                                **fields,
                            }
                        )
                    except pymongo.errors.DuplicateKeyError:
                        # One is stored: of a newer version, or written since the update.
                        continue
                database["dashboards"].update_one(
                    {"_id": dashboard_id}, {"$set": {"thumbnail_updated_at": moment}}
                )
                return version
            stored = collection.find_one({"_id": key}, {"dashboard_version": 1})
            return int(stored["dashboard_version"]) if stored else version

        return await self.db.run(put)

    async def get(self, dashboard_id: str, scheme: str) -> Doc | None:
        key = thumbnail_id(dashboard_id, scheme)
        return await self.db.run(lambda d: d[COLLECTION].find_one({"_id": key}))


class ThumbnailRpcs:
    """The thumbnail half of MetadataService's dashboard RPCs."""

    dashboards: DashboardStore
    thumbnails: ThumbnailStore
    authorizer: Authorizer

    async def SetDashboardThumbnail(
        self, request: pb.SetDashboardThumbnailRequest, context: Any
    ) -> pb.SetDashboardThumbnailResponse:
        dashboard = await self.dashboards.dashboard(request.dashboard_id)
        await self.authorizer.require_dashboard(
            require_identity(), dashboard, request.dashboard_id, WRITE
        )
        assert dashboard is not None
        scheme = scheme_name(request.scheme)
        check_png(request.png)
        current = int(dashboard["version"])
        version = request.dashboard_version or current
        if not 0 < version <= current:
            raise InvalidArgument(
                f"dashboard_version: {version} is not a version of the dashboard (1 to {current})"
            )
        kept = await self.thumbnails.put(dashboard, scheme, request.png, version)
        return pb.SetDashboardThumbnailResponse(stored=kept == version, dashboard_version=kept)

    async def GetDashboardThumbnail(
        self, request: pb.GetDashboardThumbnailRequest, context: Any
    ) -> pb.GetDashboardThumbnailResponse:
        dashboard = await self.dashboards.dashboard(request.dashboard_id)
        await self.authorizer.require_dashboard(
            current_identity(), dashboard, request.dashboard_id, READ
        )
        scheme = scheme_name(request.scheme)
        stored = await self.thumbnails.get(request.dashboard_id, scheme)
        if stored is None:
            raise NotFound(
                f"dashboard_id: dashboard '{request.dashboard_id}' has no {scheme} thumbnail yet"
            )
        return pb.GetDashboardThumbnailResponse(
            thumbnail=pb.DashboardThumbnail(
                dashboard_id=request.dashboard_id,
                scheme=request.scheme,
                png=bytes(stored["png"]),
                dashboard_version=int(stored["dashboard_version"]),
                updated_at=to_timestamp(stored["updated_at"]),
            )
        )
