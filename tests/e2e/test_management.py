"""The Management app in a browser: signing in and out, projects, members, dashboards, API
tokens, users, and what viewers, editors and non-admins are not offered.

Every test signs in afresh in a browser context of its own; a test covers what one person does
in one sitting, since each fresh context loads the UI's scripts anew."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from .accounts import register
from .browser import shot, sign_in
from .conftest import People, UiStack

pytestmark = pytest.mark.timeout(180)

IRIS_CSV = Path(__file__).resolve().parents[2] / "deploy" / "demo" / "iris" / "iris.csv"
# Arrow's names of the types pandas infers for a CSV column, by dtype kind.
ARROW_TYPES = {"f": "double", "i": "int64", "b": "bool", "O": "string"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_sign_in_refuses_a_wrong_password_then_lists_both_demo_projects(
    page: Page, people: People, ui_stack: UiStack
) -> None:
    page.goto("/")
    expect(page.locator("#sign-in-email")).to_be_visible()
    page.fill("#sign-in-email", people.admin.email)
    page.fill("#sign-in-password", "not-the-password")
    page.click("#sign-in-submit")
    expect(page.locator("#auth-error")).to_contain_text("invalid e-mail or password")
    expect(page.locator("#current-user")).to_have_count(0)
    shot(page, "sign-in-refused")
    # A link cannot make the page say what it likes: only errors the server signed show.
    page.goto("/login?error=Your+account+is+locked%2C+call+%2B1+555+0100")
    expect(page.locator("#sign-in-email")).to_be_visible()
    expect(page.locator("#auth-error")).to_have_count(0)

    page.fill("#sign-in-email", people.admin.email)
    page.fill("#sign-in-password", people.admin.password)
    page.click("#sign-in-submit")
    expect(page.locator("#current-user")).to_have_text(people.admin.email)
    assert urlparse(page.url).path == "/"
    for project, name, kind, collections in (
        (ui_stack.iris, "Iris (demo)", "basic", "1"),
        (ui_stack.penguins, "Palmer penguins (demo)", "advanced", "3"),
    ):
        cells = page.locator(f"#project-row-{project.project_id} td")
        expect(cells).to_have_text([name, kind, "public", "owner", collections], ignore_case=True)
    shot(page, "projects")


def test_a_sign_in_form_posted_from_another_site_is_refused(
    people: People, ui_stack: UiStack
) -> None:
    form = {"email": people.admin.email, "password": people.admin.password, "next": "/"}
    ui = urlparse(ui_stack.ui_url)
    with httpx.Client(base_url=ui_stack.ui_url, timeout=30) as client:
        for path in ("/auth/login", "/auth/register", "/auth/logout"):
            forged = client.post(path, data=form, headers={"Origin": "https://evil.example"})
            assert forged.status_code == 403, (path, forged.text)
            assert "set-cookie" not in forged.headers, path
        sandboxed = client.post("/auth/login", data=form, headers={"Origin": "null"})
        assert sandboxed.status_code == 403
        own = client.post(
            "/auth/login", data=form, headers={"Origin": f"{ui.scheme}://{ui.netloc}"}
        )
        assert own.status_code == 303 and own.headers["location"] == "/"
        assert "depictio_access" in own.headers.get("set-cookie", ""), own.headers


def test_project_page_shows_the_iris_table_and_lets_the_owner_manage_members(
    page: Page, people: People, ui_stack: UiStack, gateway: httpx.Client, admin_token: str
) -> None:
    expected = pd.read_csv(IRIS_CSV)
    project = gateway.get(
        f"/api/v1/projects/{ui_stack.iris.project_id}", headers=bearer(admin_token)
    ).json()
    (dc,) = project["data_collections"]
    newcomer = register(gateway, "newcomer")

    sign_in(page, people.admin.email, people.admin.password, "/projects")
    page.click(f"#project-link-{project['id']}")
    expect(page.locator("#project-title")).to_have_text("Iris (demo)")
    expect(page.locator(f"#dc-rows-{dc['id']}")).to_have_text(f"{len(expected):,}")
    for column, dtype in expected.dtypes.items():
        cells = page.locator(f'[id="dc-column-{dc["id"]}-{column}"] td')
        expect(cells).to_have_text([str(column), ARROW_TYPES[dtype.kind]])
    expect(page.locator("#runs-table tr", has_text="default")).to_contain_text("demo/iris")
    shot(page, "project-iris")

    page.fill("#new-member-email", "nobody-registered@example.org")
    page.click("#new-member-add")
    expect(page.locator("#project-feedback")).to_contain_text("no user with the e-mail")
    page.fill("#new-member-email", newcomer.email)
    page.click("#new-member-add")
    expect(page.locator("#project-feedback")).to_contain_text(f"{newcomer.email} is now viewer")
    member = page.locator(f"#member-row-{newcomer.user_id}")
    member.locator("input").first.click()
    page.get_by_role("option", name="editor", exact=True).click()
    expect(page.locator("#project-feedback")).to_contain_text(f"{newcomer.email} is now editor")
    members = gateway.get(
        f"/api/v1/projects/{project['id']}/members", headers=bearer(admin_token)
    ).json()["items"]
    assert {"user_id": newcomer.user_id, "email": newcomer.email, "role": "editor"} in members

    member.get_by_role("button", name="Remove").click()
    expect(page.locator("#project-feedback")).to_contain_text(f"{newcomer.email} was removed")
    expect(member).to_have_count(0)


def test_editor_creates_duplicates_publishes_and_deletes_dashboards_of_their_project(
    page: Page, people: People, ui_stack: UiStack
) -> None:
    title = f"Made in the browser {uuid.uuid4().hex[:6]}"
    sign_in(page, people.editor.email, people.editor.password, "/dashboards")
    iris, penguins = ui_stack.iris.dashboard_id, ui_stack.penguins.dashboard_id
    expect(page.locator(f"#edit-dashboard-{iris}")).to_have_attribute(
        "href", f"/dashboard-edit/{iris}"
    )
    expect(page.locator(f"#open-dashboard-{penguins}")).to_have_attribute(
        "href", f"/dashboard/{penguins}"
    )
    expect(page.locator(f"#edit-dashboard-{penguins}")).to_have_count(0)
    expect(page.locator(f"#dashboard-row-{penguins}").get_by_role("button")).to_have_count(0)

    page.fill("#new-dashboard-title", title)
    page.click("#new-dashboard-create")
    expect(page.locator("#dashboards-feedback")).to_contain_text(f"Created “{title}”")
    created = page.locator("tr", has_text=title)
    expect(created.locator("td").nth(2)).to_have_text("Iris (demo)")
    expect(created.locator("td").nth(3)).to_have_text("private", ignore_case=True)
    expect(page.locator("#new-dashboard-title")).to_have_value("")

    created.get_by_role("button", name="Duplicate").click()
    copy = page.locator("tr", has_text=f"{title} (copy)")
    expect(copy).to_have_count(1)

    copy.get_by_role("button", name="Make public").click()
    expect(page.locator("#dashboards-feedback")).to_contain_text("is now public")
    expect(copy.locator("td").nth(3)).to_have_text("public", ignore_case=True)
    expect(copy.locator("td").nth(4)).to_have_text("2")
    shot(page, "dashboards-after-toggle")

    copy.get_by_role("button", name="Delete").click()
    expect(page.locator("#delete-dashboard-question")).to_contain_text(f"{title} (copy)")
    page.click("#delete-dashboard-cancel")
    expect(page.locator("#delete-dashboard-question")).to_be_hidden()
    expect(copy).to_have_count(1)
    copy.get_by_role("button", name="Delete").click()
    page.click("#delete-dashboard-confirm")
    expect(page.locator("#dashboards-feedback")).to_contain_text(f"Deleted “{title} (copy)”")
    expect(copy).to_have_count(0)
    expect(page.locator("tr", has_text=title)).to_have_count(1)


def test_api_token_secret_is_shown_once_and_revoking_it_locks_the_gateway_out(
    page: Page, gateway: httpx.Client
) -> None:
    account = register(gateway, "tokens")
    sign_in(page, account.email, account.password, "/tokens")
    page.fill("#token-name", "laptop")
    page.fill("#token-expiry-days", "30")
    page.click("#token-create")
    expect(page.locator("#token-secret-alert")).to_contain_text("only time")
    secret = page.locator("#token-secret-value").inner_text()
    assert secret.startswith("dpt_")
    shot(page, "token-created")
    assert gateway.get("/api/v1/auth/me", headers=bearer(secret)).json()["email"] == account.email

    page.reload()
    laptop = page.locator("tr", has_text="laptop")
    expect(laptop).to_have_count(1)
    expect(page.locator("#token-secret-value")).to_have_count(0)
    assert secret not in page.content()

    laptop.get_by_role("button", name="Revoke").click()
    expect(page.locator("#tokens-feedback")).to_contain_text("Revoked")
    expect(laptop).to_contain_text("revoked")
    assert gateway.get("/api/v1/auth/me", headers=bearer(secret)).status_code == 401


def test_admin_promotes_and_demotes_and_sees_the_last_admin_refusal(
    page: Page, people: People, gateway: httpx.Client
) -> None:
    promoted = register(gateway, "promoted")
    sign_in(page, people.admin.email, people.admin.password, "/admin")
    status = page.locator(f"#user-status-{promoted.user_id}")
    expect(status).not_to_contain_text("admin")
    page.locator(f"#user-row-{promoted.user_id}").get_by_role("button", name="Make admin").click()
    expect(page.locator("#admin-feedback")).to_contain_text(f"{promoted.email} is now an admin")
    expect(status).to_contain_text("admin")

    page.locator(f"#user-row-{promoted.user_id}").get_by_role("button", name="Demote").click()
    expect(page.locator("#admin-feedback")).to_contain_text("is no longer an admin")
    expect(status).not_to_contain_text("admin")

    page.locator(f"#user-row-{people.admin.user_id}").get_by_role("button", name="Demote").click()
    expect(page.locator("#admin-feedback")).to_contain_text("Refused")
    expect(page.locator("#admin-feedback")).to_contain_text("last admin")
    expect(page.locator(f"#user-status-{people.admin.user_id}")).to_contain_text("admin")
    shot(page, "admin-last-admin-refused")


def test_viewer_is_offered_no_changes(page: Page, people: People, ui_stack: UiStack) -> None:
    sign_in(page, people.viewer.email, people.viewer.password, "/dashboards")
    iris = ui_stack.iris.dashboard_id
    expect(page.locator(f"#open-dashboard-{iris}")).to_have_attribute("href", f"/dashboard/{iris}")
    expect(page.locator(f"#edit-dashboard-{iris}")).to_have_count(0)
    expect(page.locator("#dashboards-table").get_by_role("button")).to_have_count(0)
    expect(page.locator("#new-dashboard-create")).to_have_count(0)
    shot(page, "dashboards-viewer")

    page.goto(f"/projects/{ui_stack.iris.project_id}")
    expect(page.locator("#project-role")).to_have_text("Your role: viewer")
    expect(page.locator(f"#member-row-{people.viewer.user_id}")).to_contain_text("viewer")
    expect(page.locator("#project-access").get_by_role("button")).to_have_count(0)
    expect(page.locator("#project-access").locator("input")).to_have_count(0)


def test_non_admin_gets_no_access_at_admin_and_signing_out_ends_the_session(
    page: Page, people: People
) -> None:
    sign_in(page, people.outsider.email, people.outsider.password, "/admin")
    expect(page.locator("#message-page")).to_contain_text("No access")
    expect(page.locator("#nav-admin")).to_have_count(0)
    expect(page.locator("#users-table")).to_have_count(0)

    page.click("#sign-out")
    expect(page.locator("#sign-in-email")).to_be_visible()
    session = {"depictio_access", "depictio_refresh"}
    assert not [cookie for cookie in page.context.cookies() if cookie["name"] in session]
    page.goto("/")
    expect(page.locator("#sign-in-email")).to_be_visible()
    expect(page.locator("#current-user")).to_have_count(0)
