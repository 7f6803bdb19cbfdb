"""`depictio dashboard validate|import|export`: dashboards as YAML files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from depictio.cli.account_commands import JsonOption, UrlOption
from depictio.cli.credentials import resolve
from depictio.cli.failures import CliFailure
from depictio.cli.gateway_api import GatewayApi
from depictio.cli.reporting import reported
from depictio.errors import InvalidArgument

dashboard_app = typer.Typer(help="Dashboards as YAML.", no_args_is_help=True)
YamlArgument = Annotated[Path, typer.Argument(help="The dashboard YAML.", dir_okay=False)]


def parse_dashboard_yaml(text: str) -> Any:
    """The dashboard YAML checked offline (the models are imported only by dashboard commands:
    building them slows every command's start)."""
    from depictio.dashboards.yaml_format import import_yaml

    return import_yaml(text)


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliFailure(f"{path}: cannot read it ({exc})") from exc


def checked_yaml(path: Path) -> str:
    """The file's text once it passes the offline checks of the dashboard format."""
    text = read_text(path)
    try:
        parse_dashboard_yaml(text)
    except InvalidArgument as exc:
        raise CliFailure(f"{path}: {exc}") from exc
    return text


@dashboard_app.command("validate")
def validate(file: YamlArgument, as_json: JsonOption = False) -> None:
    """Check a dashboard YAML offline (format, ids, layout, filter sections)."""
    with reported(as_json) as reporter:
        document = parse_dashboard_yaml(checked_yaml(file))
        components = sum(len(tab.components) for tab in document.tabs)
        reporter.result(
            {"file": str(file), "valid": True, "title": document.title, "components": components},
            [f"{file}: valid — {document.title!r}, {components} component(s)"],
        )


@dashboard_app.command("import")
def import_dashboard(
    file: YamlArgument,
    project_id: Annotated[
        str, typer.Option("--project-id", help="Project to import into (default: the YAML's).")
    ] = "",
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a dashboard from YAML (checked offline, then against the project's data)."""
    with reported(as_json) as reporter:
        text = checked_yaml(file)
        with GatewayApi(resolve(url)) as api:
            created = api.import_dashboard(text, project_id)
        reporter.result(
            {"id": created["id"], "project_id": created["project_id"], "title": created["title"]},
            [f"imported {created['title']!r} as dashboard {created['id']}"],
        )


@dashboard_app.command("export")
def export_dashboard(
    dashboard_id: Annotated[str, typer.Argument(help="The dashboard's id.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    url: UrlOption = None,
) -> None:
    """Write a dashboard as YAML."""
    with reported(False) as reporter:
        with GatewayApi(resolve(url)) as api:
            text = api.export_dashboard(dashboard_id)
        if output is None:
            typer.echo(text, nl=False)
            return
        output.write_text(text, encoding="utf-8")
        reporter.info(f"dashboard {dashboard_id} written to {output}")
