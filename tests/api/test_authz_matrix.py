"""Every project and dashboard route × caller × project visibility, from one table.

The stack runs in public mode, so anonymous callers reach the read routes. The expected
answer is computed from the route's requirement and the caller's role (DESIGN.md §4), never
from the code under test: allowed → the route's success status; refused → 401 for anonymous
callers, 403 for signed-in ones. Cases that would destroy the shared fixtures act on fresh
targets; at the end, the shared projects and dashboards are checked to be unchanged.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from metadata_support import unique_config

from .gateway_client import MakeStack, admin_token, bearer, client_for, sign_up
from .metadata_api import (
    DASHBOARDS,
    PROJECTS,
    YAML,
    add_member,
    card_document,
    create_dashboard,
    create_project,
)

pytestmark = pytest.mark.timeout(300)

CALLERS = ("admin", "owner", "editor", "viewer", "non_member", "anonymous")
VISIBILITIES = ("private", "public")
ROLE_RANK = {"owner": 3, "editor": 2, "viewer": 1, "non_member": 0}
NEEDED_RANK = {"member": 1, "read": 1, "write": 2, "manage": 3}


@dataclass
class World:
    """The module's stack, users and per-visibility fixtures."""

    client: httpx.Client
    tokens: dict[str, str]
    spare: Any
    projects: dict[str, dict[str, Any]]
    dashboards: dict[str, dict[str, Any]]


Setup = Callable[[World, str], dict[str, Any]]


def shared(world: World, visibility: str) -> dict[str, Any]:
    return {"p": world.projects[visibility]["id"], "d": world.dashboards[visibility]["id"]}


def fresh_project(world: World, visibility: str) -> dict[str, Any]:
    project = create_project(
        world.client,
        world.tokens["owner"],
        "basic_single_csv.yaml",
        is_public=visibility == "public",
    )
    return {"p": project["id"]}


def fresh_dashboard(world: World, visibility: str) -> dict[str, Any]:
    project_id = world.projects[visibility]["id"]
    return {"d": create_dashboard(world.client, world.tokens["owner"], project_id)["id"]}


def spare_member(world: World, visibility: str) -> dict[str, Any]:
    project_id = world.projects[visibility]["id"]
    add_member(world.client, world.tokens["owner"], project_id, world.spare.email, "viewer")
    return {"p": project_id, "user": world.spare.user_id}


@dataclass(frozen=True)
class Route:
    """One route and verb: what it needs, how to call it, what success looks like."""

    method: str
    path: str
    needs: str  # "open", "signed_in", "read", "member" (read, public or not), "write", "manage"
    success: int
    body: Callable[[World, str, dict[str, Any]], dict[str, Any]] = lambda w, v, ids: {}
    fresh: Setup | None = None  # for allowed cases that change what they touch


def config_body(world: World, visibility: str, ids: dict[str, Any]) -> dict[str, Any]:
    text = unique_config("basic_single_csv.yaml", is_public=visibility == "public")
    return {"content": text, "headers": YAML}


def import_body(world: World, visibility: str, ids: dict[str, Any]) -> dict[str, Any]:
    import yaml

    document = {"depictio_dashboard": 1, "project_id": ids["p"], **card_document("Imported")}
    return {"content": yaml.safe_dump(document), "headers": YAML}


ROUTES = [
    Route("POST", PROJECTS, "signed_in", 201, config_body),
    Route("GET", PROJECTS, "open", 200),
    Route("GET", PROJECTS + "/{p}", "read", 200),
    Route("PATCH", PROJECTS + "/{p}", "manage", 200,
          lambda w, v, i: {"json": {"is_public": v == "public"}}),
    Route("DELETE", PROJECTS + "/{p}", "manage", 204, fresh=fresh_project),
    Route("GET", PROJECTS + "/{p}/members", "member", 200),
    Route("PUT", PROJECTS + "/{p}/members", "manage", 200,
          lambda w, v, i: {"json": {"user_id": w.spare.user_id, "role": "viewer"}}),
    Route("DELETE", PROJECTS + "/{p}/members?user_id={user}", "manage", 204, fresh=spare_member),
    Route("GET", PROJECTS + "/{p}/runs", "read", 200),
    Route("POST", PROJECTS + "/{p}/runs", "write", 200,
          lambda w, v, i: {"json": {"run_tag": "matrix", "replace_files": True}}),
    Route("GET", PROJECTS + "/{p}/files", "read", 200),
    Route("GET", DASHBOARDS + "/schema", "open", 200),
    Route("POST", DASHBOARDS, "write", 201,
          lambda w, v, i: {"json": {"project_id": i["p"], "document": card_document()}}),
    Route("GET", DASHBOARDS + "?project_id={p}", "read", 200),
    Route("POST", DASHBOARDS + "/import", "write", 201, import_body),
    Route("GET", DASHBOARDS + "/{d}", "read", 200),
    Route("PUT", DASHBOARDS + "/{d}", "write", 200,
          lambda w, v, i: {"json": {"document": card_document()}}),
    Route("DELETE", DASHBOARDS + "/{d}", "write", 204, fresh=fresh_dashboard),
    Route("GET", DASHBOARDS + "/{d}/versions", "read", 200),
    Route("GET", DASHBOARDS + "/{d}/versions/1", "read", 200),
    Route("POST", DASHBOARDS + "/{d}/versions/1/restore", "write", 200),
    Route("POST", DASHBOARDS + "/{d}/duplicate", "write", 201, lambda w, v, i: {"json": {}}),
    Route("GET", DASHBOARDS + "/{d}/yaml", "read", 200),
]  # fmt: skip


