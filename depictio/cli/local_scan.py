"""Finding a project's runs and files on disk, hashing them, and comparing with the server.

Runs come from a workflow's `data_location` (`flat`: each location is a run;
`sequencing-runs`: each sub-folder whose name matches `runs_regex`); a basic project has one
run, `default`. Files come from each data collection's scan (`single`: a file name;
`recursive`: a regular expression on the path relative to the run or on the file name, whose
`{wildcard}` parts are captured). A file is identified by the SHA-256 of its content.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from depictio.cli.failures import CliFailure
from depictio.cli.project_files import DataCollectionPlan, ProjectPlan, WorkflowPlan

BASIC_RUN_TAG = "default"
HASH_BLOCK_BYTES = 1024 * 1024


class FileStatus(StrEnum):
    """How a file compares with what the server has registered."""

    ADDED = "added"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    REMOVED = "removed"


@dataclass(frozen=True)
class ScannedFile:
    """One file of one data collection in one run."""

    data_collection: DataCollectionPlan
    run_tag: str
    path: Path
    relative: str
    size: int
    mtime: float
    captures: tuple[tuple[str, str], ...] = ()
    sha256: str = ""


@dataclass
class ScannedRun:
    """A run folder of a workflow and the files found in it."""

    workflow: WorkflowPlan
    run_tag: str
    location: Path
    files: list[ScannedFile] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        """SHA-256 over the run's (data collection, path, content hash), order-independent."""
        digest = hashlib.sha256()
        for file in sorted(self.files, key=lambda f: (f.data_collection.id, f.relative)):
            digest.update(f"{file.data_collection.id}\0{file.relative}\0{file.sha256}\n".encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class FileChange:
    """A file and how it compares with the registered one (`removed`: only registered)."""

    status: FileStatus
    data_collection: DataCollectionPlan
    run_tag: str
    relative: str
    file: ScannedFile | None = None


def find_runs(workflow: WorkflowPlan) -> list[tuple[str, Path]]:
    """(run tag, folder) of every run of a workflow; a missing location is a CliFailure."""
    if workflow.structure == "":
        return [(BASIC_RUN_TAG, workflow.base)]
    runs: list[tuple[str, Path]] = []
    for location in workflow.locations:
        if not location.is_dir():
            raise CliFailure(
                f"workflow {workflow.name!r}: location {str(location)!r} does not exist "
                "or is not a folder"
            )
        if workflow.structure == "flat":
            runs.append((location.name, location))
            continue
        pattern = re.compile(workflow.runs_regex or ".*")
        runs += [
            (child.name, child)
            for child in sorted(location.iterdir())
            if child.is_dir() and pattern.match(child.name)
        ]
    seen: dict[str, Path] = {}
    for tag, folder in runs:
        if tag in seen:
            raise CliFailure(
                f"workflow {workflow.name!r}: two runs are named {tag!r} "
                f"({seen[tag]} and {folder}); run folder names must be unique"
            )
        seen[tag] = folder
    return runs


def wildcard_regex(dc: DataCollectionPlan) -> re.Pattern[str]:
    """The recursive scan's pattern with each `{name}` of a wildcard turned into a capture."""
    pattern = dc.regex_pattern
    for name, regex in dc.wildcards:
        pattern = pattern.replace("{" + name + "}", f"(?P<{name}>{regex})")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise CliFailure(
            f"data collection {dc.tag!r}: pattern {dc.regex_pattern!r} with its wildcards is "
            f"not a valid regular expression ({exc})"
        ) from exc


def walk(folder: Path, max_depth: int | None, ignore: list[str]) -> Iterator[tuple[Path, str]]:
    """(file, path relative to `folder`) below `folder`, sorted, skipping ignored globs and
    hidden files and folders (names starting with '.': editors' and macOS's `._` companions)."""
    for root, dirs, files in os.walk(folder):
        relative_root = Path(root).relative_to(folder)
        depth = 0 if str(relative_root) == "." else len(relative_root.parts)
        if max_depth is not None and depth >= max_depth:
            dirs.clear()
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and not _ignored((relative_root / d).as_posix(), ignore)
        )
        for name in sorted(files):
            relative = (relative_root / name).as_posix()
            if not name.startswith(".") and not _ignored(relative, ignore):
                yield Path(root) / name, relative


def _ignored(relative: str, ignore: list[str]) -> bool:
    return any(
        fnmatch.fnmatch(relative, glob) or fnmatch.fnmatch(Path(relative).name, glob)
        for glob in ignore
    )


