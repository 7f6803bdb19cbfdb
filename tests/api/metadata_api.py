"""REST calls the project and dashboard API tests share: projects with members, dashboards."""

from __future__ import annotations

from typing import Any

import httpx
from metadata_support import unique_config

from .gateway_client import bearer

PROJECTS = "/api/v1/projects"
DASHBOARDS = "/api/v1/dashboards"
YAML = {"content-type": "application/yaml"}


def create_project(
    client: httpx.Client, token: str, fixture: str, **overrides: Any
) -> dict[str, Any]:
    """A project from a fixture config (unique name and ids), created by the token's holder."""
    response = client.post(
        PROJECTS, content=unique_config(fixture, **overrides), headers={**bearer(token), **YAML}
    )
    assert response.status_code == 201, response.text
    project: dict[str, Any] = response.json()
    return project


def add_member(client: httpx.Client, token: str, project_id: str, email: str, role: str) -> None:
    response = client.put(
        f"{PROJECTS}/{project_id}/members",
        json={"email": email, "role": role},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text


def card_document(
    title: str = "Harvest", is_public: bool = True, column: str = "cultivar"
) -> dict[str, Any]:
    """A small dashboard on the basic fixture's `plants` data collection."""
    return {
        "title": title,
        "is_public": is_public,
        "tabs": [
            {
                "id": "main",
                "title": "Main",
                "components": [
                    {
                        "type": "card",
                        "id": "cultivars",
                        "title": "Cultivars",
                        "data": {"data_collection": "plants"},
                        "column": column,
                        "aggregation": "nunique",
                    },
                    {"type": "text", "id": "notes", "content": "Harvest *2024*"},
                ],
                "layout": [
                    {"i": "cultivars", "x": 0, "y": 0, "w": 4, "h": 3},
                    {"i": "notes", "x": 4, "y": 0, "w": 8, "h": 3},
                ],
            }
        ],
    }


def create_dashboard(
    client: httpx.Client, token: str, project_id: str, **document: Any
) -> dict[str, Any]:
    response = client.post(
        DASHBOARDS,
        json={"project_id": project_id, "document": card_document(**document)},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text
    dashboard: dict[str, Any] = response.json()
    return dashboard