def expected_status(route: Route, caller: str, visibility: str) -> int:
    """What DESIGN.md §4 says the answer is."""
    if route.needs == "open":
        return route.success
    if caller == "anonymous":
        allowed = route.needs == "read" and visibility == "public"
        return route.success if allowed else 401
    if caller == "admin" or route.needs == "signed_in":
        return route.success
    rank = ROLE_RANK[caller]
    if route.needs == "read":
        allowed = rank >= 1 or visibility == "public"
    else:
        allowed = rank >= NEEDED_RANK[route.needs]
    return route.success if allowed else 403


CASES = list(itertools.product(ROUTES, CALLERS, VISIBILITIES))


@pytest.fixture(scope="module")
def world(make_stack: MakeStack) -> Iterator[World]:
    with (
        make_stack(DEPICTIO_AUTH_MODE="public") as stack,
        client_for(stack) as client,
    ):
        users = {
            name: sign_up(client, name) for name in ("owner", "editor", "viewer", "non_member")
        }
        tokens = {name: account.access_token for name, account in users.items()}
        tokens["admin"] = admin_token(client, stack)
        tokens["anonymous"] = ""
        projects, dashboards = {}, {}
        for visibility in VISIBILITIES:
            project = create_project(
                client, tokens["owner"], "basic_single_csv.yaml", is_public=visibility == "public"
            )
            for role in ("editor", "viewer"):
                add_member(client, tokens["owner"], project["id"], users[role].email, role)
            projects[visibility] = project
            dashboards[visibility] = create_dashboard(client, tokens["owner"], project["id"])
        yield World(client, tokens, sign_up(client, "spare"), projects, dashboards)


def test_the_matrix_is_large_enough() -> None:
    assert len(CASES) >= 200


@pytest.mark.parametrize(
    ("route", "caller", "visibility"),
    CASES,
    ids=[f"{r.method} {r.path} | {c} | {v}" for r, c, v in CASES],
)
def test_route_answers_as_the_role_table_says(
    world: World, route: Route, caller: str, visibility: str
) -> None:
    expected = expected_status(route, caller, visibility)
    ids = shared(world, visibility)
    if route.fresh is not None and expected == route.success:
        ids = {**ids, **route.fresh(world, visibility)}
    elif route.fresh is spare_member:
        ids["user"] = world.spare.user_id
    token = world.tokens[caller]
    headers = bearer(token) if token else {}
    options = route.body(world, visibility, ids)
    options["headers"] = {**headers, **options.get("headers", {})}
    response = world.client.request(route.method, route.path.format(**ids), **options)
    assert response.status_code == expected, response.text


def test_refused_callers_changed_nothing(world: World) -> None:
    """Runs after the matrix: the shared projects and dashboards are as the allowed cases left
    them, and still exist (a non-member never deleted or renamed anything)."""
    owner = bearer(world.tokens["owner"])
    for visibility in VISIBILITIES:
        project = world.client.get(f"{PROJECTS}/{world.projects[visibility]['id']}", headers=owner)
        assert project.status_code == 200, project.text
        assert project.json()["name"] == world.projects[visibility]["name"]
        assert project.json()["is_public"] is (visibility == "public")
        roles = {m["email"]: m["role"] for m in project.json()["members"]}
        assert sorted(roles.values()).count("owner") == 1
        dashboard = world.client.get(
            f"{DASHBOARDS}/{world.dashboards[visibility]['id']}", headers=owner
        )
        assert dashboard.status_code == 200, dashboard.text
        assert dashboard.json()["title"] == world.dashboards[visibility]["title"]


def test_non_members_cannot_see_private_dashboards_of_a_public_project(world: World) -> None:
    project_id = world.projects["public"]["id"]
    draft = create_dashboard(
        world.client,
        world.tokens["owner"],
        project_id,
        title=f"Draft {uuid.uuid4().hex[:6]}",
        is_public=False,
    )
    for caller, expected in (
        ("non_member", 403),
        ("anonymous", 401),
        ("viewer", 200),
        ("admin", 200),
    ):
        token = world.tokens[caller]
        response = world.client.get(
            f"{DASHBOARDS}/{draft['id']}", headers=bearer(token) if token else {}
        )
        assert response.status_code == expected, (caller, response.text)
        listed = world.client.get(
            DASHBOARDS, params={"project_id": project_id}, headers=bearer(token) if token else {}
        )
        assert (draft["id"] in [d["id"] for d in listed.json()["items"]]) is (expected == 200)


def test_a_public_projects_members_are_shown_to_its_members_only(world: World) -> None:
    url = f"{PROJECTS}/{world.projects['public']['id']}"
    for caller in ("non_member", "anonymous"):
        token = world.tokens[caller]
        project = world.client.get(url, headers=bearer(token) if token else {})
        assert project.status_code == 200, project.text
        assert project.json()["members"] == [], caller
        assert "@" not in project.text, caller
    for caller in ("viewer", "admin"):
        project = world.client.get(url, headers=bearer(world.tokens[caller]))
        roles = sorted(m["role"] for m in project.json()["members"])
        assert roles == ["editor", "owner", "viewer"], caller
