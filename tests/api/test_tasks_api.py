"""/api/v1/tasks and the routes that queue tasks: who may submit, who may see, task tokens.

No worker runs here: submitted tasks stay queued (tests/worker runs them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from conftest import MakeStack, Stack
from data_support import LinkedProject, linked_project
from grpc import aio
from metadata_support import admin_token, run
from task_support import TASKS, private_redis

from depictio.clients.auth import AuthClient

from .gateway_client import bearer

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def tasks_stack(make_stack: MakeStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with private_redis(tmp_path_factory.mktemp("tasks-redis")) as url:
        with make_stack(DEPICTIO_REDIS_URL=url) as running:
            yield running


@pytest.fixture(scope="module")
def gateway(tasks_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=tasks_stack.gateway_url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def project(tasks_stack: Stack) -> LinkedProject:
    return linked_project(tasks_stack)


def maintenance(
    gateway: httpx.Client, dc: str, token: str, operation: str = "optimize"
) -> httpx.Response:
    return gateway.post(
        f"/api/v1/datacollections/{dc}/maintenance",
        json={"operation": operation},
        headers=bearer(token),
    )


def code_of(call: Callable[[], Awaitable[object]]) -> grpc.StatusCode:
    try:
        run(call)
    except aio.AioRpcError as exc:
        return exc.code()
    raise AssertionError("the call succeeded")


def test_only_owners_queue_table_maintenance(gateway: httpx.Client, project: LinkedProject) -> None:
    people = project.people
    for token in (people.viewer, people.editor):
        refused = maintenance(gateway, project.samples, token)
        assert refused.status_code == 403, refused.text
    outsider = maintenance(gateway, project.samples, people.outsider)
    assert outsider.status_code == 403, outsider.text
    anonymous = gateway.post(
        f"/api/v1/datacollections/{project.samples}/maintenance", json={"operation": "optimize"}
    )
    assert anonymous.status_code == 401
    unknown = maintenance(gateway, project.samples, people.owner, operation="delete")
    assert unknown.status_code == 422
    accepted = maintenance(gateway, project.samples, people.owner, operation="vacuum")
    assert accepted.status_code == 202, accepted.text
    assert set(accepted.json()) == {"task_id"}


def test_a_task_is_seen_by_its_submitter_and_admins_only(
    tasks_stack: Stack, gateway: httpx.Client, project: LinkedProject
) -> None:
    people = project.people
    task_id = maintenance(gateway, project.abundance, people.owner).json()["task_id"]
    mine = gateway.get(f"{TASKS}/{task_id}", headers=bearer(people.owner))
    assert mine.status_code == 200, mine.text
    record = mine.json()
    assert (record["state"], record["name"], record["target"]) == (
        "queued",
        "depictio.optimize",
        project.abundance,
    )
    assert record["attempts"] == 0 and record["started_at"] is None
    others = [
        gateway.get(f"{TASKS}/{task_id}", headers=bearer(token))
        for token in (people.viewer, people.editor, people.outsider)
    ]
    never = gateway.get(f"{TASKS}/no-such-task", headers=bearer(people.outsider))
    assert [r.status_code for r in others] == [404, 404, 404]
    # Someone else's task and a task that never existed are told apart by nothing.
    assert {r.json()["detail"].replace(task_id, "X") for r in others} == {"no task 'X'"}
    assert never.json()["detail"] == "no task 'no-such-task'"

    admin = bearer(admin_token(tasks_stack))
    assert gateway.get(f"{TASKS}/{task_id}", headers=admin).status_code == 200
    everyone = [task["id"] for task in gateway.get(TASKS, headers=admin).json()]
    own = [task["id"] for task in gateway.get(TASKS, headers=bearer(people.owner)).json()]
    outsider = gateway.get(TASKS, headers=bearer(people.outsider)).json()
    assert task_id in everyone and task_id in own
    assert outsider == []
    assert own == [
        task["id"] for task in gateway.get(TASKS, headers=admin).json() if task["id"] in own
    ]
    limited = gateway.get(TASKS, params={"limit": 1}, headers=bearer(people.owner)).json()
    assert [task["id"] for task in limited] == [task_id]


def test_ingest_is_queued_for_editors_only(gateway: httpx.Client, project: LinkedProject) -> None:
    body = {"project_file": "/srv/projects/soil/project.yaml"}
    url = f"/api/v1/projects/{project.id}/ingest"
    refused = gateway.post(url, json=body, headers=bearer(project.people.viewer))
    assert refused.status_code == 403, refused.text
    accepted = gateway.post(url, json=body, headers=bearer(project.people.editor))
    assert accepted.status_code == 202, accepted.text
    task_id = accepted.json()["task_id"]
    record = gateway.get(f"{TASKS}/{task_id}", headers=bearer(project.people.editor)).json()
    assert (record["name"], record["target"]) == ("depictio.ingest_project", project.id)


def test_a_task_token_cannot_mint_tokens_nor_touch_credentials(
    tasks_stack: Stack, gateway: httpx.Client, project: LinkedProject
) -> None:
    owner = AuthClient(tasks_stack.auth_addr, token=project.people.owner)
    minted = run(lambda: owner.mint_task_token("depictio.optimize"))
    assert minted.expires_in == 900
    task = AuthClient(tasks_stack.auth_addr, token=minted.access_token)
    me = run(task.get_me)
    assert me.id == minted.user_id
    assert code_of(lambda: task.mint_task_token("depictio.vacuum")) is (
        grpc.StatusCode.PERMISSION_DENIED
    )
    assert code_of(lambda: task.create_api_token("from a task")) is (
        grpc.StatusCode.PERMISSION_DENIED
    )
    # Nor sign its user out, revoke the user's API tokens or (for an admin) manage users.
    created = run(lambda: owner.create_api_token("kept"))
    admin = AuthClient(tasks_stack.auth_addr, token=admin_token(tasks_stack))
    admin_task = AuthClient(
        tasks_stack.auth_addr,
        token=run(lambda: admin.mint_task_token("depictio.optimize")).access_token,
    )
    refused = {
        "logout": lambda: task.logout(),
        "revoke": lambda: task.revoke_api_token(created.token.id),
        "update user": lambda: admin_task.update_user(minted.user_id, is_active=False),
        "list users": lambda: admin_task.list_users(),
    }
    for what, call in refused.items():
        assert code_of(call) is grpc.StatusCode.PERMISSION_DENIED, what
    assert run(owner.get_me).id == minted.user_id  # the owner's own session still works
    kept = run(lambda: owner.list_api_tokens())
    assert [t.revoked for t in kept if t.id == created.token.id] == [False]
    assert run(admin.list_users)
    # Through the gateway: the task token acts for the owner, but cannot queue another task.
    assert gateway.get("/api/v1/auth/me", headers=bearer(minted.access_token)).status_code == 200
    again = maintenance(gateway, project.samples, minted.access_token)
    assert again.status_code == 403
    assert "task" in again.json()["detail"]
    api_token = gateway.post(
        "/api/v1/auth/tokens", json={"name": "x"}, headers=bearer(minted.access_token)
    )
    assert api_token.status_code == 403


def test_without_redis_the_task_routes_say_so(make_stack: MakeStack, tmp_path: Path) -> None:
    with make_stack() as plain, httpx.Client(base_url=plain.gateway_url, timeout=30) as client:
        token = admin_token(plain)
        response = client.get(TASKS, headers=bearer(token))
        assert response.status_code == 503
        assert "DEPICTIO_REDIS_URL is not set" in response.json()["detail"]
        one = client.get(f"{TASKS}/anything", headers=bearer(token))
        assert one.status_code == 503
