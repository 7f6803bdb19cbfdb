"""Running the real `depictio` console script against a running stack, and reading back what
the server holds (through the gateway), for the CLI tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa

SCRIPT = Path(sys.executable).parent / "depictio"
DEMO = Path(__file__).resolve().parents[1] / "deploy" / "demo"
COMMAND_TIMEOUT = 300


@dataclass
class Cli:
    """The console script with its own config dir, signed in (or not) to one gateway."""

    gateway_url: str
    config_home: Path
    token: str = ""

    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEPICTIO_")}
        env.update({"XDG_CONFIG_HOME": str(self.config_home), "DEPICTIO_URL": self.gateway_url})
        if self.token:
            env["DEPICTIO_TOKEN"] = self.token
        env.update(overrides)
        return env

    def __call__(
        self, *args: str, stdin: str = "", cwd: Path | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPT), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env(**env),
            cwd=cwd,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )

    def ok_json(self, *args: str, **env: str) -> dict[str, Any]:
        """The JSON document of a command that must succeed."""
        done = self(*args, "--json", **env)
        assert done.returncode == 0, f"{args}: rc {done.returncode}\n{done.stdout}\n{done.stderr}"
        return dict(json.loads(done.stdout))


def api_token(gateway_url: str, email: str, password: str) -> str:
    """A new API token of the account."""
    with httpx.Client(base_url=gateway_url, timeout=30) as client:
        login = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        login.raise_for_status()
        access = login.json()["access_token"]
        created = client.post(
            "/api/v1/auth/tokens",
            json={"name": "cli tests"},
            headers={"authorization": f"Bearer {access}"},
        )
        created.raise_for_status()
        return str(created.json()["secret"])


def copy_demo(name: str, destination: Path, project_name: str) -> Path:
    """A copy of a demo project (its files may be changed) under a name of its own: the
    project.yaml's path."""
    folder = destination / name
    shutil.copytree(DEMO / name, folder)
    config = folder / "project.yaml"
    text = config.read_text()
    lines = [
        f'name: "{project_name}"' if line.startswith("name:") else line
        for line in text.splitlines()
    ]
    config.write_text("\n".join(lines) + "\n")
    return config


class Server:
    """What the gateway says about projects, tables, runs and files (as one token)."""

    def __init__(self, gateway_url: str, token: str) -> None:
        self.http = httpx.Client(
            base_url=gateway_url, timeout=60, headers={"authorization": f"Bearer {token}"}
        )

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        return response.json()

    def project(self, name: str) -> dict[str, Any]:
        for item in self.get("/api/v1/projects", page_size=500)["items"]:
            if item["name"] == name:
                return dict(self.get(f"/api/v1/projects/{item['id']}"))
        raise AssertionError(f"no project {name!r}")

    def has_project(self, name: str) -> bool:
        return any(
            item["name"] == name for item in self.get("/api/v1/projects", page_size=500)["items"]
        )

    def dc_id(self, project: dict[str, Any], tag: str) -> str:
        dcs = list(project["data_collections"]) + [
            dc for workflow in project["workflows"] for dc in workflow["data_collections"]
        ]
        return next(str(dc["id"]) for dc in dcs if dc["data_collection_tag"] == tag)

    def rows(self, dc_id: str) -> pa.Table:
        response = self.http.get(f"/api/v1/datacollections/{dc_id}/rows")
        assert response.status_code == 200, response.text
        return pa.ipc.open_stream(pa.BufferReader(response.content)).read_all()

    def version(self, dc_id: str) -> int | None:
        """The table's newest version; None while it has no table."""
        response = self.http.get(f"/api/v1/datacollections/{dc_id}/versions")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return int(response.json()[0]["version"])

    def runs(self, project_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"/api/v1/projects/{project_id}/runs", page_size=500)["items"])

    def files(self, project_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"/api/v1/projects/{project_id}/files", page_size=500)["items"])

    def query(self, dc_id: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        response = self.http.post(f"/api/v1/datacollections/{dc_id}/query", json=body)
        assert response.status_code == 200, response.text
        return list(response.json()["results"])

    def close(self) -> None:
        self.http.close()
