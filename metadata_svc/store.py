"""metadata_svc's project collections, their indexes, and the queries on them.

Only find/insert/update/delete, unique indexes and simple queries: the same code runs on the
embedded engine and on a real MongoDB.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pymongo
from pymongo.database import Database

from depictio.errors import AlreadyExists
from depictio.mongo import MongoDatabase
from metadata_svc.project_documents import Doc, ProjectDocuments, StoredProject

ENTITY_COLLECTIONS = ("workflows", "data_collections", "joins", "links")


def now() -> datetime:
    """The current time, UTC, at millisecond precision (what MongoDB keeps)."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def create_indexes(database: Database) -> None:
    """The indexes metadata_svc's queries rely on, unique where identity demands it."""
    database["projects"].create_index("name", unique=True)
    database["projects"].create_index("is_public")
    database["workflows"].create_index([("project_id", 1), ("name", 1)], unique=True)
    database["data_collections"].create_index(
        [("project_id", 1), ("workflow_id", 1), ("tag", 1)], unique=True
    )
    database["joins"].create_index([("project_id", 1), ("name", 1)], unique=True)
    database["links"].create_index("project_id")
    database["memberships"].create_index([("project_id", 1), ("user_id", 1)], unique=True)
    database["memberships"].create_index("user_id")
    database["runs"].create_index(
        [("project_id", 1), ("workflow_id", 1), ("run_tag", 1)], unique=True
    )
    database["files"].create_index(
        [("run_id", 1), ("data_collection_id", 1), ("path", 1)], unique=True
    )
    database["files"].create_index("project_id")
    database["dashboards"].create_index("project_id")
    database["dashboard_versions"].create_index([("dashboard_id", 1), ("version", 1)], unique=True)
    database["dashboard_thumbnails"].create_index("dashboard_id")
    database["dashboard_thumbnails"].create_index("project_id")


def ordered(cursor: Any) -> list[Doc]:
    """The documents of a cursor in config order."""
    return list(cursor.sort([("position", 1), ("_id", 1)]))


