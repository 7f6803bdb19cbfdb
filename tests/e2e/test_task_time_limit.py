"""A task past its time limit, seen in the browser: an owner's Optimize ends failed, and the
project page and the admins' task list say why in one sentence.

A stack of its own: its worker has a 3 s time limit and pauses every task for 30 s (the
test-only DEPICTIO_TASK_TEST_PAUSE_SECONDS), so the task cannot finish in time.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from conftest import MakeStack, Stack
from playwright.sync_api import Browser, expect
from task_support import private_redis, running_worker

from .accounts import access_token
from .browser import fresh_page, shot, sign_in
from .small_tables import three_commit_table

pytestmark = pytest.mark.timeout(240)
TIME_LIMIT_S = 3
EXPECTED = f"depictio.optimize stopped: it exceeded its time limit of {TIME_LIMIT_S} s"


@pytest.fixture(scope="module")
def limited_stack(
    make_stack: MakeStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("time-limit")
    with (
        private_redis(workdir) as redis_url,
        make_stack(ui=True, DEPICTIO_REDIS_URL=redis_url) as stack,
        running_worker(
            stack.env,
            workdir / "worker.log",
            DEPICTIO_TASK_TIME_LIMIT_SECONDS=str(TIME_LIMIT_S),
            DEPICTIO_TASK_TEST_PAUSE_SECONDS="30",
        ),
    ):
        yield stack


def test_a_task_past_its_time_limit_ends_with_a_clear_error_in_the_ui(
    limited_stack: Stack, browser: Browser
) -> None:
    with httpx.Client(base_url=limited_stack.gateway_url, timeout=30.0) as gateway:
        token = access_token(gateway, limited_stack.admin_email, limited_stack.admin_password)
    project_id, dc_id = three_commit_table(limited_stack.gateway_url, token)
    with fresh_page(browser, limited_stack.ui_url, 1400, 1000) as page:
        sign_in(
            page, limited_stack.admin_email, limited_stack.admin_password, f"/projects/{project_id}"
        )
        card = page.locator(f"#dc-{dc_id}")
        card.get_by_role("button", name="Optimize", exact=True).click()
        expect(card.locator(".dpt-task-running")).to_be_visible()
        failed = card.locator(".dpt-task-failed")
        expect(failed).to_be_visible(timeout=30_000)
        expect(failed.locator(".dpt-task-error")).to_have_text(EXPECTED)
        shot(page, "project-task-time-limit")

        page.goto("/admin")
        row = page.locator("#admin-tasks-table tr", has_text=dc_id)
        expect(row).to_contain_text("failed")
        expect(row).to_contain_text(EXPECTED)
