"""`depictio data scan|process|join` and `depictio run` (validate, sync, scan, process, join)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer

from depictio.cli.account_commands import JsonOption, UrlOption
from depictio.cli.credentials import resolve
from depictio.cli.failures import UsageFailure
from depictio.cli.gateway_api import GatewayApi
from depictio.cli.ingestion import (
    DataCollectionWork,
    align_work,
    check_against_server,
    plan_work,
    register_runs,
    stream_work,
)
from depictio.cli.joins import JoinOutcome, require_target, run_join
from depictio.cli.local_scan import (
    FileChange,
    FileStatus,
    ScannedRun,
    compare_with_registered,
    scan_project,
    with_plan_ids,
)
from depictio.cli.project_commands import ConfigArgument, sync_project_file
from depictio.cli.project_files import (
    JoinPlan,
    ProjectFile,
    ProjectPlan,
    load_project_file,
    project_plan,
)
from depictio.cli.reporting import Reporter, reported

data_app = typer.Typer(help="Scan, ingest and join a project's data.", no_args_is_help=True)
OverwriteOption = Annotated[
    bool, typer.Option("--overwrite", help="Rebuild every table from all files.")
]


@dataclass
class ScanOutcome:
    """A project's runs and files on disk compared with the server's registry."""

    plan: ProjectPlan
    runs: list[ScannedRun]
    changes: list[FileChange]
    # Data collections whose reading settings differ from the server's previous config, with
    # what differs: their tables are rewritten from all their files.
    reread: dict[str, list[str]] = field(default_factory=dict)

    def counts(self) -> Counter[str]:
        return Counter(change.status.value for change in self.changes)

    def document(self) -> dict[str, Any]:
        return {
            "project": {"id": self.plan.id, "name": self.plan.name},
            "runs": sorted({run.run_tag for run in self.runs}),
            "files": [
                {
                    "data_collection": change.data_collection.label,
                    "run": change.run_tag,
                    "path": change.relative,
                    "status": change.status.value,
                    "size": change.file.size if change.file else None,
                    "sha256": change.file.sha256 if change.file else None,
                }
                for change in self.changes
            ],
            "summary": {status.value: self.counts()[status.value] for status in FileStatus},
        }


def scan_step(
    api: GatewayApi,
    project_file: ProjectFile,
    reporter: Reporter,
    server: dict[str, Any] | None,
    scanned: list[ScannedRun] | None = None,
    previous: dict[str, Any] | None = None,
) -> ScanOutcome:
    """Scans the runs on disk (or takes those `scanned` offline) and compares them with what
    `server` (None: nothing) registered, and the file's reading settings with those of
    `previous` (the server's config before this command synced it; default `server`)."""
    plan = project_plan(project_file, server)
    runs = scan_project(plan) if scanned is None else with_plan_ids(scanned, plan)
    registered_runs = api.runs(plan.id) if plan.id else []
    registered_files = api.files(plan.id) if plan.id else []
    outcome = ScanOutcome(
        plan,
        runs,
        compare_with_registered(plan, runs, registered_runs, registered_files),
        reading_changes(plan, server if previous is None else previous),
    )
    for label, what in outcome.reread.items():
        reporter.info(
            f"{label}: {', '.join(what)} changed since the last sync: its table is rewritten "
            "from all its files"
        )
    rows = []
    for dc in plan.data_collections():
        if dc.source != "native":
            continue
        mine = [c for c in outcome.changes if c.data_collection.label == dc.label]
        statuses = Counter(c.status for c in mine)
        rows.append(
            [dc.label, len({c.run_tag for c in mine if c.file is not None})]
            + [statuses[status] for status in FileStatus]
        )
    reporter.table(
        f"{plan.name}: {len(runs)} run(s)",
        ["data collection", "runs", *(status.value for status in FileStatus)],
        rows,
    )
    return outcome


def scan_on_server(api: GatewayApi, project_file: ProjectFile, reporter: Reporter) -> ScanOutcome:
    """Scans a project that must already be on the server."""
    server = api.find_project(project_file.config.id, project_file.config.name)
    return scan_step(api, project_file, reporter, server)


def process_step(
    api: GatewayApi, outcome: ScanOutcome, overwrite: bool, reporter: Reporter
) -> list[DataCollectionWork]:
    """Ingests what changed: one commit per data collection, then the runs are registered."""
    work = plan_work(outcome.plan, outcome.runs, outcome.changes, overwrite, set(outcome.reread))
    if not work:
        unchanged = outcome.counts()[FileStatus.UNCHANGED.value]
        reporter.info(f"nothing to ingest: all {unchanged} file(s) are unchanged")
        return []
    align_work(work)
    check_against_server(api, work, overwrite)
    with reporter.progress() as bars:
        stream_work(lambda: GatewayApi(api.credentials), work, overwrite, bars)
    register_runs(api, outcome.plan, outcome.runs, outcome.changes)
    reporter.table(
        "ingested",
        ["data collection", "runs", "files", "rows", "version", "MB", "seconds"],
        [
            [
                item.dc.label,
                len(item.runs),
                len(item.files),
                f"{item.rows:,}",
                item.written["version"],
                f"{sum(f.size for f in item.files) / 1e6:,.1f}",
                f"{item.seconds:.2f}",
            ]
            for item in work
        ],
    )
    return work


def join_step(api: GatewayApi, joins: list[JoinPlan], reporter: Reporter) -> list[JoinOutcome]:
    outcomes = [run_join(api, join) for join in joins]
    if not outcomes:
        return []
    reporter.table(
        "joins",
        ["join", "into", "rows", "version"],
        [[o.name, o.target, f"{o.rows:,}", o.version] for o in outcomes],
    )
    return outcomes


def work_document(work: list[DataCollectionWork]) -> list[dict[str, Any]]:
    return [
        {
            "data_collection": item.dc.label,
            "runs": item.runs,
            "files": [f"{f.run_tag}/{f.relative}" for f in item.files],
            "bytes": sum(f.size for f in item.files),
            **(
                {"rows": item.written["rows"], "version": item.written["version"]}
                if item.written
                else {}
            ),
        }
        for item in work
    ]


@data_app.command("scan")
def scan(file: ConfigArgument, url: UrlOption = None, as_json: JsonOption = False) -> None:
    """Find runs and files and report them as added, changed, unchanged or removed."""
    with reported(as_json) as reporter, GatewayApi(resolve(url)) as api:
        outcome = scan_on_server(api, load_project_file(file), reporter)
        counts = outcome.counts()
        reporter.result(
            outcome.document(),
            [", ".join(f"{counts[s.value]} {s.value}" for s in FileStatus)],
        )


@data_app.command("process")
def process(
    file: ConfigArgument,
    overwrite: OverwriteOption = False,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest new and changed files (their runs' rows are replaced); --overwrite rebuilds."""
    with reported(as_json) as reporter, GatewayApi(resolve(url)) as api:
        outcome = scan_on_server(api, load_project_file(file), reporter)
        work = process_step(api, outcome, overwrite, reporter)
        reporter.result(
            {**outcome.document(), "commits": work_document(work)},
            [f"{len(work)} commit(s)"],
        )


@data_app.command("join")
def join(file: ConfigArgument, url: UrlOption = None, as_json: JsonOption = False) -> None:
    """Run the project's joins into their joined data collections."""
    with reported(as_json) as reporter:
        project_file = load_project_file(file)
        with GatewayApi(resolve(url)) as api:
            server = api.find_project(project_file.config.id, project_file.config.name)
            plan = project_plan(project_file, server)
            outcomes = join_step(api, plan.joins, reporter)
        reporter.result(
            {"joins": [o.__dict__ for o in outcomes]},
            [f"{len(outcomes)} join(s) written"],
        )


def joins_to_run(
    plan: ProjectPlan, work: list[DataCollectionWork], api: GatewayApi
) -> list[JoinPlan]:
    """Joins with a changed input, or whose result table does not exist yet."""
    changed = {item.dc.label for item in work}
    return [
        join
        for join in plan.joins
        if join.left.label in changed
        or join.right.label in changed
        or api.schema(require_target(join).id) is None
    ]


def ingest_project(
    api: GatewayApi,
    project_file: ProjectFile,
    overwrite: bool,
    reporter: Reporter,
    scanned: list[ScannedRun] | None = None,
    on_step: Callable[[float, str], None] | None = None,
) -> tuple[ScanOutcome, list[DataCollectionWork], list[JoinOutcome]]:
    """Scan, sync, process and join one project (the work of `depictio run`). The folders are
    scanned before the config is synced: a missing location or a pattern matching nothing
    changes nothing on the server, not even the config.

    `scanned`: the runs already scanned (by `scan_project`); `on_step(fraction, message)` is
    told as each step starts (background tasks report it as their progress)."""
    step = on_step or (lambda _fraction, _message: None)
    if scanned is None:
        step(0.0, "scanning the run folders")
        scanned = scan_project(project_plan(project_file, None))
    step(0.1, "syncing the project config")
    previous = existing_project(api, project_file)
    server = sync_project_file(api, project_file, reporter)
    try:
        step(0.2, "comparing files with the server's registry")
        outcome = scan_step(api, project_file, reporter, server, scanned, previous or {})
        step(0.3, "ingesting new and changed files")
        work = process_step(api, outcome, overwrite, reporter)
    except BaseException:
        withdraw_if_new_and_empty(api, project_file, server, reporter)
        reread = reading_changes(project_plan(project_file, server), previous)
        if reread:
            # The config synced above already reads them the new way: a later run would find
            # nothing to reread.
            reporter.info(
                f"the reading settings of {', '.join(reread)} were synced but their tables "
                "not rewritten: once the error is fixed, run with --overwrite"
            )
        raise
    step(0.9, "running the joins")
    outcomes = join_step(api, joins_to_run(outcome.plan, work, api), reporter)
    return outcome, work, outcomes


def existing_project(api: GatewayApi, project_file: ProjectFile) -> dict[str, Any] | None:
    """The project as the server has it before this command syncs it; None when it has none."""
    try:
        return api.find_project(project_file.config.id, project_file.config.name)
    except UsageFailure:
        return None


READING_SETTINGS = ("format", "polars_kwargs", "keep_columns", "wildcards")


def reading_changes(plan: ProjectPlan, server: dict[str, Any] | None) -> dict[str, list[str]]:
    """The data collections of `plan` the server's config reads otherwise (format, reader
    options, kept columns, wildcards), with the settings that differ."""
    if not server:
        return {}
    on_server = {
        dc["id"]: dc
        for dc in [
            *server.get("data_collections", []),
            *(
                dc
                for workflow in server.get("workflows", [])
                for dc in workflow["data_collections"]
            ),
        ]
    }
    changes = {}
    for dc in plan.data_collections():
        known = on_server.get(dc.id)
        if known is None or dc.source != "native":
            continue
        theirs = {
            "format": str(known.get("format", "")).lower(),
            "polars_kwargs": dict(known.get("polars_kwargs") or {}),
            "keep_columns": tuple(known.get("keep_columns") or ()),
            "wildcards": tuple(
                (w["name"], w["wildcard_regex"]) for w in known.get("wildcards", [])
            ),
        }
        mine = {
            "format": dc.format,
            "polars_kwargs": dc.polars_kwargs,
            "keep_columns": dc.keep_columns,
            "wildcards": dc.wildcards,
        }
        differ = [name for name in READING_SETTINGS if theirs[name] != mine[name]]
        if differ:
            changes[dc.label] = differ
    return changes


def withdraw_if_new_and_empty(
    api: GatewayApi, project_file: ProjectFile, server: dict[str, Any], reporter: Reporter
) -> None:
    """Deletes the project this run created when its ingestion failed before any table was
    written: bad data on a first run leaves no empty project behind. A project whose config
    names its id is kept (a deleted id is never given again)."""
    if not server.get("created") or project_file.document.get("id"):
        return
    try:
        dc_ids = [dc.id for dc in project_plan(project_file, server).data_collections() if dc.id]
        if any(api.schema(dc_id) is not None for dc_id in dc_ids):
            return
        api.delete_project(str(server["id"]))
    except Exception as exc:  # noqa: BLE001 — the ingestion's own failure is what is raised
        reporter.info(f"project {server['name']!r} was created but could not be removed ({exc})")
        return
    reporter.info(f"project {server['name']!r} removed again: nothing was ingested into it")


def run(
    file: ConfigArgument,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; change nothing.")
    ] = False,
    overwrite: OverwriteOption = False,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Validate, sync, scan, ingest and join a project in one go."""
    with reported(as_json) as reporter:
        project_file = load_project_file(file)
        reporter.info(f"{file}: valid")
        with GatewayApi(resolve(url)) as api:
            if dry_run:
                run_dry(api, project_file, overwrite, reporter)
                return
            outcome, work, outcomes = ingest_project(api, project_file, overwrite, reporter)
        counts = outcome.counts()
        reporter.result(
            {
                **outcome.document(),
                "commits": work_document(work),
                "joins": [o.__dict__ for o in outcomes],
            },
            [
                f"done: {len(work)} commit(s), {len(outcomes)} join(s); "
                + ", ".join(f"{counts[s.value]} {s.value}" for s in FileStatus)
            ],
        )


def run_dry(
    api: GatewayApi, project_file: ProjectFile, overwrite: bool, reporter: Reporter
) -> None:
    """What `depictio run` would do, computed without changing anything on the server."""
    try:
        server = api.find_project(project_file.config.id, project_file.config.name)
    except UsageFailure:
        server = None
        reporter.info(f"project {project_file.config.name!r} would be created")
    outcome = scan_step(api, project_file, reporter, server)
    work = plan_work(outcome.plan, outcome.runs, outcome.changes, overwrite, set(outcome.reread))
    changed = {item.dc.label for item in work}
    joins = [
        j.name
        for j in outcome.plan.joins
        if server is None or j.left.label in changed or j.right.label in changed
    ]
    reporter.table(
        "plan (dry run: nothing was changed)",
        ["data collection", "mode", "runs", "files", "MB"],
        [
            [
                item.dc.label,
                "overwrite" if overwrite or item.rewrite else "replace_runs",
                ", ".join(item.runs),
                len(item.files),
                f"{sum(f.size for f in item.files) / 1e6:,.1f}",
            ]
            for item in work
        ],
    )
    reporter.result(
        {
            **outcome.document(),
            "dry_run": True,
            "project_exists": server is not None,
            "commits": work_document(work),
            "joins": joins,
        },
        [f"dry run: {len(work)} commit(s) and {len(joins)} join(s) would be made"],
    )
