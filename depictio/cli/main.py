"""The `depictio` console script."""

from __future__ import annotations

from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated

import typer

from depictio.cli.account_commands import login, logout, whoami
from depictio.cli.dashboard_commands import dashboard_app
from depictio.cli.data_commands import data_app, run
from depictio.cli.project_commands import project_app

app = typer.Typer(
    name="depictio",
    help="Depictio: interactive dashboards from the outputs of bioinformatics workflows.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(login)
app.command()(logout)
app.command()(whoami)
app.add_typer(project_app, name="project")
app.add_typer(data_app, name="data")
app.command()(run)
app.add_typer(dashboard_app, name="dashboard")


@app.command()
def up(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Where the embedded defaults keep state (default: DEPICTIO_DATA_DIR or "
            "./.depictio).",
            file_okay=False,
        ),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option("--demo", help="Load the demo projects (iris, penguins) with dashboards."),
    ] = False,
) -> None:
    """Run every service on this machine until Ctrl-C."""
    # Imported here: the supervisor's gRPC imports would slow every other command's start.
    from depictio.cli.up import run_up

    raise typer.Exit(run_up(data_dir, demo))


@app.command()
def version() -> None:
    """Print the installed version."""
    typer.echo(f"depictio {package_version('depictio')}")


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
