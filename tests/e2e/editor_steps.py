"""Steps of the Editor's browser tests: a blank dashboard to start from, the add-component
stepper driven as a person would, and the penguins table the demo's join builds (pandas)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd
from playwright.sync_api import Page, expect

RUNS = Path(__file__).resolve().parents[2] / "deploy" / "demo" / "penguins" / "runs"
SOURCE = "penguins_pipeline / penguins_complete"


def penguins() -> pd.DataFrame:
    """penguins_complete as the demo's join builds it: features ⋈ demographics on the id."""
    features = pd.concat(pd.read_csv(p) for p in sorted(RUNS.glob("*/physical_features.csv")))
    people = pd.concat(pd.read_csv(p) for p in sorted(RUNS.glob("*/demographic_data.csv")))
    return features.merge(people, on="individual_id", how="inner")


def blank_dashboard(gateway: httpx.Client, token: str, project_id: str, title: str) -> str:
    document = {"title": title, "tabs": [{"id": "main", "title": "Main"}]}
    response = gateway.post(
        "/api/v1/dashboards",
        json={"project_id": project_id, "document": document},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def choose(page: Page, field: str, option: str) -> None:
    """Picks an option of a Mantine select by its label."""
    page.click(f"#{field}")
    page.get_by_role("option", name=option, exact=True).click()


def offered(page: Page, field: str) -> list[str]:
    """The options a Mantine select offers now."""
    page.click(f"#{field}")
    names = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return names


def add_component(page: Page, kind: str, title: str, fields: list[tuple[str, str]]) -> None:
    """Runs the stepper: data, type, then each (field, option) and the title."""
    page.click("#add-component")
    expect(page.locator("#stepper-source")).to_be_visible()
    choose(page, "stepper-source", SOURCE)
    expect(page.locator("#stepper-schema-table")).to_contain_text("body_mass_g")
    page.click("#stepper-next")
    page.click(f"#stepper-type-{kind}")
    page.click("#stepper-next")
    page.fill("#cfg-title", title)
    for field, option in fields:
        choose(page, field, option)


def done(page: Page, title: str) -> None:
    page.click("#stepper-done")
    expect(page.locator(".dpt-editor-cell", has_text=title)).to_be_visible()