class ProjectStore:
    """Async access to projects, their entities, memberships, runs and files."""

    def __init__(self, db: MongoDatabase) -> None:
        self.db = db

    # projects

    async def project(self, project_id: str) -> Doc | None:
        return await self.db.run(lambda d: d["projects"].find_one({"_id": project_id}))

    async def project_by_name(self, name: str) -> Doc | None:
        return await self.db.run(lambda d: d["projects"].find_one({"name": name}))

    async def stored_project(self, project_id: str) -> StoredProject:
        """A project with its workflows, data collections, joins and links."""

        def load(database: Database) -> StoredProject:
            query = {"project_id": project_id}
            return StoredProject(
                project=database["projects"].find_one({"_id": project_id}),
                workflows=ordered(database["workflows"].find(query)),
                data_collections=ordered(database["data_collections"].find(query)),
                joins=ordered(database["joins"].find(query)),
                links=ordered(database["links"].find(query)),
            )

        return await self.db.run(load)

    async def ids_taken_elsewhere(
        self, collection: str, ids: list[str], project_id: str
    ) -> set[str]:
        """Which of `ids` belong to an entity of another project."""
        if not ids:
            return set()

        def find(database: Database) -> set[str]:
            query = {"_id": {"$in": ids}, "project_id": {"$ne": project_id}}
            if collection == "projects":
                query = {"_id": {"$in": ids}}
            return {str(doc["_id"]) for doc in database[collection].find(query, {"_id": 1})}

        return await self.db.run(find)

    async def save_project(
        self, documents: ProjectDocuments, stored: StoredProject, creator: str
    ) -> None:
        """Stores a project's documents: removed entities go first, then upserts."""
        moment = now()
        project_id = documents.project["_id"]

        def save(database: Database) -> None:
            groups = {
                "workflows": documents.workflows,
                "data_collections": documents.data_collections,
                "joins": documents.joins,
                "links": documents.links,
            }
            kept_dcs = [doc["_id"] for doc in documents.data_collections]
            gone_dcs = [doc["_id"] for doc in stored.data_collections if doc["_id"] not in kept_dcs]
            if gone_dcs:
                database["files"].delete_many({"data_collection_id": {"$in": gone_dcs}})
            kept_workflows = [doc["_id"] for doc in documents.workflows]
            database["runs"].delete_many(
                {"project_id": project_id, "workflow_id": {"$nin": [*kept_workflows, ""]}}
            )
            for name, docs in groups.items():
                database[name].delete_many(
                    {"project_id": project_id, "_id": {"$nin": [doc["_id"] for doc in docs]}}
                )
            try:
                database["projects"].update_one(
                    {"_id": project_id},
                    {
                        "$set": {**documents.project, "updated_at": moment},
                        "$setOnInsert": {"created_at": moment, "created_by": creator},
                    },
                    upsert=True,
                )
                for name, docs in groups.items():
                    for doc in docs:
                        on_insert: Doc = {"created_at": moment}
                        if name == "data_collections":
                            on_insert.update(observed_columns=[], observed_version=0)
                        database[name].update_one(
                            {"_id": doc["_id"]},
                            {"$set": {**doc, "updated_at": moment}, "$setOnInsert": on_insert},
                            upsert=True,
                        )
            except pymongo.errors.DuplicateKeyError as exc:
                raise AlreadyExists(
                    f"name: a project named '{documents.project['name']}' exists"
                ) from exc

        await self.db.run(save)

    async def set_project_fields(self, project_id: str, fields: Doc) -> Doc | None:
        def update(database: Database) -> Doc | None:
            try:
                return database["projects"].find_one_and_update(
                    {"_id": project_id},
                    {"$set": {**fields, "updated_at": now()}},
                    return_document=pymongo.ReturnDocument.AFTER,
                )
            except pymongo.errors.DuplicateKeyError as exc:
                raise AlreadyExists(f"name: a project named '{fields.get('name')}' exists") from exc

        return await self.db.run(update)

    async def delete_project(self, project_id: str) -> None:
        def delete(database: Database) -> None:
            dashboards = [
                doc["_id"]
                for doc in database["dashboards"].find({"project_id": project_id}, {"_id": 1})
            ]
            database["dashboard_versions"].delete_many({"dashboard_id": {"$in": dashboards}})
            for name in (
                *ENTITY_COLLECTIONS,
                "memberships",
                "runs",
                "files",
                "dashboards",
                "dashboard_thumbnails",
            ):
                database[name].delete_many({"project_id": project_id})
            database["projects"].delete_one({"_id": project_id})
            # Its id is never given again: its tables' storage is named by it.
            database["deleted_projects"].update_one(
                {"_id": project_id}, {"$set": {"deleted_at": now()}}, upsert=True
            )

        await self.db.run(delete)

    async def project_deleted(self, project_id: str) -> bool:
        """True when a project of this id existed and was deleted."""
        found = await self.db.run(lambda d: d["deleted_projects"].find_one({"_id": project_id}))
        return found is not None

    async def readable_projects(
        self, user_id: str, is_admin: bool, offset: int, limit: int
    ) -> tuple[list[Doc], int]:
        """Projects the caller may read (all for admins), oldest first, one page."""

        def page(database: Database) -> tuple[list[Doc], int]:
            query: Doc = {}
            if not is_admin:
                member_of = (
                    [
                        doc["project_id"]
                        for doc in database["memberships"].find(
                            {"user_id": user_id}, {"project_id": 1}
                        )
                    ]
                    if user_id
                    else []
                )
                query = {"$or": [{"is_public": True}, {"_id": {"$in": member_of}}]}
            projects = database["projects"]
            items = list(
                projects.find(query).sort([("created_at", 1), ("_id", 1)]).skip(offset).limit(limit)
            )
            return items, projects.count_documents(query)

        return await self.db.run(page)

    # data collections

    async def data_collection(self, dc_id: str) -> Doc | None:
        return await self.db.run(lambda d: d["data_collections"].find_one({"_id": dc_id}))

    async def record_table_schema(
        self, dc_id: str, columns: list[Doc], version: int
    ) -> tuple[int, bool]:
        """Stores the observed schema unless a newer version is recorded; (version, stored)."""

        def record(database: Database) -> tuple[int, bool]:
            updated = database["data_collections"].find_one_and_update(
                {"_id": dc_id, "observed_version": {"$lte": version}},
                {
                    "$set": {
                        "observed_columns": columns,
                        "observed_version": version,
                        "updated_at": now(),
                    }
                },
                return_document=pymongo.ReturnDocument.AFTER,
            )
            if updated is not None:
                return version, True
            current = database["data_collections"].find_one({"_id": dc_id}) or {}
            return int(current.get("observed_version", 0)), False

        return await self.db.run(record)

    # memberships

    async def membership(self, project_id: str, user_id: str) -> Doc | None:
        if not user_id:
            return None
        return await self.db.run(
            lambda d: d["memberships"].find_one({"project_id": project_id, "user_id": user_id})
        )

    async def memberships(self, project_id: str) -> list[Doc]:
        return await self.db.run(
            lambda d: list(
                d["memberships"]
                .find({"project_id": project_id})
                .sort([("role", -1), ("email", 1), ("user_id", 1)])
            )
        )

    async def memberships_of(self, user_id: str, project_ids: list[str]) -> dict[str, int]:
        """The caller's role in each of `project_ids` where they are a member."""
        if not user_id:
            return {}
        docs = await self.db.run(
            lambda d: list(
                d["memberships"].find({"user_id": user_id, "project_id": {"$in": project_ids}})
            )
        )
        return {doc["project_id"]: int(doc["role"]) for doc in docs}

    async def put_membership(self, project_id: str, user_id: str, email: str, role: int) -> Doc:
        def put(database: Database) -> Doc:
            fields: Doc = {"role": role, "updated_at": now()}
            if email:
                fields["email"] = email
            result = database["memberships"].find_one_and_update(
                {"project_id": project_id, "user_id": user_id},
                {
                    "$set": fields,
                    "$setOnInsert": {
                        "_id": f"{project_id}:{user_id}",
                        "created_at": now(),
                        **({} if email else {"email": ""}),
                    },
                },
                upsert=True,
                return_document=pymongo.ReturnDocument.AFTER,
            )
            assert result is not None
            return result

        return await self.db.run(put)

    async def delete_membership(self, project_id: str, user_id: str) -> int:
        return await self.db.run(
            lambda d: (
                d["memberships"]
                .delete_one({"project_id": project_id, "user_id": user_id})
                .deleted_count
            )
        )

    async def count_role(self, project_id: str, role: int) -> int:
        return await self.db.run(
            lambda d: d["memberships"].count_documents({"project_id": project_id, "role": role})
        )
