"""The thumbnail task end to end: the UI's request after a save goes through real Redis to a
real Celery worker, which draws the dashboard in Chromium and stores it; the dashboards list
then shows the picture in the visitor's scheme."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import MakeStack, Stack, background_process, free_port, settings_from_env
from playwright.sync_api import Browser, Page, expect
from task_support import running_worker, wait_for_task

from depictio.cli.demo import DemoLoaded, load_demo
from depictio.embedded_redis import redis_server_argv

from .accounts import access_token
from .browser import NAVIGATION_TIMEOUT_MS, TIMEOUT_MS, shot, sign_in
from .conftest import IRIS, PENGUINS

pytestmark = pytest.mark.timeout(240)
# What the Editor's save calls, twice in a row (two saves within the delay), run in a process
# of its own with the stack's environment, as the UI would.
TWO_SAVES = (
    "import sys\n"
    "from dash_apps.thumbnails import request_thumbnail\n"
    "print(request_thumbnail(sys.argv[1], sys.argv[2]))\n"
    "print(request_thumbnail(sys.argv[1], sys.argv[2]))\n"
)


@dataclass(frozen=True)
class TaskUiStack:
    """A stack with the UI, Redis, one worker and the demo projects."""

    stack: Stack
    demos: dict[str, DemoLoaded]
    admin_token: str


@pytest.fixture(scope="module")
def task_ui_stack(
    make_stack: MakeStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TaskUiStack]:
    port = free_port()
    workdir = tmp_path_factory.mktemp("thumbnail-redis")
    redis_url = f"redis://127.0.0.1:{port}/0"
    with (
        background_process(redis_server_argv(port, workdir, 64), port, workdir / "redis.log"),
        make_stack(
            ui=True, DEPICTIO_REDIS_URL=redis_url, DEPICTIO_THUMBNAIL_DELAY_SECONDS="2"
        ) as stack,
        running_worker(stack.env, workdir / "worker.log"),
        httpx.Client(base_url=stack.gateway_url, timeout=30.0) as gateway,
    ):
        settings = settings_from_env(stack.env)
        demos = {d.name: d for d in load_demo(stack.gateway_url, settings, stack.admin_password)}
        token = access_token(gateway, stack.admin_email, stack.admin_password)
        yield TaskUiStack(stack, demos, token)


def request_twice(stack: Stack, token: str, dashboard_id: str) -> list[str]:
    """The task ids `dash_apps.thumbnails.request_thumbnail` returns for two saves."""
    done = subprocess.run(
        [sys.executable, "-c", TWO_SAVES, token, dashboard_id],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip().splitlines()[-2:]


def expect_picture(page: Page, dashboard_id: str, scheme: str) -> None:
    """The list shows the dashboard's picture in `scheme`, loaded (480 pixels wide)."""
    picture = page.locator(f"img#dashboard-thumbnail-{dashboard_id}")
    source = re.compile(rf"^/thumbnails/{dashboard_id}/{scheme}\.png\?v=\d+$")
    expect(picture).to_have_attribute("src", source)
    page.wait_for_function(
        f"document.getElementById('dashboard-thumbnail-{dashboard_id}')?.naturalWidth === 480"
    )


def test_after_a_save_the_thumbnail_appears_in_the_dashboards_list(
    task_ui_stack: TaskUiStack, browser: Browser, tmp_path: Path
) -> None:
    stack, token = task_ui_stack.stack, task_ui_stack.admin_token
    iris = task_ui_stack.demos[IRIS].dashboard_id
    penguins = task_ui_stack.demos[PENGUINS].dashboard_id
    first, again = request_twice(stack, token, iris)
    assert first != "None" and again == first  # one drawing for both saves

    with httpx.Client(base_url=stack.gateway_url, timeout=30.0) as gateway:
        record = wait_for_task(gateway, token, first, timeout=120)
    assert record["state"] == "succeeded", record
    assert record["name"] == "depictio.thumbnail" and record["target"] == iris
    assert record["result"]["stored"] == {"light": True, "dark": True}
    assert record["result"]["dashboard_version"] == 1

    context = browser.new_context(base_url=stack.ui_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in(page, stack.admin_email, stack.admin_password, "/dashboards")
        expect_picture(page, iris, "light")
        expect(page.locator(f"div#dashboard-thumbnail-{penguins}")).to_have_class(
            "dpt-thumbnail-empty"
        )
        shot(page, "dashboards-list-thumbnails-light")

        context.add_cookies([{"name": "depictio_scheme", "value": "dark", "url": stack.ui_url}])
        page.reload()
        expect_picture(page, iris, "dark")
        shot(page, "dashboards-list-thumbnails-dark")
    finally:
        context.close()
