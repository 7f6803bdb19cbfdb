"""Runs and scanned files: RegisterRun, ListRuns, ListFiles, and their storage."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pymongo
from pymongo.database import Database

from depictio.errors import InvalidArgument
from depictio.mongo import MongoDatabase
from depictio.pagination import next_page_token, page_bounds
from depictio.rpc.context import current_identity, require_identity
from depictio.timestamps import to_timestamp
from depictio.v1 import common_pb2
from depictio.v1 import metadata_pb2 as pb
from metadata_svc.access import READ, WRITE, Authorizer
from metadata_svc.project_documents import Doc, new_id
from metadata_svc.store import ProjectStore, now

SHA256_HEX_LENGTH = 64


def run_message(doc: Doc) -> pb.Run:
    return pb.Run(
        id=doc["_id"],
        project_id=doc["project_id"],
        workflow_id=doc.get("workflow_id", ""),
        run_tag=doc["run_tag"],
        location=doc.get("location", ""),
        hash=doc.get("hash", ""),
        created_at=to_timestamp(doc.get("created_at")),
        updated_at=to_timestamp(doc.get("updated_at")),
    )


def file_message(doc: Doc) -> pb.File:
    return pb.File(
        id=doc["_id"],
        run_id=doc["run_id"],
        data_collection_id=doc["data_collection_id"],
        path=doc["path"],
        size=int(doc.get("size", 0)),
        mtime=to_timestamp(doc.get("mtime")),
        sha256=doc.get("sha256", ""),
        project_id=doc["project_id"],
    )


class RunStore:
    """Async access to the runs and files collections."""

    def __init__(self, db: MongoDatabase) -> None:
        self.db = db

    async def upsert_run(
        self, run: Doc, files: list[Doc], replace_files: bool = False
    ) -> tuple[Doc, list[Doc]]:
        """Stores a run (identified by project, workflow and tag) and its files; with
        `replace_files`, the run's other registered files are removed."""

        def save(database: Database) -> tuple[Doc, list[Doc]]:
            moment = now()
            key = {k: run[k] for k in ("project_id", "workflow_id", "run_tag")}
            stored = database["runs"].find_one_and_update(
                key,
                {
                    "$set": {
                        "location": run["location"],
                        "hash": run["hash"],
                        "updated_at": moment,
                    },
                    "$setOnInsert": {"_id": new_id(), "created_at": moment},
                },
                upsert=True,
                return_document=pymongo.ReturnDocument.AFTER,
            )
            assert stored is not None
            saved: list[Doc] = []
            for file in files:
                file_key = {
                    "run_id": stored["_id"],
                    "data_collection_id": file["data_collection_id"],
                    "path": file["path"],
                }
                fields = {k: file[k] for k in ("size", "mtime", "sha256")}
                saved_file = database["files"].find_one_and_update(
                    file_key,
                    {
                        "$set": {**fields, "project_id": run["project_id"], "updated_at": moment},
                        "$setOnInsert": {"_id": new_id(), "created_at": moment},
                    },
                    upsert=True,
                    return_document=pymongo.ReturnDocument.AFTER,
                )
                assert saved_file is not None
                saved.append(saved_file)
            if replace_files:
                kept = [file["_id"] for file in saved]
                database["files"].delete_many({"run_id": stored["_id"], "_id": {"$nin": kept}})
            return stored, saved

        return await self.db.run(save)

    async def page(
        self, collection: str, query: Doc, offset: int, limit: int
    ) -> tuple[list[Doc], int]:
        def page(database: Database) -> tuple[list[Doc], int]:
            cursor = database[collection].find(query).sort([("created_at", 1), ("_id", 1)])
            return list(cursor.skip(offset).limit(limit)), database[collection].count_documents(
                query
            )

        return await self.db.run(page)


class RunRpcs:
    """RegisterRun, ListRuns and ListFiles."""

    runs: RunStore
    store: ProjectStore
    authorizer: Authorizer

    async def RegisterRun(
        self, request: pb.RegisterRunRequest, context: Any
    ) -> pb.RegisterRunResponse:
        identity = require_identity()
        run = request.run
        await self.authorizer.require(identity, run.project_id, WRITE)
        if not run.run_tag.strip():
            raise InvalidArgument("run.run_tag: required")
        stored = await self.store.stored_project(run.project_id)
        workflow_ids = {w["_id"] for w in stored.workflows}
        if run.workflow_id and run.workflow_id not in workflow_ids:
            raise InvalidArgument(
                f"run.workflow_id: no workflow '{run.workflow_id}' in the project"
            )
        dc_ids = {
            dc["_id"]
            for dc in stored.data_collections
            if dc.get("workflow_id", "") == run.workflow_id
        }
        files = []
        for index, file in enumerate(request.files):
            if file.data_collection_id not in dc_ids:
                raise InvalidArgument(
                    f"files[{index}].data_collection_id: no data collection "
                    f"'{file.data_collection_id}' in the run's workflow"
                )
            if not file.path:
                raise InvalidArgument(f"files[{index}].path: required")
            if file.sha256 and len(file.sha256) != SHA256_HEX_LENGTH:
                raise InvalidArgument(f"files[{index}].sha256: must be 64 hex characters")
            mtime = file.mtime.ToDatetime(tzinfo=UTC) if file.HasField("mtime") else None
            files.append(
                {
                    "data_collection_id": file.data_collection_id,
                    "path": file.path,
                    "size": file.size,
                    "mtime": mtime,
                    "sha256": file.sha256,
                }
            )
        document = {
            "project_id": run.project_id,
            "workflow_id": run.workflow_id,
            "run_tag": run.run_tag.strip(),
            "location": run.location,
            "hash": run.hash,
        }
        saved_run, saved_files = await self.runs.upsert_run(
            document, files, replace_files=request.replace_files
        )
        return pb.RegisterRunResponse(
            run=run_message(saved_run), files=[file_message(f) for f in saved_files]
        )

    async def ListRuns(self, request: pb.ListRunsRequest, context: Any) -> pb.ListRunsResponse:
        await self.authorizer.require(current_identity(), request.project_id, READ)
        offset, limit = page_bounds(request.page.page_size, request.page.page_token)
        runs, total = await self.runs.page(
            "runs", {"project_id": request.project_id}, offset, limit
        )
        return pb.ListRunsResponse(
            runs=[run_message(r) for r in runs],
            page=common_pb2.PageResponse(
                next_page_token=next_page_token(offset, limit, total), total_size=total
            ),
        )

    async def ListFiles(self, request: pb.ListFilesRequest, context: Any) -> pb.ListFilesResponse:
        await self.authorizer.require(current_identity(), request.project_id, READ)
        offset, limit = page_bounds(request.page.page_size, request.page.page_token)
        query: Doc = {"project_id": request.project_id}
        if request.data_collection_id:
            query["data_collection_id"] = request.data_collection_id
        if request.run_id:
            query["run_id"] = request.run_id
        files, total = await self.runs.page("files", query, offset, limit)
        return pb.ListFilesResponse(
            files=[file_message(f) for f in files],
            page=common_pb2.PageResponse(
                next_page_token=next_page_token(offset, limit, total), total_size=total
            ),
        )
