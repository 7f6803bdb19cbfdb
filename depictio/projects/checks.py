"""Rules of a project config that span several fields, each failure named by its field path."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence

from depictio.projects.config_models import DataCollectionConfig, ProjectConfig
from depictio.projects.references import DataCollectionIndex, iter_data_collections

Violation = tuple[str, str]
ENV_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def scan_violations(path: str, dc: DataCollectionConfig) -> list[Violation]:
    """A data collection's scan must match its mode (joined collections need none)."""
    settings = dc.config
    scan = settings.scan
    if scan is None:
        if settings.source == "native":
            return [(f"{path}.config.scan", "required for a native data collection")]
        return []
    parameters = scan.scan_parameters
    where = f"{path}.config.scan.scan_parameters"
    if scan.mode == "single":
        problems = [] if parameters.filename else [(f"{where}.filename", "required in mode single")]
        if parameters.regex_config is not None:
            problems.append((f"{where}.regex_config", "only for mode recursive"))
        return problems
    problems = (
        [] if parameters.regex_config else [(f"{where}.regex_config", "required in mode recursive")]
    )
    if parameters.filename is not None:
        problems.append((f"{where}.filename", "only for mode single"))
    return problems


def duplicate_violations(path: str, values: Sequence[str], what: str) -> list[Violation]:
    """One violation per value that occurs more than once."""
    counts = Counter(values)
    return [
        (f"{path}[{index}]", f"{what} '{value}' is used more than once")
        for index, value in enumerate(values)
        if counts[value] > 1 and values.index(value) != index
    ]


def id_violations(config: ProjectConfig) -> list[Violation]:
    """Ids given in the config must be unique across all its entities."""
    given: list[tuple[str, str]] = []
    if config.id:
        given.append(("id", config.id))
    for index, workflow in enumerate(config.workflows):
        if workflow.id:
            given.append((f"workflows[{index}].id", workflow.id))
    for path, _, _, dc in iter_data_collections(config):
        if dc.id:
            given.append((f"{path}.id", dc.id))
    for group in ("joins", "links"):
        for index, item in enumerate(getattr(config, group)):
            if item.id:
                given.append((f"{group}[{index}].id", item.id))
    seen: dict[str, str] = {}
    problems = []
    for path, value in given:
        if value in seen:
            problems.append((path, f"id '{value}' is already used at {seen[value]}"))
        else:
            seen[value] = path
    return problems


def reference_violations(config: ProjectConfig, index: DataCollectionIndex) -> list[Violation]:
    """Joins and links must name existing data collections."""
    problems: list[Violation] = []
    workflow_names = {workflow.name for workflow in config.workflows}
    for j_index, join in enumerate(config.joins):
        path = f"joins[{j_index}]"
        if join.workflow_name and join.workflow_name not in workflow_names:
            problems.append((f"{path}.workflow_name", f"no workflow '{join.workflow_name}'"))
            continue
        sides = {}
        for side in ("left_dc", "right_dc"):
            try:
                sides[side] = index.by_tag(getattr(join, side), join.workflow_name)
            except LookupError as exc:
                problems.append((f"{path}.{side}", str(exc)))
        if len(sides) == 2 and sides["left_dc"] is sides["right_dc"]:
            problems.append((f"{path}.right_dc", "must differ from left_dc"))
    for l_index, link in enumerate(config.links):
        path = f"links[{l_index}]"
        for end in ("source", "target"):
            dc_id, dc_tag = getattr(link, f"{end}_dc_id"), getattr(link, f"{end}_dc_tag")
            if bool(dc_id) == bool(dc_tag):
                problems.append((f"{path}.{end}_dc_id", f"give {end}_dc_id or {end}_dc_tag"))
                continue
            try:
                index.resolve(dc_id, dc_tag)
            except LookupError as exc:
                field = f"{end}_dc_id" if dc_id else f"{end}_dc_tag"
                problems.append((f"{path}.{field}", str(exc)))
        settings = link.link_config
        if settings.resolver == "pattern" and (
            not settings.pattern or "{sample}" not in settings.pattern
        ):
            problems.append(
                (f"{path}.link_config.pattern", "resolver pattern needs a {sample} placeholder")
            )
        if settings.resolver == "sample_mapping" and not settings.mappings:
            problems.append((f"{path}.link_config.mappings", "required by resolver sample_mapping"))
    return problems


def cross_field_violations(config: ProjectConfig) -> list[Violation]:
    """Every rule beyond the structure of the config, in config order."""
    problems: list[Violation] = id_violations(config)
    for index, workflow in enumerate(config.workflows):
        location = workflow.data_location
        if location.structure == "sequencing-runs" and not location.runs_regex:
            problems.append(
                (f"workflows[{index}].data_location.runs_regex", "required for sequencing-runs")
            )
        problems += duplicate_violations(
            f"workflows[{index}].data_collections",
            [dc.data_collection_tag for dc in workflow.data_collections],
            "data_collection_tag",
        )
    problems += duplicate_violations(
        "workflows", [workflow.name for workflow in config.workflows], "workflow name"
    )
    problems += duplicate_violations(
        "data_collections",
        [dc.data_collection_tag for dc in config.data_collections],
        "data_collection_tag",
    )
    problems += duplicate_violations("joins", [join.name for join in config.joins], "join name")
    for path, _, _, dc in iter_data_collections(config):
        problems += scan_violations(path, dc)
    problems += reference_violations(config, DataCollectionIndex(config))
    return problems


def expand_locations(
    config: ProjectConfig, environ: Mapping[str, str] | None = None
) -> list[Violation]:
    """Replaces {NAME} placeholders in workflow locations; reports the unset ones.

    Only the depictio CLI expands them, from its user's environment: metadata_svc reads
    configs with an empty `environ`, so that a config cannot read the server's environment
    (its secrets) back through its locations.
    """
    env = os.environ if environ is None else environ
    problems: list[Violation] = []
    for w_index, workflow in enumerate(config.workflows):
        expanded = []
        for l_index, location in enumerate(workflow.data_location.locations):
            missing = [name for name in ENV_PLACEHOLDER.findall(location) if name not in env]
            for name in missing:
                problems.append(
                    (
                        f"workflows[{w_index}].data_location.locations[{l_index}]",
                        f"environment variable '{name}' is not set (placeholders are "
                        "expanded by the depictio CLI from its environment, never by the "
                        "server)",
                    )
                )
            expanded.append(
                ENV_PLACEHOLDER.sub(lambda m: env.get(m.group(1), m.group(0)), location)
            )
        workflow.data_location.locations = expanded
    return problems
