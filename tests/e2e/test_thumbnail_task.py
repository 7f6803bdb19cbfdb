"""The thumbnail task end to end: the UI's request after a save goes through real Redis to a
real Celery worker, which draws the dashboard in Chromium and stores it; the dashboards list
then shows the picture in the visitor's scheme."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import Stack
from playwright.sync_api import Browser, expect
from task_support import wait_for_task

from .browser import expect_thumbnail, fresh_page, shot, sign_in
from .conftest import IRIS, PENGUINS, TaskUiStack

pytestmark = pytest.mark.timeout(240)
# What the Editor's save calls, twice in a row (two saves within the delay), run in a process
# of its own with the stack's environment, as the UI would.
TWO_SAVES = (
    "import sys\n"
    "from dash_apps.thumbnails import request_thumbnail\n"
    "print(request_thumbnail(sys.argv[1], sys.argv[2]))\n"
    "print(request_thumbnail(sys.argv[1], sys.argv[2]))\n"
)


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

    with fresh_page(browser, stack.ui_url) as page:
        sign_in(page, stack.admin_email, stack.admin_password, "/dashboards")
        expect_thumbnail(page, iris, "light")
        expect(page.locator(f"div#dashboard-thumbnail-{penguins}")).to_have_class(
            "dpt-thumbnail-empty"
        )
        shot(page, "dashboards-list-thumbnails-light")

        page.context.add_cookies(
            [{"name": "depictio_scheme", "value": "dark", "url": stack.ui_url}]
        )
        page.reload()
        expect_thumbnail(page, iris, "dark")
        shot(page, "dashboards-list-thumbnails-dark")
