"""The dashboards and dashboard_versions collections: every save is a numbered version."""

from __future__ import annotations

from datetime import datetime

import pymongo
from pymongo.database import Database

from depictio.errors import FailedPrecondition, NotFound
from depictio.mongo import MongoDatabase
from metadata_svc.project_documents import Doc, new_id
from metadata_svc.store import now


def version_id(dashboard_id: str, version: int) -> str:
    return f"{dashboard_id}:{version}"


class DashboardStore:
    """Async access to dashboards and their versions."""

    def __init__(self, db: MongoDatabase) -> None:
        self.db = db

    async def dashboard(self, dashboard_id: str) -> Doc | None:
        return await self.db.run(lambda d: d["dashboards"].find_one({"_id": dashboard_id}))

    async def create(
        self, project_id: str, title: str, is_public: bool, document_json: str, user_id: str
    ) -> Doc:
        """A new dashboard at version 1."""
        moment = now()
        dashboard = {
            "_id": new_id(),
            "project_id": project_id,
            "title": title,
            "is_public": is_public,
            "version": 1,
            "document_json": document_json,
            "created_at": moment,
            "created_by": user_id,
            "updated_at": moment,
        }

        def insert(database: Database) -> None:
            database["dashboard_versions"].insert_one(self._version(dashboard, user_id, moment))
            database["dashboards"].insert_one(dashboard)

        await self.db.run(insert)
        return dashboard

    @staticmethod
    def _version(dashboard: Doc, user_id: str, moment: datetime) -> Doc:
        return {
            "_id": version_id(dashboard["_id"], dashboard["version"]),
            "dashboard_id": dashboard["_id"],
            "project_id": dashboard["project_id"],
            "version": dashboard["version"],
            "title": dashboard["title"],
            "is_public": dashboard["is_public"],
            "document_json": dashboard["document_json"],
            "saved_at": moment,
            "saved_by": user_id,
        }

    async def save(
        self,
        dashboard_id: str,
        title: str,
        is_public: bool,
        document_json: str,
        user_id: str,
        expected_version: int = 0,
    ) -> Doc:
        """Stores a new version; the version number is claimed by a unique index first, so
        concurrent saves get consecutive numbers and none is lost."""

        def save(database: Database) -> Doc:
            for _ in range(20):
                current = database["dashboards"].find_one({"_id": dashboard_id})
                if current is None:
                    raise NotFound(f"dashboard_id: no dashboard '{dashboard_id}'")
                if expected_version and current["version"] != expected_version:
                    raise FailedPrecondition(
                        f"expected_version: the dashboard is at version {current['version']}, "
                        f"not {expected_version}: reload it and save again"
                    )
                moment = now()
                updated = {
                    **current,
                    "title": title,
                    "is_public": is_public,
                    "document_json": document_json,
                    "version": current["version"] + 1,
                    "updated_at": moment,
                }
                try:
                    database["dashboard_versions"].insert_one(
                        self._version(updated, user_id, moment)
                    )
                except pymongo.errors.DuplicateKeyError:
                    continue
                database["dashboards"].update_one(
                    {"_id": dashboard_id, "version": {"$lt": updated["version"]}},
                    {
                        "$set": {
                            k: updated[k]
                            for k in (
                                "title",
                                "is_public",
                                "document_json",
                                "version",
                                "updated_at",
                            )
                        }
                    },
                )
                return updated
            raise FailedPrecondition("dashboard_id: too many concurrent saves, try again")

        return await self.db.run(save)

    async def versions(self, dashboard_id: str) -> list[Doc]:
        return await self.db.run(
            lambda d: list(
                d["dashboard_versions"].find({"dashboard_id": dashboard_id}).sort([("version", -1)])
            )
        )

    async def version(self, dashboard_id: str, version: int) -> Doc | None:
        return await self.db.run(
            lambda d: d["dashboard_versions"].find_one({"_id": version_id(dashboard_id, version)})
        )

    async def delete(self, dashboard_id: str) -> None:
        def delete(database: Database) -> None:
            database["dashboards"].delete_one({"_id": dashboard_id})
            database["dashboard_versions"].delete_many({"dashboard_id": dashboard_id})
            database["dashboard_thumbnails"].delete_many({"dashboard_id": dashboard_id})

        await self.db.run(delete)

    async def page(self, query: Doc, offset: int, limit: int) -> tuple[list[Doc], int]:
        def page(database: Database) -> tuple[list[Doc], int]:
            cursor = database["dashboards"].find(query).sort([("created_at", 1), ("_id", 1)])
            return list(cursor.skip(offset).limit(limit)), database["dashboards"].count_documents(
                query
            )

        return await self.db.run(page)

    async def visible_query(self, user_id: str, is_admin: bool) -> Doc:
        """The query of every dashboard a caller may read."""
        if is_admin:
            return {}

        def build(database: Database) -> Doc:
            member_of = (
                [
                    doc["project_id"]
                    for doc in database["memberships"].find({"user_id": user_id}, {"project_id": 1})
                ]
                if user_id
                else []
            )
            public = [
                doc["_id"] for doc in database["projects"].find({"is_public": True}, {"_id": 1})
            ]
            return {
                "$or": [
                    {"project_id": {"$in": member_of}},
                    {"project_id": {"$in": public}, "is_public": True},
                ]
            }

        return await self.db.run(build)
