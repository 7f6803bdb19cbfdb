"""`depictio project validate` (offline) and `depictio project sync`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from depictio.cli.account_commands import JsonOption, UrlOption
from depictio.cli.credentials import resolve
from depictio.cli.gateway_api import GatewayApi
from depictio.cli.project_files import ProjectFile, load_project_file, project_plan
from depictio.cli.reporting import Reporter, reported

project_app = typer.Typer(help="Project configs (Depictio project.yaml).", no_args_is_help=True)
ConfigArgument = Annotated[Path, typer.Argument(help="The project.yaml.", dir_okay=False)]


@project_app.command("validate")
def validate(file: ConfigArgument, as_json: JsonOption = False) -> None:
    """Check a project.yaml offline: every problem is named by its field path."""
    with reported(as_json) as reporter:
        project_file = load_project_file(file)
        plan = project_plan(project_file, None)
        dcs = plan.data_collections()
        reporter.result(
            {
                "file": str(project_file.path),
                "name": plan.name,
                "valid": True,
                "workflows": [w.name for w in plan.workflows if w.name],
                "data_collections": [dc.label for dc in dcs],
                "joins": [j.name for j in plan.joins],
            },
            [
                f"{file}: valid — project {plan.name!r}, "
                f"{sum(1 for w in plan.workflows if w.name)} workflow(s), "
                f"{len(dcs)} data collection(s), {len(plan.joins)} join(s)"
            ],
        )


def sync_project_file(api: GatewayApi, project_file: ProjectFile, reporter: Reporter) -> Any:
    """Creates or updates the project on the server from the file: the synced project."""
    synced = api.sync_project(project_file.document)
    state = "created" if synced["created"] else "updated" if synced["changed"] else "unchanged"
    reporter.info(f"project {synced['name']!r} {state} (id {synced['id']})")
    return synced


@project_app.command("sync")
def sync(file: ConfigArgument, url: UrlOption = None, as_json: JsonOption = False) -> None:
    """Create or update the project on the server (ids are kept)."""
    with reported(as_json) as reporter:
        project_file = load_project_file(file)
        with GatewayApi(resolve(url)) as api:
            synced = sync_project_file(api, project_file, reporter)
        reporter.result(
            {
                "id": synced["id"],
                "name": synced["name"],
                "created": synced["created"],
                "changed": synced["changed"],
            },
            [f"{synced['name']}: {synced['id']}"],
        )