def files_in_run(dc: DataCollectionPlan, run_tag: str, folder: Path) -> list[ScannedFile]:
    """The data collection's files in one run folder."""
    found: list[tuple[Path, str, tuple[tuple[str, str], ...]]] = []
    if dc.scan_mode == "single":
        path = Path(dc.filename)
        if not path.is_absolute():
            path = folder / path
        if path.is_file():
            relative = (
                path.relative_to(folder).as_posix() if path.is_relative_to(folder) else path.name
            )
            found.append((path, relative, ()))
    else:
        regex = wildcard_regex(dc)
        for path, relative in walk(folder, dc.max_depth, dc.ignore):
            match = regex.fullmatch(relative) or regex.fullmatch(path.name)
            if match:
                captures = tuple((name, match.group(name) or "") for name, _ in dc.wildcards)
                found.append((path, relative, captures))
    files = []
    for path, relative, captures in found:
        try:
            stat = path.stat()
        except OSError as exc:
            raise CliFailure(f"{path}: cannot be read ({exc.strerror}); expected a file") from exc
        files.append(
            ScannedFile(
                data_collection=dc,
                run_tag=run_tag,
                path=path,
                relative=relative,
                size=stat.st_size,
                mtime=stat.st_mtime,
                captures=captures,
            )
        )
    return files


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file's content."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while block := handle.read(HASH_BLOCK_BYTES):
                digest.update(block)
    except OSError as exc:
        raise CliFailure(f"{path}: cannot be read ({exc.strerror})") from exc
    return digest.hexdigest()


def scan_project(plan: ProjectPlan, workers: int = 4) -> list[ScannedRun]:
    """Every run of every workflow with its files, hashed (in threads: hashlib frees the GIL).

    A data collection whose files are found in no run is a CliFailure, unless it is optional.
    """
    runs: list[ScannedRun] = []
    for workflow in plan.workflows:
        folders = find_runs(workflow)
        workflow_runs = [ScannedRun(workflow, tag, folder) for tag, folder in folders]
        for dc in workflow.scanned_data_collections:
            matched = 0
            for run in workflow_runs:
                files = files_in_run(dc, run.run_tag, run.location)
                run.files += files
                matched += len(files)
            if matched == 0 and not dc.optional:
                where = ", ".join(str(folder) for _, folder in folders) or "no run folders"
                if dc.scan_mode == "single":
                    raise CliFailure(
                        f"data collection {dc.tag!r}: file {dc.filename!r} not found in any "
                        f"run ({where})"
                    )
                raise CliFailure(
                    f"data collection {dc.tag!r}: no file matches pattern '{dc.regex_pattern}' "
                    f"in any run (searched {len(folders)} run(s): {where})"
                )
        runs += workflow_runs
    everything = [file for run in runs for file in run.files]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        hashes = list(pool.map(lambda f: sha256_of(f.path), everything))
    hashed = {id(f): h for f, h in zip(everything, hashes, strict=True)}
    for run in runs:
        run.files = [replace(file, sha256=hashed[id(file)]) for file in run.files]
    return runs


def with_plan_ids(runs: list[ScannedRun], plan: ProjectPlan) -> list[ScannedRun]:
    """Runs scanned with an offline plan, pointed at `plan`'s workflows and data collections
    (the same ones, now with the server's ids)."""
    workflows = {workflow.name: workflow for workflow in plan.workflows}
    data_collections = {dc.label: dc for dc in plan.data_collections()}
    return [
        ScannedRun(
            workflow=workflows[run.workflow.name],
            run_tag=run.run_tag,
            location=run.location,
            files=[
                replace(file, data_collection=data_collections[file.data_collection.label])
                for file in run.files
            ],
        )
        for run in runs
    ]


def compare_with_registered(
    plan: ProjectPlan,
    runs: list[ScannedRun],
    registered_runs: list[dict[str, Any]],
    registered_files: list[dict[str, Any]],
) -> list[FileChange]:
    """Every file as added, changed, unchanged or removed against the server's registry."""
    run_tags = {run["id"]: run["run_tag"] for run in registered_runs}
    known = {
        (file["data_collection_id"], run_tags.get(file["run_id"], ""), file["path"]): file
        for file in registered_files
    }
    changes: list[FileChange] = []
    seen: set[tuple[str, str, str]] = set()
    for run in runs:
        for file in run.files:
            key = (file.data_collection.id, run.run_tag, file.relative)
            seen.add(key)
            before = known.get(key)
            if before is None:
                status = FileStatus.ADDED
            elif before["sha256"] != file.sha256:
                status = FileStatus.CHANGED
            else:
                status = FileStatus.UNCHANGED
            changes.append(
                FileChange(status, file.data_collection, run.run_tag, file.relative, file)
            )
    by_id = plan.data_collections_by_id()
    for key, _ in sorted(known.items()):
        dc_id, run_tag, relative = key
        if key not in seen and dc_id in by_id:
            changes.append(FileChange(FileStatus.REMOVED, by_id[dc_id], run_tag, relative))
    return changes
