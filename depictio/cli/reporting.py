"""What the CLI shows: rich progress bars and tables on stderr, or one JSON document on stdout.

With `--json`, nothing but the final JSON document is printed on stdout, so scripts can parse
it; progress is left out and errors are `{"error": …}`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from depictio.cli.failures import CliFailure


class Reporter:
    """Progress and results of one command, for people (rich) or for scripts (`--json`)."""

    def __init__(self, as_json: bool = False, quiet: bool = False) -> None:
        self.as_json = as_json
        # Quiet: nothing at all is shown (for callers that report in their own way).
        self.quiet = quiet
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        self.out = Console(highlight=False, soft_wrap=True)

    def info(self, message: str) -> None:
        """A line for people (left out with --json)."""
        if not (self.as_json or self.quiet):
            self.err.print(message, markup=False)

    def result(self, document: dict[str, Any], lines: Sequence[str] = ()) -> None:
        """The command's outcome: the JSON document, or `lines` for people."""
        if self.quiet:
            return
        if self.as_json:
            sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
            return
        for line in lines:
            self.out.print(line, markup=False)

    def error(self, message: str) -> None:
        if self.as_json:
            sys.stdout.write(json.dumps({"error": message}) + "\n")
        else:
            self.err.print(f"error: {message}", markup=False, style="red")

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """A summary table for people (left out with --json)."""
        if self.as_json or self.quiet:
            return
        table = Table(title=title, title_justify="left")
        for index, column in enumerate(columns):
            table.add_column(column, justify="left" if index == 0 else "right")
        for row in rows:
            table.add_row(*(str(value) for value in row))
        self.out.print(table)

    @contextmanager
    def progress(self) -> Iterator[ProgressBars]:
        """Progress bars (bytes, with throughput) for the block; silent with --json."""
        bars = Progress(
            TextColumn("{task.description:<32}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=self.err,
            disable=self.as_json or self.quiet,
            transient=False,
        )
        with bars:
            yield ProgressBars(bars)


class ProgressBars:
    """Named byte-counting bars with a free-text detail (files, rows)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def add(self, description: str, total_bytes: int, detail: str = "") -> TaskID:
        return self.progress.add_task(description, total=total_bytes or None, detail=detail)

    def advance(self, task: TaskID, nbytes: int, detail: str | None = None) -> None:
        if detail is None:
            self.progress.advance(task, nbytes)
        else:
            self.progress.update(task, advance=nbytes, detail=detail)

    def finish(self, task: TaskID, detail: str) -> None:
        """The bar full: at its total, or, when none was known, at what it counted."""
        bar = self.progress.tasks[task]
        total = bar.total if bar.total is not None else bar.completed
        self.progress.update(task, total=total, completed=total, detail=detail)


@contextmanager
def reported(as_json: bool = False) -> Iterator[Reporter]:
    """A command's reporter; a CliFailure ends the command with its message and exit code."""
    reporter = Reporter(as_json)
    try:
        yield reporter
    except CliFailure as failure:
        reporter.error(failure.message)
        raise typer.Exit(failure.exit_code) from failure
