"""`depictio.ingest_project` on a real worker: a project whose files are on the server is
ingested through the gateway with the task's token; files outside the projects directory are
refused."""

from __future__ import annotations

import io
import shutil
import uuid
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml
from conftest import Stack
from metadata_support import new_user
from task_support import running_worker, wait_for_task

from depictio.cli.credentials import Credentials
from depictio.cli.gateway_api import GatewayApi
from depictio.cli.project_files import load_project_file

pytestmark = pytest.mark.timeout(240)
IRIS = Path(__file__).parents[2] / "deploy" / "demo" / "iris"


def iris_project(folder: Path) -> Path:
    """A copy of the iris demo under `folder`, with a name of its own."""
    folder.mkdir(parents=True)
    shutil.copy(IRIS / "iris.csv", folder / "iris.csv")
    config = yaml.safe_load((IRIS / "project.yaml").read_text())
    config["name"] = f"Iris {uuid.uuid4().hex[:8]}"
    config["is_public"] = False
    path = folder / "project.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def synced_project(stack: Stack, token: str, project_file: Path) -> str:
    """Creates the project from its file (as the CLI's `project sync` would): its id."""
    with GatewayApi(Credentials(url=stack.gateway_url, token=token)) as api:
        return str(api.sync_project(load_project_file(project_file).document)["id"])


def ingest(gateway: httpx.Client, token: str, project_id: str, path: Path) -> str:
    response = gateway.post(
        f"/api/v1/projects/{project_id}/ingest",
        json={"project_file": str(path)},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 202, response.text
    task_id: str = response.json()["task_id"]
    return task_id


def test_a_project_on_the_server_is_ingested_by_the_worker(
    task_stack: Stack, gateway: httpx.Client, tmp_path: Path
) -> None:
    root = tmp_path / "projects"
    project_file = iris_project(root / "iris")
    outside_file = iris_project(tmp_path / "elsewhere")
    _, _, token = new_user(task_stack, "ingester")
    project_id = synced_project(task_stack, token, project_file)
    with running_worker(
        task_stack.env, tmp_path / "worker.log", DEPICTIO_SERVER_PROJECTS_DIR=str(root)
    ):
        task_id = ingest(gateway, token, project_id, project_file)
        record = wait_for_task(gateway, token, task_id, timeout=120)
        refused_id = ingest(gateway, token, project_id, outside_file)
        refused = wait_for_task(gateway, token, refused_id)
    assert record["state"] == "succeeded", record
    result = record["result"]
    expected = pd.read_csv(IRIS / "iris.csv")
    assert result["project"]["id"] == project_id
    assert [(c["data_collection"], c["rows"]) for c in result["commits"]] == [
        ("iris_table", len(expected))
    ]
    assert result["files"] == {"added": 1}
    rows = gateway.get(
        f"/api/v1/datacollections/{_dc_id(gateway, token, project_id)}/rows",
        params={"format": "csv", "columns": ",".join(expected.columns)},
        headers={"Authorization": f"Bearer {token}"},
    )
    got = pd.read_csv(io.BytesIO(rows.content))
    pd.testing.assert_frame_equal(
        got.sort_values(list(got.columns)).reset_index(drop=True),
        expected.sort_values(list(expected.columns)).reset_index(drop=True),
    )
    assert refused["state"] == "failed"
    assert refused["error"] == (
        f"depictio.ingest_project failed: project file {outside_file} is outside "
        f"{root.resolve()}, the server's projects directory"
    )


def _dc_id(gateway: httpx.Client, token: str, project_id: str) -> str:
    project = gateway.get(
        f"/api/v1/projects/{project_id}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    return str(project["data_collections"][0]["id"])
