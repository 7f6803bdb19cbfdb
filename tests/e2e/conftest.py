"""Fixtures of the browser tests: one stack with the UI and the demo projects, its people, and
a fresh Chromium context (its own cookies) per test, photographed when the test fails."""

from __future__ import annotations

import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from conftest import MakeStack, Stack, settings_from_env
from playwright.sync_api import Browser, Page, sync_playwright
from task_support import WorkerProcess, private_redis, running_worker

from depictio.cli.demo import DemoLoaded, load_demo
from depictio.headless_chromium import CHROMIUM, CHROMIUM_ARGS

from .accounts import Account, access_token, add_member, register
from .browser import fresh_page, shot

IRIS = "Iris (demo)"
PENGUINS = "Palmer penguins (demo)"
CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@dataclass(frozen=True)
class UiStack:
    """A running stack with the UI and the demo projects loaded by its first admin."""

    stack: Stack
    iris: DemoLoaded
    penguins: DemoLoaded

    @property
    def ui_url(self) -> str:
        return self.stack.ui_url

    @property
    def gateway_url(self) -> str:
        return self.stack.gateway_url


@dataclass(frozen=True)
class People:
    """Who uses the stack: its first admin, a viewer of both demo projects, an editor of the
    iris project only, and a signed-up user who is a member of nothing."""

    admin: Account
    viewer: Account
    editor: Account
    outsider: Account


@pytest.fixture(scope="session")
def ui_stack(make_stack: MakeStack) -> Iterator[UiStack]:
    """The stack of every browser test (API tokens are not cached, so a revocation is felt at
    once)."""
    with make_stack(ui=True, DEPICTIO_API_TOKEN_CACHE_SECONDS="0") as stack:
        settings = settings_from_env(stack.env)
        loaded = {
            demo.name: demo for demo in load_demo(stack.gateway_url, settings, stack.admin_password)
        }
        yield UiStack(stack, loaded[IRIS], loaded[PENGUINS])


@dataclass(frozen=True)
class TaskUiStack:
    """A stack with the UI, Redis, one Celery worker (background callbacks on) and the demos."""

    stack: Stack
    demos: dict[str, DemoLoaded]
    admin_token: str
    worker: WorkerProcess


@pytest.fixture(scope="session")
def task_ui_stack(
    make_stack: MakeStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TaskUiStack]:
    """The stack of the browser tests of background work: the UI runs its background callbacks
    on the worker (DEPICTIO_CELERY_ENABLED), thumbnails are drawn 2 s after a save."""
    workdir = tmp_path_factory.mktemp("task-ui")
    with (
        private_redis(workdir) as redis_url,
        make_stack(
            ui=True,
            DEPICTIO_REDIS_URL=redis_url,
            DEPICTIO_THUMBNAIL_DELAY_SECONDS="2",
            DEPICTIO_CELERY_ENABLED="true",
        ) as stack,
        running_worker(stack.env, workdir / "worker.log") as worker,
        httpx.Client(base_url=stack.gateway_url, timeout=30.0) as client,
    ):
        settings = settings_from_env(stack.env)
        demos = {d.name: d for d in load_demo(stack.gateway_url, settings, stack.admin_password)}
        token = access_token(client, stack.admin_email, stack.admin_password)
        yield TaskUiStack(stack, demos, token, worker)


@pytest.fixture(scope="session")
def gateway(ui_stack: UiStack) -> Iterator[httpx.Client]:
    """An HTTP client of the stack's gateway."""
    with httpx.Client(base_url=ui_stack.gateway_url, timeout=30.0) as client:
        yield client


@pytest.fixture(scope="session")
def admin_token(ui_stack: UiStack, gateway: httpx.Client) -> str:
    """An access token of the stack's first admin."""
    return access_token(gateway, ui_stack.stack.admin_email, ui_stack.stack.admin_password)


@pytest.fixture(scope="session")
def people(ui_stack: UiStack, gateway: httpx.Client, admin_token: str) -> People:
    me = gateway.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {admin_token}"})
    assert me.status_code == 200, me.text
    admin = Account(str(me.json()["id"]), ui_stack.stack.admin_email, ui_stack.stack.admin_password)
    viewer = register(gateway, "viewer")
    editor = register(gateway, "editor")
    outsider = register(gateway, "outsider")
    for project in (ui_stack.iris, ui_stack.penguins):
        add_member(gateway, admin_token, project.project_id, viewer.email, "viewer")
    add_member(gateway, admin_token, ui_stack.iris.project_id, editor.email, "editor")
    return People(admin, viewer, editor, outsider)


@pytest.fixture(scope="module")
def private_dashboard(ui_stack: UiStack, gateway: httpx.Client, admin_token: str) -> str:
    """A dashboard of a project that is not public (only its owner, the admin, is a member)."""
    name = f"Private {uuid.uuid4().hex[:8]}"
    config = (
        f"name: '{name}'\nproject_type: basic\nis_public: false\n"
        "data_collections:\n  - data_collection_tag: notes\n    config:\n      type: table\n"
        "      scan: {mode: single, scan_parameters: {filename: notes.csv}}\n"
        "      dc_specific_properties: {format: csv}\n"
    )
    headers = {"Authorization": f"Bearer {admin_token}"}
    project = gateway.post(
        "/api/v1/projects",
        content=config,
        headers={**headers, "Content-Type": "application/yaml"},
    )
    assert project.status_code == 201, project.text
    document = {
        "title": name,
        "tabs": [
            {
                "id": "main",
                "title": "Main",
                "components": [{"type": "text", "id": "note", "content": "Members only"}],
                "layout": [{"i": "note", "x": 0, "y": 0, "w": 12, "h": 2}],
            }
        ],
    }
    created = gateway.post(
        "/api/v1/dashboards",
        json={"project_id": project.json()["id"], "document": document},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, for one test module: Playwright's sync API runs an event
    loop in the test thread while it is open, so it must be closed before other modules'
    tests call asyncio.run()."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keeps the outcome of each test's call phase, for the `page` fixture's teardown."""
    report = yield
    if report.when == "call":
        item.stash[CALL_REPORT] = report
    return report


@pytest.fixture
def page(browser: Browser, ui_stack: UiStack, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a browser context of its own (no cookies), on the UI's base URL; a
    screenshot of it is kept when the test fails."""
    with fresh_page(browser, ui_stack.ui_url) as opened:
        yield opened
        report = request.node.stash.get(CALL_REPORT, None)
        if report is not None and report.failed:
            shot(opened, f"{request.node.name}-failure")
