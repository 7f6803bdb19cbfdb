"""Background work in a browser, on a stack whose UI runs its background callbacks on a real
Celery worker over real Redis (DEPICTIO_CELERY_ENABLED): an owner compacts a table from the
project page and follows the task to its end, admins list recent tasks, viewers get no
maintenance controls, and the Editor's live preview and the Viewer's CSV export run on the
worker — whose messages carry no refresh token and whose logs no token at all.

Expected values come from the Delta log through the gateway's versions route and from pandas
on the demo's CSV.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, expect

from .accounts import access_token, add_member, register
from .browser import expect_thumbnail, fresh_page, shot, sign_in
from .conftest import IRIS, PENGUINS, TaskUiStack
from .editor_steps import add_component, blank_dashboard, choose, done, penguins
from .small_tables import three_commit_table

pytestmark = pytest.mark.timeout(240)

IRIS_CSV = Path(__file__).resolve().parents[2] / "deploy" / "demo" / "iris" / "iris.csv"
# A task waits for the one worker, which may be busy drawing thumbnails for another test.
TASK_TIMEOUT_MS = 90_000


@pytest.fixture
def task_page(browser: Browser, task_ui_stack: TaskUiStack) -> Iterator[Page]:
    """A page of its own (no cookies) on the background-work stack's UI."""
    with fresh_page(browser, task_ui_stack.stack.ui_url, 1400, 1000) as page:
        yield page


def versions(task_ui_stack: TaskUiStack, dc_id: str) -> list[dict[str, object]]:
    with httpx.Client(base_url=task_ui_stack.stack.gateway_url, timeout=30.0) as gateway:
        response = gateway.get(
            f"/api/v1/datacollections/{dc_id}/versions",
            headers={"Authorization": f"Bearer {task_ui_stack.admin_token}"},
        )
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()
    return items


def test_an_owner_optimizes_a_table_and_follows_the_task_then_admins_list_it(
    task_page: Page, task_ui_stack: TaskUiStack
) -> None:
    stack = task_ui_stack.stack
    project_id, dc_id = three_commit_table(
        task_ui_stack.stack.gateway_url, task_ui_stack.admin_token
    )
    before = versions(task_ui_stack, dc_id)
    assert [v["operation"] for v in before] == ["WRITE"] * 3
    sign_in(task_page, stack.admin_email, stack.admin_password, f"/projects/{project_id}")
    card = task_page.locator(f"#dc-{dc_id}")
    card.get_by_role("button", name="Optimize", exact=True).click()
    status = card.locator(".dpt-task")
    expect(status).to_be_visible()
    expect(card.locator(".dpt-task-succeeded")).to_be_visible(timeout=TASK_TIMEOUT_MS)
    expect(card.locator(".dpt-task-succeeded")).to_contain_text("files_removed: 3")
    shot(task_page, "project-optimize-succeeded")

    after = versions(task_ui_stack, dc_id)
    assert len(after) == len(before) + 1
    newest = max(after, key=lambda v: int(str(v["version"])))
    assert str(newest["operation"]).upper() == "OPTIMIZE", newest

    task_page.goto("/admin")
    rows = task_page.locator("#admin-tasks-table tr", has_text="optimize")
    expect(rows.first).to_contain_text(dc_id)
    expect(rows.first).to_contain_text("succeeded")
    # The duration column: seconds with one decimal.
    expect(rows.first.locator("td").nth(4)).to_have_text(re.compile(r"^\d+\.\d s$"))
    shot(task_page, "admin-recent-tasks")


def test_viewers_get_no_maintenance_controls_and_cannot_queue_any(
    task_page: Page, task_ui_stack: TaskUiStack
) -> None:
    stack = task_ui_stack.stack
    project_id, dc_id = three_commit_table(
        task_ui_stack.stack.gateway_url, task_ui_stack.admin_token
    )
    with httpx.Client(base_url=stack.gateway_url, timeout=30.0) as gateway:
        viewer = register(gateway, "task-viewer")
        add_member(gateway, task_ui_stack.admin_token, project_id, viewer.email, "viewer")
        viewer_token = access_token(gateway, viewer.email, viewer.password)
        refused = gateway.post(
            f"/api/v1/datacollections/{dc_id}/maintenance",
            json={"operation": "optimize"},
            headers={"Authorization": f"Bearer {viewer_token}"},
        )
    assert refused.status_code == 403, refused.text
    sign_in(task_page, viewer.email, viewer.password, f"/projects/{project_id}")
    card = task_page.locator(f"#dc-{dc_id}")
    expect(card).to_contain_text("value")
    expect(card.get_by_role("button", name="Optimize")).to_have_count(0)
    expect(card.get_by_role("button", name="Vacuum")).to_have_count(0)
    task_page.goto("/admin")
    expect(task_page.locator("#message-page")).to_contain_text("No access")

    # The button's callback, called by hand with the viewer's cookies, refuses too.
    button = {"dc": dc_id, "operation": "optimize", "type": "dc-maintenance"}
    answer = task_page.request.post(
        "/_dash-update-component",
        data={
            "output": "..project-tasks.data...project-tasks-poll.disabled..."
            "project-task-feedback.children..",
            "outputs": [
                {"id": "project-tasks", "property": "data"},
                {"id": "project-tasks-poll", "property": "disabled"},
                {"id": "project-task-feedback", "property": "children"},
            ],
            "inputs": [[{"id": button, "property": "n_clicks", "value": 1}]],
            "state": [{"id": "project-tasks", "property": "data", "value": {}}],
            "changedPropIds": [json.dumps(button, separators=(",", ":")) + ".n_clicks"],
        },
    )
    assert answer.ok, answer.text()
    response = answer.json()["response"]
    assert "project-tasks" not in response
    assert "owner" in json.dumps(response["project-task-feedback"]).lower()
    with httpx.Client(base_url=stack.gateway_url, timeout=30.0) as gateway:
        mine = gateway.get("/api/v1/tasks", headers={"Authorization": f"Bearer {viewer_token}"})
    assert mine.status_code == 200 and mine.json() == []


