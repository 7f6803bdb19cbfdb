"""The data a component may show: the project's data collections with their column types, and
the column choices each option allows (depictio.dashboards.column_rules decides).

Column types come from metadata (`observed_columns`, recorded by data_svc at each write); a
data collection without them (not ingested yet, or recorded before types were kept) is asked
of data_svc's Describe.
"""

from __future__ import annotations

import asyncio
from typing import Any

from dash_apps.service_calls import ServiceCalls
from dash_apps.viewer.queries import PROVENANCE_COLUMNS
from depictio.dashboards.column_rules import (
    FigureRole,
    allowed_aggregations,
    allowed_interactive_types,
    column_kind,
    figure_column_allowed,
)
from depictio.v1 import metadata_pb2 as pb

Source = dict[str, Any]
FIGURE_ROLES: tuple[FigureRole, ...] = ("x", "y", "color", "size")


def data_sources(calls: ServiceCalls, token: str, project: pb.Project) -> list[Source]:
    """Every data collection of the project: id, workflow, tag, label and [name, type] columns."""
    found: list[tuple[str | None, pb.DataCollection]] = [
        (None, dc) for dc in project.data_collections
    ]
    for flow in project.workflows:
        found += [(flow.name, dc) for dc in flow.data_collections]
    missing = [dc.id for _, dc in found if not all(c.type for c in dc.observed_columns)]
    described = calls.run(_describe(calls, token, missing)) if missing else {}
    sources = []
    for workflow, dc in found:
        columns = (
            [[c.name, c.type] for c in dc.observed_columns]
            if dc.id not in described
            else described[dc.id]
        )
        tag = dc.data_collection_tag
        sources.append(
            {
                "id": dc.id,
                "workflow": workflow,
                "tag": tag,
                "label": f"{workflow} / {tag}" if workflow else tag,
                "columns": [c for c in columns if c[0] not in PROVENANCE_COLUMNS],
            }
        )
    return sources


async def _describe(calls: ServiceCalls, token: str, dc_ids: list[str]) -> dict[str, Any]:
    client = calls.data(token)
    answers = await asyncio.gather(*(client.describe(dc) for dc in dc_ids), return_exceptions=True)
    return {
        dc: [[c.name, c.type] for c in answer.columns]
        for dc, answer in zip(dc_ids, answers, strict=True)
        if not isinstance(answer, BaseException)
    }


def source_by_id(sources: list[Source], dc_id: str | None) -> Source | None:
    return next((s for s in sources if s["id"] == dc_id), None)


def source_of(sources: list[Source], data: dict[str, Any] | None) -> Source | None:
    """The source a component's `data` reference names (workflow may be left out)."""
    if not data:
        return None
    for source in sources:
        if source["tag"] == data.get("data_collection") and (
            data.get("workflow") in (None, source["workflow"])
        ):
            return source
    return None


def options(values: list[str]) -> list[dict[str, str]]:
    return [{"value": v, "label": v} for v in values]


def typed_options(columns: list[list[str]]) -> list[dict[str, str]]:
    """Column choices labelled with their kind ('body_mass_g · numeric')."""
    return [{"value": n, "label": f"{n} · {column_kind(t)}"} for n, t in columns]


def figure_choices(source: Source | None, visu_type: str) -> dict[str, list[dict[str, str]]]:
    """For each figure role, the columns it may take on this kind of chart."""
    columns = source["columns"] if source else []
    return {
        role: typed_options(
            [c for c in columns if figure_column_allowed(visu_type, role, column_kind(c[1]))]
        )
        for role in FIGURE_ROLES
    }


def column_type(source: Source | None, column: str | None) -> str | None:
    if not source or not column:
        return None
    return next((t for n, t in source["columns"] if n == column), None)


def aggregation_choices(source: Source | None, column: str | None) -> list[str]:
    """The card aggregations the column's type allows (none before a column is chosen)."""
    type_name = column_type(source, column)
    return list(allowed_aggregations(column_kind(type_name))) if type_name else []


def interactive_choices(source: Source | None, column: str | None) -> list[str]:
    """The filter controls the column's type allows (none before a column is chosen)."""
    type_name = column_type(source, column)
    return list(allowed_interactive_types(column_kind(type_name))) if type_name else []


def schema_rows(source: Source | None) -> list[dict[str, str]]:
    """The schema preview: each column with its stored type and kind."""
    if not source:
        return []
    return [{"column": n, "type": t, "kind": column_kind(t)} for n, t in source["columns"]]
