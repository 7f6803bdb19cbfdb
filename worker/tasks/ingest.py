"""`depictio.ingest_project`: server-side ingestion of a project whose files are on the server.

The same pipeline as `depictio run FILE` (validate, sync, scan, process, join), talking to the
gateway with the task's token. Project files and the data they point at must lie under
`settings.server_projects_root`, so that a project editor cannot make the server read files
elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from depictio.cli.credentials import Credentials
from depictio.cli.data_commands import ingest_project
from depictio.cli.failures import CliFailure
from depictio.cli.gateway_api import GatewayApi
from depictio.cli.local_scan import ScannedRun, scan_project
from depictio.cli.project_files import ProjectFile, load_project_file, project_plan
from depictio.cli.reporting import Reporter
from depictio.cli.supervisor import gateway_url
from depictio.tasks.celery_app import celery_app
from depictio.tasks.names import INGEST
from worker.task_base import DepictioTask


class IngestRefused(CliFailure):
    """The project file or its data cannot be ingested by the server."""


def require_under(root: Path, path: Path, what: str) -> None:
    """Refuses `path` unless it resolves (symbolic links followed) inside `root`."""
    if not path.resolve().is_relative_to(root):
        raise IngestRefused(f"{what} {path} is outside {root}, the server's projects directory")


def require_scanned_under(root: Path, runs: list[ScannedRun]) -> None:
    for run in runs:
        require_under(root, run.location, f"run folder {run.run_tag!r}")
        for file in run.files:
            require_under(root, file.path, "data file")


def require_same_project(api: GatewayApi, project_file: ProjectFile, project_id: str) -> None:
    """Refuses a project file describing another project than `project_id`."""
    config = project_file.config
    if config.id and config.id != project_id:
        raise IngestRefused(f"{project_file.path}: describes project {config.id}, not {project_id}")
    if not config.id:
        name = str(api.get_project(project_id)["name"])
        if config.name != name:
            raise IngestRefused(
                f"{project_file.path}: describes project {config.name!r}, not {name!r} "
                f"({project_id})"
            )


@celery_app.task(base=DepictioTask, bind=True, name=INGEST)
def ingest(
    self: DepictioTask, project_id: str, project_file: str, overwrite: bool = False
) -> dict[str, Any]:
    """Ingests the project `project_file` describes (which must be project `project_id`)."""
    settings = self.settings
    root = settings.server_projects_root
    path = Path(project_file)
    require_under(root, path, "project file")
    self.progress(0.0, "validating the project file")
    loaded = load_project_file(path)
    scanned = scan_project(project_plan(loaded, None))
    require_scanned_under(root, scanned)
    credentials = Credentials(url=gateway_url(settings), token=self.task_token)
    with GatewayApi(credentials) as api:
        require_same_project(api, loaded, project_id)
        outcome, work, joins = ingest_project(
            api, loaded, overwrite, Reporter(quiet=True), scanned=scanned, on_step=self.progress
        )
    return {
        "project": {"id": outcome.plan.id, "name": outcome.plan.name},
        "files": dict(outcome.counts()),
        "commits": [
            {
                "data_collection": item.dc.label,
                "runs": item.runs,
                "files": len(item.files),
                "rows": item.written.get("rows", 0) if item.written else 0,
                "version": item.written.get("version") if item.written else None,
            }
            for item in work
        ],
        "joins": [{"name": j.name, "rows": j.rows, "version": j.version} for j in joins],
    }
