"""/api/v1/dashboards: versions, restore, duplicate, delete, YAML round trip, live validation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from metadata_support import metadata, run

from .gateway_client import Account, MakeStack, bearer, client_for, sign_up
from .metadata_api import DASHBOARDS, YAML, card_document, create_dashboard, create_project

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def env(make_stack: MakeStack) -> Iterator[tuple[Any, httpx.Client, Account, dict[str, Any]]]:
    with make_stack() as stack, client_for(stack) as client:
        owner = sign_up(client, "owner")
        project = create_project(client, owner.access_token, "basic_single_csv.yaml")
        yield stack, client, owner, project


def test_saves_are_versions_that_can_be_read_and_restored(env: Any) -> None:
    _, client, owner, project = env
    headers = bearer(owner.access_token)
    dashboard = create_dashboard(client, owner.access_token, project["id"], title="First")
    assert dashboard["version"] == 1
    url = f"{DASHBOARDS}/{dashboard['id']}"
    saved = client.put(url, json={"document": card_document("Second")}, headers=headers)
    assert saved.status_code == 200 and saved.json()["version"] == 2
    stale = client.put(
        url, json={"document": card_document("Third"), "expected_version": 1}, headers=headers
    )
    assert stale.status_code == 409

    versions = client.get(f"{url}/versions", headers=headers).json()["items"]
    assert [(v["version"], v["title"]) for v in versions] == [(2, "Second"), (1, "First")]
    assert client.get(f"{url}/versions/1", headers=headers).json()["document"]["title"] == "First"
    # A version number no int64 holds is invalid input, not a server error.
    huge = client.get(f"{url}/versions/{2**63}", headers=headers)
    assert huge.status_code == 422 and "version" in huge.text, huge.text
    huge_expected = client.put(
        url, json={"document": card_document("Third"), "expected_version": 2**63}, headers=headers
    )
    assert huge_expected.status_code == 422, huge_expected.text
    assert "expected_version" in huge_expected.text
    restored = client.post(f"{url}/versions/1/restore", headers=headers).json()
    assert (restored["version"], restored["title"]) == (3, "First")
    assert client.get(url, headers=headers).json()["document"] == restored["document"]


def test_outsiders_read_only_the_versions_saved_public(env: Any) -> None:
    _, client, owner, _ = env
    project = create_project(client, owner.access_token, "basic_single_csv.yaml", is_public=True)
    draft = create_dashboard(
        client, owner.access_token, project["id"], title="Draft: secret plans", is_public=False
    )
    url = f"{DASHBOARDS}/{draft['id']}"
    published = client.put(
        url, json={"document": card_document("Harvest")}, headers=bearer(owner.access_token)
    )
    assert published.status_code == 200 and published.json()["version"] == 2
    outsider = bearer(sign_up(client, "outsider").access_token)
    assert client.get(url, headers=outsider).status_code == 200
    listed = client.get(f"{url}/versions", headers=outsider).json()["items"]
    assert [(v["version"], v["title"]) for v in listed] == [(2, "Harvest")]
    hidden = client.get(f"{url}/versions/1", headers=outsider)
    assert hidden.status_code == 404 and "secret" not in hidden.text
    assert client.get(f"{url}/versions/2", headers=outsider).status_code == 200
    anonymous = client.get(f"{url}/versions/1")
    assert anonymous.status_code in (401, 404) and "secret" not in anonymous.text
    # Members read every version.
    mine = client.get(f"{url}/versions", headers=bearer(owner.access_token)).json()["items"]
    assert [v["version"] for v in mine] == [2, 1]
    assert client.get(f"{url}/versions/1", headers=bearer(owner.access_token)).status_code == 200


def test_duplicate_and_delete_with_versions(env: Any) -> None:
    _, client, owner, project = env
    headers = bearer(owner.access_token)
    dashboard = create_dashboard(client, owner.access_token, project["id"], title="Original")
    copy = client.post(f"{DASHBOARDS}/{dashboard['id']}/duplicate", json={}, headers=headers)
    assert copy.status_code == 201
    assert copy.json()["title"] == "Original (copy)" and copy.json()["id"] != dashboard["id"]
    assert copy.json()["document"]["tabs"] == dashboard["document"]["tabs"]
    # The body is optional.
    bare = client.post(f"{DASHBOARDS}/{dashboard['id']}/duplicate", headers=headers)
    assert bare.status_code == 201, bare.text
    assert bare.json()["title"] == "Original (copy)"
    listed = client.get(DASHBOARDS, params={"project_id": project["id"]}, headers=headers).json()
    assert {dashboard["id"], copy.json()["id"], bare.json()["id"]} <= {
        d["id"] for d in listed["items"]
    }

    assert client.delete(f"{DASHBOARDS}/{dashboard['id']}", headers=headers).status_code == 204
    assert client.get(f"{DASHBOARDS}/{dashboard['id']}", headers=headers).status_code == 404
    versions = client.get(f"{DASHBOARDS}/{dashboard['id']}/versions", headers=headers)
    assert versions.status_code == 404


def test_yaml_export_import_export_is_identical(env: Any) -> None:
    _, client, owner, project = env
    headers = bearer(owner.access_token)
    dashboard = create_dashboard(client, owner.access_token, project["id"], title="Round trip")
    first = client.get(f"{DASHBOARDS}/{dashboard['id']}/yaml", headers=headers)
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/plain")
    imported = client.post(f"{DASHBOARDS}/import", content=first.text, headers={**headers, **YAML})
    assert imported.status_code == 201, imported.text
    assert imported.json()["id"] != dashboard["id"]
    second = client.get(f"{DASHBOARDS}/{imported.json()['id']}/yaml", headers=headers)
    assert second.text == first.text


def test_an_import_nested_too_deeply_is_refused(env: Any) -> None:
    _, client, owner, project = env
    deep = "x: " + "[" * 2000 + "]" * 2000
    response = client.post(
        f"{DASHBOARDS}/import",
        params={"project_id": project["id"]},
        content=deep,
        headers={**bearer(owner.access_token), **YAML},
    )
    assert response.status_code == 400, response.text
    assert "nested too deeply" in response.json()["detail"]


@pytest.mark.parametrize(
    ("edit", "detail"),
    [
        (
            lambda d: d["tabs"][0]["components"][0]["data"].update(data_collection="seedlings"),
            "tabs[0].components[0].data.data_collection: unknown data collection 'seedlings'",
        ),
        (
            lambda d: d["tabs"][0]["components"][0].update(column="leaf_area"),
            "tabs[0].components[0].column: unknown column 'leaf_area' in data collection 'plants'",
        ),
    ],
)
def test_an_import_naming_unknown_data_is_refused_with_name_and_path(
    env: Any, edit: Any, detail: str
) -> None:
    _, client, owner, project = env
    data = {"depictio_dashboard": 1, "project_id": project["id"], **card_document("Bad")}
    edit(data)
    response = client.post(
        f"{DASHBOARDS}/import",
        content=yaml.safe_dump(data),
        headers={**bearer(owner.access_token), **YAML},
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)


def test_the_observed_schema_replaces_the_declared_columns(env: Any) -> None:
    stack, client, owner, project = env
    dc_id = project["data_collections"][0]["id"]
    columns = [("plant.id", "string"), ("cultivar", "string"), ("brix", "double")]

    async def record() -> None:
        await metadata(stack, owner.access_token).record_table_schema(dc_id, columns, 1)

    run(record)
    headers = bearer(owner.access_token)
    observed = client.post(
        DASHBOARDS,
        json={"project_id": project["id"], "document": card_document(column="brix")},
        headers=headers,
    )
    assert observed.status_code == 201, observed.text
    declared_only = client.post(
        DASHBOARDS,
        json={"project_id": project["id"], "document": card_document(column="fruit_count")},
        headers=headers,
    )
    assert declared_only.status_code == 400
    assert "observed columns: plant.id, cultivar, brix" in declared_only.json()["detail"]


def test_options_that_do_not_suit_a_column_type_are_refused(env: Any) -> None:
    stack, client, owner, project = env
    dc_id = project["data_collections"][0]["id"]
    columns = [("plant.id", "string"), ("cultivar", "string"), ("brix", "double")]

    async def record() -> None:
        await metadata(stack, owner.access_token).record_table_schema(dc_id, columns, 2)

    run(record)
    headers = bearer(owner.access_token)
    document = card_document("Typed", column="cultivar")
    document["tabs"][0]["components"][0]["aggregation"] = "mean"
    refused = client.post(
        DASHBOARDS, json={"project_id": project["id"], "document": document}, headers=headers
    )
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith(
        "tabs[0].components[0].aggregation: 'mean' of column 'cultivar' (string) is not allowed"
    )
    document["tabs"][0]["components"][0]["column"] = "brix"
    accepted = client.post(
        DASHBOARDS, json={"project_id": project["id"], "document": document}, headers=headers
    )
    assert accepted.status_code == 201, accepted.text


def test_the_schema_is_served_without_sign_in(env: Any) -> None:
    _, client, _, _ = env
    schema = client.get(f"{DASHBOARDS}/schema")
    assert schema.status_code == 200
    assert {"FigureComponent", "TextComponent", "LayoutItem"} <= set(schema.json()["$defs"])
