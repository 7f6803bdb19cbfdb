"""`depictio up --demo`: the demo projects under deploy/demo ingested and their dashboards
imported, as the first admin, through the gateway like any CLI user. Loading twice changes
nothing (unchanged files are skipped, a dashboard with the same title is not imported again).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from depictio.cli.credentials import Credentials
from depictio.cli.data_commands import ingest_project
from depictio.cli.gateway_api import GatewayApi
from depictio.cli.project_files import load_project_file
from depictio.cli.reporting import Reporter
from depictio.config import AuthMode, Settings
from depictio.dashboards.yaml_format import import_yaml

DEMO_DIR = Path(__file__).resolve().parents[2] / "deploy" / "demo"


@dataclass(frozen=True)
class DemoLoaded:
    """One demo project on the server."""

    name: str
    project_id: str
    rows: int
    dashboard_id: str


def admin_token(api: GatewayApi, settings: Settings, password: str) -> str:
    """An access token of the first admin ('' in single-user mode, where none is needed)."""
    if settings.auth_mode is AuthMode.SINGLE_USER:
        return ""
    return api.login(settings.admin_email, password)


def load_demo(
    gateway_url: str, settings: Settings, admin_password: str, demo_dir: Path = DEMO_DIR
) -> list[DemoLoaded]:
    """Ingests every deploy/demo/*/project.yaml and imports its dashboard.yaml."""
    with GatewayApi(Credentials(url=gateway_url, token="")) as anonymous:
        token = admin_token(anonymous, settings, admin_password)
    loaded = []
    quiet = Reporter(quiet=True)
    with GatewayApi(Credentials(url=gateway_url, token=token)) as api:
        for config in sorted(demo_dir.glob("*/project.yaml")):
            project_file = load_project_file(config)
            outcome, _, _ = ingest_project(api, project_file, False, quiet)
            project_id = outcome.plan.id
            dashboard_id = ""
            dashboard = config.with_name("dashboard.yaml")
            if dashboard.exists():
                dashboard_id = import_once(api, dashboard, project_id)
            rows = sum(
                int((api.schema(dc.id) or {}).get("rows", 0))
                for dc in outcome.plan.data_collections()
                if dc.source == "native"
            )
            loaded.append(DemoLoaded(project_file.config.name, project_id, rows, dashboard_id))
    return loaded


def import_once(api: GatewayApi, dashboard: Path, project_id: str) -> str:
    """The id of the project's dashboard with the YAML's title, imported if there is none."""
    text = dashboard.read_text(encoding="utf-8")
    title = import_yaml(text).title
    for existing in api.pages("/api/v1/dashboards", project_id=project_id):
        if existing["title"] == title:
            return str(existing["id"])
    return str(api.import_dashboard(text, project_id)["id"])
