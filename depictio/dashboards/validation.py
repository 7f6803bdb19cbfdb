"""Two-pass validation of a dashboard: its own consistency (offline), then the live data.

Pass one needs nothing but the document: the schema, unique ids, layout items and filter
sections that point at existing components, figures that name the columns their kind of chart
needs. Pass two checks every data reference against the
project's data collections: an unknown workflow, tag or column is an error naming it and its
path — a component is never dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from depictio.dashboards.column_rules import missing_roles, type_violations
from depictio.dashboards.models import (
    DATA_COMPONENTS,
    GRID_COLUMNS,
    CardComponent,
    DashboardDocument,
    FigureComponent,
    InteractiveComponent,
    TableComponent,
)
from depictio.projects.checks import Violation
from depictio.projects.parsing import ConfigInvalid, validated


class DashboardInvalid(ConfigInvalid):
    """A dashboard that does not validate; `violations` name each field path."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        super().__init__(violations, subject="dashboard")


@dataclass(frozen=True)
class KnownDataCollection:
    """A data collection as dashboards may reference it."""

    id: str
    workflow: str | None
    tag: str
    columns: tuple[str, ...]
    columns_source: str  # "observed", "declared" or "" (no column known)
    # Stored type of each column once data_svc recorded the table's schema; empty before.
    column_types: Mapping[str, str] = field(default_factory=dict)


def structure_violations(document: DashboardDocument) -> list[Violation]:
    """Pass one: ids unique, layout and filter sections consistent with the components, each
    figure naming the columns its chart needs."""
    problems: list[Violation] = []
    seen_tabs: set[str] = set()
    seen_components: dict[str, str] = {}
    for t_index, tab in enumerate(document.tabs):
        tab_path = f"tabs[{t_index}]"
        if tab.id in seen_tabs:
            problems.append((f"{tab_path}.id", f"tab id '{tab.id}' is used more than once"))
        seen_tabs.add(tab.id)
        kinds: dict[str, str] = {}
        for c_index, component in enumerate(tab.components):
            path = f"{tab_path}.components[{c_index}].id"
            if component.id in seen_components:
                problems.append(
                    (
                        path,
                        f"component id '{component.id}' is already used at "
                        f"{seen_components[component.id]}",
                    )
                )
            else:
                seen_components[component.id] = path
            kinds[component.id] = component.type
            if isinstance(component, FigureComponent):
                problems.extend(
                    (f"{tab_path}.components[{c_index}].{field}", message)
                    for field, message in missing_roles(component)
                )
        placed: set[str] = set()
        for l_index, item in enumerate(tab.layout):
            path = f"{tab_path}.layout[{l_index}]"
            if item.i not in kinds:
                problems.append((f"{path}.i", f"no component '{item.i}' in this tab"))
            elif item.i in placed:
                problems.append((f"{path}.i", f"component '{item.i}' is placed more than once"))
            placed.add(item.i)
            if item.x + item.w > GRID_COLUMNS:
                problems.append(
                    (f"{path}.w", f"x + w must be at most {GRID_COLUMNS}, got {item.x + item.w}")
                )
        for s_index, section in enumerate(tab.filter_sections):
            for r_index, ref in enumerate(section.component_ids):
                path = f"{tab_path}.filter_sections[{s_index}].component_ids[{r_index}]"
                if kinds.get(ref) != "interactive":
                    problems.append((path, f"no interactive component '{ref}' in this tab"))
    return problems


def parse_document(
    data: Any, model: type[DashboardDocument] = DashboardDocument
) -> DashboardDocument:
    """Pass one on parsed data: a consistent document, or DashboardInvalid."""
    document = validated(model, data, "dashboard", DashboardInvalid)
    problems = structure_violations(document)
    if problems:
        raise DashboardInvalid(problems)
    return document


def referenced_columns(component: Any) -> list[tuple[str, str]]:
    """(field, column) of every column a component names."""
    if isinstance(component, FigureComponent):
        named = [(name, getattr(component, name)) for name in ("x", "y", "color", "size")]
        named += [(f"hover[{index}]", column) for index, column in enumerate(component.hover)]
        return [(field, column) for field, column in named if column]
    if isinstance(component, CardComponent | InteractiveComponent):
        return [("column", component.column)]
    if isinstance(component, TableComponent):
        return [(f"columns[{index}]", column) for index, column in enumerate(component.columns)]
    return []


def find_data_collection(
    workflow: str | None, tag: str, known: Sequence[KnownDataCollection]
) -> KnownDataCollection:
    """The data collection a component's data reference names; LookupError says why not."""
    if workflow is not None and not any(dc.workflow == workflow for dc in known):
        names = ", ".join(sorted({dc.workflow for dc in known if dc.workflow})) or "none"
        raise LookupError(f"unknown workflow '{workflow}' (workflows: {names})")
    matches = [
        dc for dc in known if dc.tag == tag and (workflow is None or dc.workflow == workflow)
    ]
    if not matches:
        tags = ", ".join(sorted({dc.tag for dc in known})) or "none"
        where = f" in workflow '{workflow}'" if workflow else ""
        raise LookupError(f"unknown data collection '{tag}'{where} (data collections: {tags})")
    if len(matches) > 1:
        raise LookupError(f"data collection '{tag}' is in several workflows: name the workflow")
    return matches[0]


def live_violations(
    document: DashboardDocument, known: Sequence[KnownDataCollection]
) -> list[Violation]:
    """Pass two: every data reference and column exists in the project's data collections, and
    each component's options suit its columns' stored types (depictio.dashboards.column_rules)."""
    problems: list[Violation] = []
    for t_index, tab in enumerate(document.tabs):
        for c_index, component in enumerate(tab.components):
            if not isinstance(component, DATA_COMPONENTS):
                continue
            path = f"tabs[{t_index}].components[{c_index}]"
            reference = component.data
            try:
                dc = find_data_collection(reference.workflow, reference.data_collection, known)
            except LookupError as exc:
                field = "workflow" if str(exc).startswith("unknown workflow") else "data_collection"
                problems.append((f"{path}.data.{field}", str(exc)))
                continue
            for field, column in referenced_columns(component):
                if not dc.columns_source:
                    problems.append(
                        (
                            f"{path}.{field}",
                            f"data collection '{dc.tag}' has no known columns yet (no data "
                            f"ingested, no columns_description or keep_columns): cannot use "
                            f"column '{column}'",
                        )
                    )
                elif column not in dc.columns:
                    problems.append(
                        (
                            f"{path}.{field}",
                            f"unknown column '{column}' in data collection '{dc.tag}' "
                            f"({dc.columns_source} columns: {', '.join(dc.columns)})",
                        )
                    )
            problems.extend(
                (f"{path}.{field}", message)
                for field, message in type_violations(component, dc.column_types)
            )
    return problems


def check_live(document: DashboardDocument, known: Sequence[KnownDataCollection]) -> None:
    """Raises DashboardInvalid when pass two finds problems."""
    problems = live_violations(document, known)
    if problems:
        raise DashboardInvalid(problems)
