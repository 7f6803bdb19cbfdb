"""The CLI's progress bars end full, also those whose size was not known in advance."""

from __future__ import annotations

import io

from rich.console import Console
from rich.progress import DownloadColumn, Progress

from depictio.cli.reporting import ProgressBars


def bars_to_text() -> tuple[ProgressBars, Console]:
    console = Console(file=io.StringIO(), width=120, force_terminal=False)
    return ProgressBars(Progress(DownloadColumn(), console=console, auto_refresh=False)), console


def test_a_bar_of_unknown_size_ends_at_what_it_counted() -> None:
    bars, console = bars_to_text()
    task = bars.add("uploading", 0)
    bars.advance(task, 3_000_000)
    bars.advance(task, 2_000_000, "halfway")
    bars.finish(task, "done")
    shown = bars.progress.tasks[task]
    assert (shown.completed, shown.total, shown.fields["detail"]) == (5_000_000, 5_000_000, "done")
    console.print(bars.progress)
    assert "5.0/5.0 MB" in console.file.getvalue()  # type: ignore[attr-defined]


def test_a_bar_of_known_size_ends_at_it() -> None:
    bars, _ = bars_to_text()
    task = bars.add("reading files", 8_000)
    bars.advance(task, 3_000)
    bars.finish(task, "2 files")
    shown = bars.progress.tasks[task]
    assert (shown.completed, shown.total) == (8_000, 8_000)
