"""One round of component data: the queries of every component to refresh, in one batch.

Components share one filter set, so their queries go to data_svc as one `Query` call. The
exception is a component whose own selection is a filter: it shows all its points (with the
selection drawn), so it is queried with its own selection left out, in a second call run
concurrently.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from grpc import aio

from dash_apps.service_calls import ServiceCalls
from dash_apps.viewer.filter_state import ActiveFilter, filters_by_data_collection
from dash_apps.viewer.queries import (
    DEFAULT_MAX_POINTS,
    LOAD_ALL_MAX_POINTS,
    SELECT_LIKE,
    card_query,
    figure_query,
    options_query,
    table_columns,
    table_query,
)
from depictio.v1 import data_pb2

Context = dict[str, Any]


@dataclass
class TableView:
    """Which page of a table, sorted how."""

    page: int = 1
    sort: list[tuple[str, bool]] = field(default_factory=list)


@dataclass
class Round:
    """The outcome of one round: results by component id, errors by component id."""

    results: dict[str, data_pb2.ComponentResult] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    active: list[ActiveFilter] = field(default_factory=list)


def component_query(
    context: Context, cid: str, view: TableView | None, load_all: bool
) -> data_pb2.ComponentQuery | None:
    """The query of one component (None for text and for controls without options)."""
    entry = context["components"][cid]
    spec = entry["spec"]
    kind = spec["type"]
    if kind == "figure":
        query = figure_query(spec, LOAD_ALL_MAX_POINTS if load_all else DEFAULT_MAX_POINTS)
    elif kind == "card":
        query = card_query(spec)
    elif kind == "table":
        view = view or TableView()
        columns = table_columns(spec, context["types"].get(entry["dc"], {}))
        query = table_query(spec, columns, view.page, view.sort)
    elif kind == "interactive" and spec["interactive_type"] in SELECT_LIKE:
        query = options_query(spec)
    else:
        return None
    query.data_collection_id = entry["dc"]
    return query


def fetch(
    calls: ServiceCalls,
    token: str,
    context: Context,
    state: dict[str, Any],
    targets: list[str],
    views: dict[str, TableView] | None = None,
    load_all: set[str] | frozenset[str] = frozenset(),
    filtered: bool = True,
) -> Round:
    """Runs the queries of `targets` (unfiltered when `filtered` is False: control options)."""
    outcome = Round()
    views = views or {}
    selections = state.get("selections") or {}
    batches: dict[str, list[data_pb2.ComponentQuery]] = {}
    for cid in targets:
        entry = context["components"].get(cid)
        if entry is None:
            continue
        if entry.get("error"):
            outcome.errors[cid] = entry["error"]
            continue
        if entry["dc"] and entry["dc"] not in context["types"]:
            outcome.errors[cid] = "No data yet: this data collection has not been ingested."
            continue
        query = component_query(context, cid, views.get(cid), cid in load_all)
        if query is not None:
            group = cid if filtered and cid in selections else ""
            batches.setdefault(group, []).append(query)
    filter_sets: dict[str, dict[str, Any]] = {}
    for group in batches:
        try:
            filter_sets[group] = (
                filters_by_data_collection(context, state, skip_selection_of=group)[0]
                if filtered
                else {}
            )
        except ValueError as exc:
            for query in batches[group]:
                outcome.errors[query.id] = str(exc)
    if filtered:
        try:
            outcome.active = filters_by_data_collection(context, state)[1]
        except ValueError:
            outcome.active = []  # the refusal is shown on the components it concerns
    runnable = [group for group in batches if group in filter_sets]
    answers = calls.run(_query_all(calls, token, [(batches[g], filter_sets[g]) for g in runnable]))
    for group, answer in zip(runnable, answers, strict=True):
        if isinstance(answer, BaseException):
            message = (
                answer.details() or answer.code().name
                if isinstance(answer, aio.AioRpcError)
                else f"The data service could not answer: {answer}"
            )
            for query in batches[group]:
                outcome.errors[query.id] = message
            continue
        for result in answer:
            outcome.results[result.id] = result
    return outcome


async def _query_all(
    calls: ServiceCalls,
    token: str,
    batches: list[tuple[list[data_pb2.ComponentQuery], dict[str, Any]]],
) -> list[Any]:
    client = calls.data(token)
    return await asyncio.gather(
        *(client.query(queries, filters=filters) for queries, filters in batches),
        return_exceptions=True,
    )
