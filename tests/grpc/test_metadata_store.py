"""metadata_svc's repositories on the embedded engine and, with DEPICTIO_TEST_MONGO_URL set, on
a real MongoDB (each run in a database of its own, dropped afterwards)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from metadata_support import FIXTURE_ENV, fixture_text

from depictio.errors import AlreadyExists, FailedPrecondition
from depictio.mongo import MongoDatabase
from depictio.projects.parsing import parse_project_config
from metadata_svc.dashboard_store import DashboardStore
from metadata_svc.project_documents import StoredProject, build_documents, differs
from metadata_svc.store import ProjectStore, create_indexes

ENGINES = ["embedded"] + (["mongodb"] if os.environ.get("DEPICTIO_TEST_MONGO_URL") else [])


@pytest.fixture(params=ENGINES)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MongoDatabase]:
    name = f"test_metadata_{uuid.uuid4().hex[:10]}"
    if request.param == "embedded":
        db = MongoDatabase(str(tmp_path / "mongo"), name)
    else:
        db = MongoDatabase(os.environ["DEPICTIO_TEST_MONGO_URL"], name)
    db.run_sync(create_indexes)
    try:
        yield db
    finally:
        if not db.embedded:
            db.run_sync(lambda d: d.client.drop_database(name))
        db.close()


async def sync(store: ProjectStore, text: str, project_id: str) -> tuple[bool, StoredProject]:
    config = parse_project_config(text, environ=FIXTURE_ENV)
    stored = await store.stored_project(project_id)
    documents = build_documents(config, stored, project_id)
    changed = differs(documents, stored)
    if changed:
        await store.save_project(documents, stored, "creator")
    return changed, await store.stored_project(project_id)


def test_syncing_twice_changes_nothing_and_edits_keep_ids(database: MongoDatabase) -> None:
    store = ProjectStore(database)
    text = fixture_text("advanced_sequencing_runs.yaml")

    async def scenario() -> None:
        first_changed, first = await sync(store, text, "p1")
        second_changed, second = await sync(store, text, "p1")
        assert (first_changed, second_changed) == (True, False)
        assert second.project and second.project["updated_at"] == first.project["updated_at"]

        edited = text.replace("Body weight in grams", "Weight (g)").replace(
            'how: "inner"', 'how: "left"'
        )
        edited_changed, third = await sync(store, edited, "p1")
        assert edited_changed
        ids = [
            [doc["_id"] for doc in getattr(s, kind)]
            for s in (first, third)
            for kind in ("workflows", "data_collections", "joins")
        ]
        assert ids[:3] == ids[3:]
        assert third.joins[0]["how"] == "left"
        assert third.workflows[0]["locations"] == ["/srv/marmots/survey"]

    asyncio.run(scenario())


def test_removed_entities_are_deleted_and_observed_schemas_survive_a_sync(
    database: MongoDatabase,
) -> None:
    store = ProjectStore(database)
    text = fixture_text("linked_tables.yaml")

    async def scenario() -> None:
        _, first = await sync(store, text, "p2")
        samples = first.data_collections[0]["_id"]
        assert await store.record_table_schema(samples, [{"name": "a", "type": "int64"}], 4) == (
            4,
            True,
        )
        assert await store.record_table_schema(samples, [{"name": "b", "type": "int64"}], 1) == (
            4,
            False,
        )
        without_links = text.split("\nlinks:")[0] + "\n"
        _, second = await sync(store, without_links, "p2")
        assert second.links == [] and len(first.links) == 2
        kept = await store.data_collection(samples)
        assert kept and kept["observed_columns"] == [{"name": "a", "type": "int64"}]

    asyncio.run(scenario())


def test_project_names_are_unique(database: MongoDatabase) -> None:
    store = ProjectStore(database)
    text = fixture_text("basic_single_csv.yaml")

    async def scenario() -> None:
        await sync(store, text, "p3")
        with pytest.raises(AlreadyExists):
            await sync(store, text, "p4")

    asyncio.run(scenario())


def test_concurrent_dashboard_saves_get_consecutive_versions(database: MongoDatabase) -> None:
    dashboards = DashboardStore(database)

    async def scenario() -> None:
        created = await dashboards.create("p5", "Board", False, "{}", "u")
        saves = [dashboards.save(created["_id"], f"Board {n}", False, "{}", "u") for n in range(8)]
        results = await asyncio.gather(*saves)
        assert sorted(r["version"] for r in results) == list(range(2, 10))
        versions = [v["version"] for v in await dashboards.versions(created["_id"])]
        assert versions == list(range(9, 0, -1))
        with pytest.raises(FailedPrecondition):
            await dashboards.save(created["_id"], "Stale", False, "{}", "u", expected_version=3)

    asyncio.run(scenario())
