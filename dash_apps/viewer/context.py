"""What the Viewer needs to know about an opened dashboard, as a JSON-able context.

The context travels to the page in a store and comes back with every callback: the
components with their data collection ids, the column types of those tables and which tables
share filters through joins. It grants nothing — data_svc checks every query against the
visitor's token — so a page cannot read more by editing it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from dash_apps.dashboard_access import OpenedDashboard
from dash_apps.service_calls import ServiceCalls
from depictio.dashboards.models import DATA_COMPONENTS
from depictio.dashboards.validation import KnownDataCollection, find_data_collection
from depictio.filters import value_to_python
from depictio.v1 import metadata_pb2 as pb

Context = dict[str, Any]


def known_data_collections(project: pb.Project) -> list[KnownDataCollection]:
    """The project's data collections as dashboards name them (workflow name + tag)."""
    known = [
        KnownDataCollection(dc.id, None, dc.data_collection_tag, (), "")
        for dc in project.data_collections
    ]
    for workflow in project.workflows:
        known += [
            KnownDataCollection(dc.id, workflow.name, dc.data_collection_tag, (), "")
            for dc in workflow.data_collections
        ]
    return known


def join_relations(project: pb.Project, known: list[KnownDataCollection]) -> dict[str, list[str]]:
    """For each data collection, the others a filter on it also applies to through joins.

    A join's result is the data collection tagged with the join's name; it holds the columns
    of both inputs, so a filter on an input applies to the result and the other way round.
    """
    related: dict[str, set[str]] = {}
    for join in project.joins:
        results = [dc.id for dc in known if dc.tag == join.name]
        for result in results:
            for source in (join.left_data_collection_id, join.right_data_collection_id):
                related.setdefault(source, set()).add(result)
                related.setdefault(result, set()).add(source)
    return {dc: sorted(others) for dc, others in related.items()}


def build_context(calls: ServiceCalls, token: str, opened: OpenedDashboard) -> Context:
    """The viewer context of an opened dashboard (column types fetched with Describe)."""
    known = known_data_collections(opened.project)
    components: dict[str, dict[str, Any]] = {}
    for tab in opened.document.tabs:
        sections = {
            cid: f"{tab.id}/{section.id}"
            for section in tab.filter_sections
            for cid in section.component_ids
        }
        for component in tab.components:
            entry: dict[str, Any] = {
                "tab": tab.id,
                "section": sections.get(component.id, ""),
                "dc": "",
                "spec": component.model_dump(mode="json"),
            }
            if isinstance(component, DATA_COMPONENTS):
                reference = component.data
                try:
                    entry["dc"] = find_data_collection(
                        reference.workflow, reference.data_collection, known
                    ).id
                except LookupError as exc:
                    entry["error"] = str(exc)
            components[component.id] = entry
    dc_ids = sorted({entry["dc"] for entry in components.values() if entry["dc"]})
    described = calls.run(_describe_all(calls, token, dc_ids))
    return {
        "components": components,
        "related": join_relations(opened.project, known),
        "types": {dc: {c.name: c.type for c in d.columns} for dc, d in described.items()},
        # Column bounds for sliders, date pickers and "no filter" checks.
        "specs": {
            dc: {c.name: {"min": _plain(c.min), "max": _plain(c.max)} for c in d.columns}
            for dc, d in described.items()
        },
    }


async def _describe_all(calls: ServiceCalls, token: str, dc_ids: list[str]) -> dict[str, Any]:
    client = calls.data(token)
    results = await asyncio.gather(*(client.describe(dc) for dc in dc_ids), return_exceptions=True)
    return {
        dc: result
        for dc, result in zip(dc_ids, results, strict=True)
        if not isinstance(result, BaseException)
    }


def _plain(value: Any) -> Any:
    scalar = value_to_python(value)
    return scalar.isoformat() if isinstance(scalar, datetime) else scalar
