"""/api/v1/projects: configs synced in place, precise errors, members by e-mail, runs, files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from metadata_support import metadata, run, unique_config

from depictio.v1 import metadata_pb2 as pb

from .gateway_client import Account, MakeStack, bearer, client_for, sign_up
from .metadata_api import PROJECTS, YAML, add_member, create_project

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def env(make_stack: MakeStack) -> Iterator[tuple[Any, httpx.Client]]:
    with make_stack() as stack, client_for(stack) as client:
        yield stack, client


@pytest.fixture
def owner(env: tuple[Any, httpx.Client]) -> Account:
    return sign_up(env[1], "owner")


def ids_of(project: dict[str, Any]) -> list[str]:
    dcs = [dc["id"] for w in project["workflows"] for dc in w["data_collections"]]
    return [project["id"], *[w["id"] for w in project["workflows"]], *dcs]


def test_a_config_cannot_read_the_servers_environment_through_its_locations(
    env: tuple[Any, httpx.Client], owner: Account
) -> None:
    stack, client = env
    data = yaml.safe_load(unique_config("advanced_sequencing_runs.yaml"))
    data["workflows"][0]["data_location"]["locations"] = [
        "/x/{DEPICTIO_ADMIN_PASSWORD}",
        "/y/{HOME}",
    ]
    response = client.post(
        PROJECTS,
        content=yaml.safe_dump(data),
        headers={**bearer(owner.access_token), **YAML},
    )
    assert response.status_code == 400, response.text
    assert stack.admin_password not in response.text
    # Set or not in the server's environment, each placeholder is refused alike: names cannot
    # be probed either.
    detail = response.json()["detail"]
    assert detail.startswith(
        "workflows[0].data_location.locations[0]: environment variable "
        "'DEPICTIO_ADMIN_PASSWORD' is not set (placeholders are expanded by the depictio CLI"
    )
    assert (
        "workflows[0].data_location.locations[1]: environment variable 'HOME' is not set" in detail
    )
    listed = client.get(PROJECTS, params={"page_size": 500}, headers=bearer(owner.access_token))
    assert data["name"] not in [p["name"] for p in listed.json()["items"]]


def test_syncing_a_config_twice_changes_nothing_and_edits_keep_ids(
    env: tuple[Any, httpx.Client], owner: Account
) -> None:
    _, client = env
    text = unique_config("advanced_sequencing_runs.yaml")
    headers = {**bearer(owner.access_token), **YAML}
    created = client.post(PROJECTS, content=text, headers=headers)
    assert created.status_code == 201, created.text
    assert (created.json()["created"], created.json()["your_role"]) == (True, "owner")
    assert created.json()["workflows"][0]["data_location"]["locations"] == ["/srv/marmots/survey"]

    again = client.post(PROJECTS, content=text, headers=headers)
    assert again.status_code == 200 and again.json()["changed"] is False
    assert again.json()["updated_at"] == created.json()["updated_at"]

    edited = text.replace("Body weight in grams", "Weight in g")
    synced = client.post(PROJECTS, content=edited, headers=headers)
    assert synced.status_code == 200 and synced.json()["changed"] is True
    assert ids_of(synced.json()) == ids_of(created.json())
    body = synced.json()["workflows"][0]["data_collections"][0]
    assert body["columns_description"]["weight_g"] == "Weight in g"


def test_a_json_config_is_accepted(env: tuple[Any, httpx.Client], owner: Account) -> None:
    _, client = env
    data = yaml.safe_load(unique_config("linked_tables.yaml"))
    response = client.post(
        PROJECTS,
        content=json.dumps(data),
        headers={**bearer(owner.access_token), "content-type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["id"] == data["id"]
    assert [link["resolver"] for link in response.json()["links"]] == ["direct", "pattern"]


def test_an_invalid_config_is_refused_by_path_and_creates_nothing(
    env: tuple[Any, httpx.Client], owner: Account
) -> None:
    _, client = env
    text = unique_config("advanced_sequencing_runs.yaml").replace(
        "pattern: sightings.csv", "pattern: '*.stats.tsv'"
    )
    response = client.post(PROJECTS, content=text, headers={**bearer(owner.access_token), **YAML})
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "workflows[0].data_collections[1].config.scan.scan_parameters.regex_config.pattern: "
        "not a valid regular expression: nothing to repeat at position 0"
    )
    listed = client.get(PROJECTS, params={"page_size": 500}, headers=bearer(owner.access_token))
    assert yaml.safe_load(text)["name"] not in [p["name"] for p in listed.json()["items"]]


def test_a_config_naming_another_users_project_is_refused(
    env: tuple[Any, httpx.Client], owner: Account
) -> None:
    _, client = env
    project = create_project(client, owner.access_token, "basic_single_csv.yaml")
    other = sign_up(client, "other")
    text = unique_config("basic_single_csv.yaml", name=project["name"])
    response = client.post(PROJECTS, content=text, headers={**bearer(other.access_token), **YAML})
    assert response.status_code == 403, response.text


def test_non_owners_learn_neither_private_names_nor_which_emails_have_accounts(
    env: tuple[Any, httpx.Client], owner: Account
) -> None:
    _, client = env
    project = create_project(client, owner.access_token, "basic_single_csv.yaml")
    assert project["is_public"] is False
    editor, outsider = sign_up(client, "editor"), sign_up(client, "outsider")
    add_member(client, owner.access_token, project["id"], editor.email, "editor")
    url = f"{PROJECTS}/{project['id']}"

    refused = client.get(url, headers=bearer(outsider.access_token))
    assert refused.status_code == 403
    assert project["name"] not in refused.text and project["id"] in refused.text

    for caller in (editor, outsider):
        answers = [
            client.put(
                f"{url}/members",
                json={"email": email, "role": "viewer"},
                headers=bearer(caller.access_token),
            )
            for email in (owner.email, "nobody-at-all@example.org")
        ]
        assert [a.status_code for a in answers] == [403, 403]
        assert answers[0].json() == answers[1].json()
        removals = [
            client.delete(
                f"{url}/members", params={"email": email}, headers=bearer(caller.access_token)
            )
            for email in (owner.email, "nobody-at-all@example.org")
        ]
        assert [r.status_code for r in removals] == [403, 403]
        assert removals[0].json() == removals[1].json()
    # The owner still adds by e-mail, and an unknown address is named as such.
    unknown = client.put(
        f"{url}/members",
        json={"email": "nobody-at-all@example.org", "role": "viewer"},
        headers=bearer(owner.access_token),
    )
    assert unknown.status_code == 404


def test_members_by_email_and_the_last_owner(env: tuple[Any, httpx.Client], owner: Account) -> None:
    _, client = env
    project = create_project(client, owner.access_token, "basic_single_csv.yaml")
    members_url = f"{PROJECTS}/{project['id']}/members"
    colleague = sign_up(client, "colleague")
    add_member(client, owner.access_token, project["id"], colleague.email.upper(), "editor")
    listed = client.get(members_url, headers=bearer(colleague.access_token)).json()
    assert {(m["email"], m["role"]) for m in listed["items"]} == {
        (owner.email, "owner"),
        (colleague.email, "editor"),
    }
    unknown = client.put(
        members_url,
        json={"email": "nobody@example.org", "role": "viewer"},
        headers=bearer(owner.access_token),
    )
    assert unknown.status_code == 404
    last = client.delete(
        members_url, params={"user_id": owner.user_id}, headers=bearer(owner.access_token)
    )
    assert last.status_code == 409 and "last owner" in last.json()["detail"]
    removed = client.delete(
        members_url, params={"email": colleague.email}, headers=bearer(owner.access_token)
    )
    assert removed.status_code == 204
    assert client.get(members_url, headers=bearer(colleague.access_token)).status_code == 403


def test_runs_and_files_are_listed_page_by_page(
    env: tuple[Any, httpx.Client], owner: Account
) -> None:
    stack, client = env
    project = create_project(client, owner.access_token, "advanced_sequencing_runs.yaml")
    workflow = project["workflows"][0]
    dc_ids = [dc["id"] for dc in workflow["data_collections"]]

    async def register() -> None:
        client_ = metadata(stack, owner.access_token)
        for tag in ("season_2023", "season_2024"):
            run_message = pb.Run(
                project_id=project["id"], workflow_id=workflow["id"], run_tag=tag, location=tag
            )
            files = [pb.File(data_collection_id=dc, path=f"{dc}.csv", size=10) for dc in dc_ids]
            await client_.register_run(run_message, files)

    run(register)
    headers = bearer(owner.access_token)
    first = client.get(f"{PROJECTS}/{project['id']}/runs?page_size=1", headers=headers).json()
    assert first["total"] == 2 and first["next_page_token"]
    second = client.get(
        f"{PROJECTS}/{project['id']}/runs",
        params={"page_size": 1, "page_token": first["next_page_token"]},
        headers=headers,
    ).json()
    assert [r["run_tag"] for r in first["items"] + second["items"]] == [
        "season_2023",
        "season_2024",
    ]
    files = client.get(
        f"{PROJECTS}/{project['id']}/files",
        params={"data_collection_id": dc_ids[0]},
        headers=headers,
    ).json()
    assert files["total"] == 2 and {f["data_collection_id"] for f in files["items"]} == {dc_ids[0]}


def test_a_deleted_project_takes_its_tables_and_its_id_is_not_given_again(
    env: tuple[Any, httpx.Client], owner: Account
) -> None:
    """Tables are stored under their project's id: deleting a project deletes them, and a
    project created under its id would find whatever a failure left there."""
    stack, client = env
    text = unique_config("linked_tables.yaml")
    headers = {**bearer(owner.access_token), **YAML}
    created = client.post(PROJECTS, content=text, headers=headers)
    assert created.status_code == 201, created.text
    project_id = created.json()["id"]
    dc = created.json()["workflows"][0]["data_collections"][0]["id"]
    rows = b"sample,site,ph\ns1,north,6.5\n"
    uploaded = client.post(
        f"/api/v1/datacollections/{dc}/upload",
        params={"run_id": "r1"},
        content=rows,
        headers={**bearer(owner.access_token), "content-type": "text/csv"},
    )
    assert uploaded.status_code == 200, uploaded.text
    tables = stack.data_dir / "delta" / project_id
    assert (tables / dc / "_delta_log").is_dir()
    deleted = client.delete(f"{PROJECTS}/{project_id}", headers=bearer(owner.access_token))
    assert deleted.status_code == 204, deleted.text
    # Its tables went with it.
    assert not tables.exists()

    other = sign_up(client, "reuser")
    again = client.post(PROJECTS, content=text, headers={**bearer(other.access_token), **YAML})
    assert again.status_code == 409, again.text
    assert again.json()["detail"] == (
        f"id: '{project_id}' was a deleted project's id, and ids are not given twice; "
        "choose another id, or leave it out to get a new one"
    )
    read = client.get(f"/api/v1/datacollections/{dc}/rows", headers=bearer(other.access_token))
    assert read.status_code == 404, read.text
    # Without the id, the same config makes a new project, with tables of its own.
    data = yaml.safe_load(text)
    del data["id"]
    fresh = client.post(
        PROJECTS, content=yaml.safe_dump(data), headers={**bearer(other.access_token), **YAML}
    )
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["id"] != project_id
    empty = client.get(f"/api/v1/datacollections/{dc}/rows", headers=bearer(other.access_token))
    assert empty.status_code == 404 and "no table yet" in empty.json()["detail"]
