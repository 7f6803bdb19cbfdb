"""A small table made for a test: a new project whose one table has three commits."""

from __future__ import annotations

import uuid

import httpx


def three_commit_table(gateway_url: str, owner_token: str) -> tuple[str, str]:
    """(project id, data collection id) of a new project whose table has three small commits
    (three files for Optimize to compact)."""
    headers = {"Authorization": f"Bearer {owner_token}"}
    config = (
        f"name: 'Maintenance {uuid.uuid4().hex[:8]}'\nproject_type: basic\n"
        "data_collections:\n  - data_collection_tag: readings\n    config:\n"
        "      type: table\n"
        "      scan: {mode: single, scan_parameters: {filename: readings.csv}}\n"
        "      dc_specific_properties: {format: csv}\n"
    )
    with httpx.Client(base_url=gateway_url, timeout=30.0) as gateway:
        project = gateway.post(
            "/api/v1/projects",
            content=config,
            headers={**headers, "Content-Type": "application/yaml"},
        )
        assert project.status_code == 201, project.text
        dc_id = str(project.json()["data_collections"][0]["id"])
        for run in range(3):
            csv = "site,value\n" + "".join(f"s{run},{run * 10 + i}\n" for i in range(5))
            uploaded = gateway.post(
                f"/api/v1/datacollections/{dc_id}/upload",
                params={"run_id": f"run_{run}", "mode": "append"},
                content=csv,
                headers={**headers, "Content-Type": "text/csv"},
            )
            assert uploaded.status_code in (200, 201), uploaded.text
    return str(project.json()["id"]), dc_id