def test_the_viewers_csv_export_runs_on_the_worker(
    task_page: Page, task_ui_stack: TaskUiStack
) -> None:
    stack = task_ui_stack.stack
    dashboard_id = task_ui_stack.demos[IRIS].dashboard_id
    sign_in(task_page, stack.admin_email, stack.admin_password, f"/dashboard/{dashboard_id}")
    table = task_page.locator("#component-iris_rows")
    expect(table.locator('[id*="table-caption"]')).to_contain_text("of 150")
    with task_page.expect_download(timeout=TASK_TIMEOUT_MS) as download:
        table.get_by_role("button", name="CSV").click()
    exported = pd.read_csv(download.value.path())
    expected = pd.read_csv(IRIS_CSV)
    assert len(exported) == len(expected)
    assert sorted(exported["sepal.length"]) == sorted(expected["sepal.length"])
    log = task_ui_stack.worker.log_text()
    assert "background_callback_" in log
    assert_no_session_secret(task_page, log)


def background_runs(log: str) -> int:
    """How many background callbacks the worker finished, by its log."""
    return sum(
        1 for line in log.splitlines() if "background_callback_" in line and "succeeded" in line
    )


def assert_no_session_secret(page: Page, log: str) -> None:
    """Neither session cookie's value reached the worker's log."""
    secrets = {c["name"]: c["value"] for c in page.context.cookies()}
    assert {"depictio_access", "depictio_refresh"} <= set(secrets)
    for name in ("depictio_access", "depictio_refresh"):
        value = secrets[name]
        # A JWT's header is the same for every token: look for its own claims.
        fragment = value.split(".")[1][:24] if value.count(".") == 2 else value[:24]
        assert fragment not in log, f"{name} is in the worker's log"


def test_the_editors_live_preview_runs_on_the_worker(
    task_page: Page, task_ui_stack: TaskUiStack
) -> None:
    stack = task_ui_stack.stack
    project_id = task_ui_stack.demos[PENGUINS].project_id
    with httpx.Client(base_url=stack.gateway_url, timeout=30.0) as gateway:
        dashboard_id = blank_dashboard(
            gateway, task_ui_stack.admin_token, project_id, f"Preview {uuid.uuid4().hex[:6]}"
        )
    before = background_runs(task_ui_stack.worker.log_text())
    sign_in(task_page, stack.admin_email, stack.admin_password, f"/dashboard-edit/{dashboard_id}")
    add_component(task_page, "card", "Mean body mass", [("cfg-column", "body_mass_g · numeric")])
    choose(task_page, "cfg-aggregation", "mean")
    mean = round(penguins()["body_mass_g"].mean(), 4)
    expect(task_page.locator("#preview-body .dpt-card-value")).to_have_text(
        f"{mean:,.4f}".rstrip("0").rstrip("."), timeout=TASK_TIMEOUT_MS
    )
    shot(task_page, "editor-preview-on-worker")
    log = task_ui_stack.worker.log_text()
    assert background_runs(log) > before
    assert_no_session_secret(task_page, log)

    # Saved, the dashboard gets its thumbnail in the list (drawn by the worker 2 s later).
    done(task_page, "Mean body mass")
    task_page.click("#editor-save")
    expect(task_page.locator("#editor-saved-as")).to_have_text("Saved as version 2")
    task_page.goto("/dashboards")
    deadline = time.monotonic() + TASK_TIMEOUT_MS / 1000
    while True:
        # The list is drawn by a callback after the page loads: its entry for the dashboard
        # (a picture, or a placeholder until one is drawn) is waited for before it is read.
        task_page.locator(f"#dashboard-thumbnail-{dashboard_id}").wait_for(state="attached")
        if task_page.locator(f"img#dashboard-thumbnail-{dashboard_id}").count():
            break
        assert time.monotonic() < deadline, "no thumbnail in the list after the save"
        time.sleep(2)
        task_page.reload()
    expect_thumbnail(task_page, dashboard_id, "light")
    shot(task_page, "dashboards-list-thumbnail-after-editor-save")
