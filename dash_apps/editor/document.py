"""Edits of a dashboard document (the Editor's store, as JSON): tabs, components, sections.

Each function takes the document's JSON data and returns new data, checked by the same
structure rules the server applies (`parse_document`), so a broken edit is refused here with
the server's words rather than at save time.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from depictio.dashboards.models import GRID_COLUMNS
from depictio.dashboards.validation import parse_document
from depictio.errors import InvalidArgument

Document = dict[str, Any]
# A new component's size on the 12-column grid, by type (w, h).
DEFAULT_SIZES: dict[str, tuple[int, int]] = {
    "figure": (6, 6),
    "card": (3, 2),
    "interactive": (4, 2),
    "table": (12, 6),
    "text": (6, 2),
}
LAYOUT_KEYS = ("i", "x", "y", "w", "h")


def checked(document: Document) -> Document:
    """The document as the server will read it (ValueError naming the fields otherwise)."""
    try:
        return parse_document(document).model_dump(mode="json")
    except InvalidArgument as exc:
        raise ValueError(str(exc)) from exc


def element_ids(document: Document) -> set[str]:
    """Every tab, component and filter section id in use."""
    ids: set[str] = set()
    for tab in document["tabs"]:
        ids.add(tab["id"])
        ids.update(c["id"] for c in tab["components"])
        ids.update(s["id"] for s in tab["filter_sections"])
    return ids


def new_id(document: Document, hint: str) -> str:
    """An id no element uses yet, made from `hint` (a title or a type)."""
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", hint.strip().lower()).strip("_")[:48] or "item"
    taken = element_ids(document)
    if base not in taken:
        return base
    number = 2
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


def find_tab(document: Document, tab_id: str) -> dict[str, Any]:
    for tab in document["tabs"]:
        if tab["id"] == tab_id:
            return dict(tab)
    raise ValueError(f"no tab '{tab_id}'")


def tab_of(document: Document, component_id: str) -> str:
    """The id of the tab holding the component."""
    for tab in document["tabs"]:
        if any(c["id"] == component_id for c in tab["components"]):
            return str(tab["id"])
    raise ValueError(f"no component '{component_id}'")


def add_tab(document: Document, title: str = "") -> tuple[Document, str]:
    """A new empty tab at the end; returns the document and the tab's id."""
    data = copy.deepcopy(document)
    name = title.strip() or f"Tab {len(data['tabs']) + 1}"
    tab_id = new_id(data, name)
    data["tabs"].append(
        {"id": tab_id, "title": name, "components": [], "layout": [], "filter_sections": []}
    )
    return checked(data), tab_id


def rename_tab(document: Document, tab_id: str, title: str) -> Document:
    if not title.strip():
        raise ValueError("a tab's title cannot be empty")
    data = copy.deepcopy(document)
    for tab in data["tabs"]:
        if tab["id"] == tab_id:
            tab["title"] = title.strip()
    return checked(data)


def move_tab(document: Document, tab_id: str, offset: int) -> Document:
    """The tab moved `offset` places (-1 left, +1 right), within bounds."""
    data = copy.deepcopy(document)
    ids = [t["id"] for t in data["tabs"]]
    index = ids.index(tab_id)
    target = max(0, min(len(ids) - 1, index + offset))
    tab = data["tabs"].pop(index)
    data["tabs"].insert(target, tab)
    return checked(data)


def delete_tab(document: Document, tab_id: str) -> Document:
    if len(document["tabs"]) <= 1:
        raise ValueError("the last tab cannot be deleted: a dashboard has at least one tab")
    data = copy.deepcopy(document)
    data["tabs"] = [t for t in data["tabs"] if t["id"] != tab_id]
    return checked(data)


def free_row(tab: dict[str, Any]) -> int:
    """The first grid row below every placed component."""
    return max((item["y"] + item["h"] for item in tab["layout"]), default=0)


def put_component(document: Document, tab_id: str, component: dict[str, Any]) -> Document:
    """The component added to the tab (placed below the others), or replacing the component
    with its id wherever it is (keeping its place)."""
    data = copy.deepcopy(document)
    for tab in data["tabs"]:
        for index, existing in enumerate(tab["components"]):
            if existing["id"] == component["id"]:
                tab["components"][index] = component
                return checked(data)
    for tab in data["tabs"]:
        if tab["id"] == tab_id:
            append_below(tab, component, DEFAULT_SIZES.get(component["type"], (6, 4)))
            return checked(data)
    raise ValueError(f"no tab '{tab_id}'")


def place_below(tab: dict[str, Any], component_id: str, size: tuple[int, int]) -> None:
    """Gives the component a grid place (w, h) at the left below every other one."""
    w, h = size
    tab["layout"].append({"i": component_id, "x": 0, "y": free_row(tab), "w": w, "h": h})


def append_below(tab: dict[str, Any], component: dict[str, Any], size: tuple[int, int]) -> None:
    """Adds the component to the tab, placed (w, h) at the left below every other one."""
    tab["components"].append(component)
    place_below(tab, component["id"], size)


def duplicate_component(document: Document, component_id: str) -> Document:
    """A copy of the component, with a new id, placed below the tab's components."""
    data = copy.deepcopy(document)
    for tab in data["tabs"]:
        for component in tab["components"]:
            if component["id"] != component_id:
                continue
            twin = {**copy.deepcopy(component), "id": new_id(data, f"{component_id}_copy")}
            if twin.get("title"):
                twin["title"] = f"{twin['title']} (copy)"[:200]
            placed = next((i for i in tab["layout"] if i["i"] == component_id), None)
            size = (placed["w"], placed["h"]) if placed else DEFAULT_SIZES[component["type"]]
            append_below(tab, twin, size)
            return checked(data)
    raise ValueError(f"no component '{component_id}'")


def delete_component(document: Document, component_id: str) -> Document:
    """The document without the component, its grid place or its filter-section entries."""
    data = copy.deepcopy(document)
    for tab in data["tabs"]:
        tab["components"] = [c for c in tab["components"] if c["id"] != component_id]
        tab["layout"] = [i for i in tab["layout"] if i["i"] != component_id]
        for section in tab["filter_sections"]:
            section["component_ids"] = [c for c in section["component_ids"] if c != component_id]
    return checked(data)


def apply_layout(document: Document, tab_id: str, items: list[dict[str, Any]]) -> Document:
    """The tab's grid places as the grid reports them (12 columns; extra keys dropped)."""
    data = copy.deepcopy(document)
    for tab in data["tabs"]:
        if tab["id"] == tab_id:
            known = {c["id"] for c in tab["components"]}
            tab["layout"] = [
                {k: int(item[k]) for k in LAYOUT_KEYS if k != "i"} | {"i": item["i"]}
                for item in items
                if item["i"] in known and item["x"] + item["w"] <= GRID_COLUMNS
            ]
    return checked(data)


def add_section(document: Document, tab_id: str, title: str) -> Document:
    data = copy.deepcopy(document)
    name = title.strip() or "Filters"
    section_id = new_id(data, name)
    for tab in data["tabs"]:
        if tab["id"] == tab_id:
            tab["filter_sections"].append(
                {"id": section_id, "title": name, "component_ids": [], "collapsed": False}
            )
    return checked(data)


def edit_section(
    document: Document,
    section_id: str,
    title: str | None = None,
    members: list[str] | None = None,
    collapsed: bool | None = None,
) -> Document:
    """A section renamed, given its interactive components (in order) and/or folded or not
    when the dashboard opens; a component belongs to one section of its tab at most, so it
    leaves the others."""
    data = copy.deepcopy(document)
    for tab in data["tabs"]:
        for section in tab["filter_sections"]:
            if section["id"] == section_id:
                if title is not None:
                    section["title"] = title.strip()
                if collapsed is not None:
                    section["collapsed"] = collapsed
                if members is not None:
                    section["component_ids"] = list(members)
                    for other in tab["filter_sections"]:
                        if other["id"] != section_id:
                            other["component_ids"] = [
                                c for c in other["component_ids"] if c not in members
                            ]
                    settle_panel_and_grid(tab)
    return checked(data)


def settle_panel_and_grid(tab: dict[str, Any]) -> None:
    """A component in a filter section has no grid place (the Viewer shows it in the filter
    panel: a place kept would be a hole); one in no section gets a place below the others."""
    in_panel = {cid for section in tab["filter_sections"] for cid in section["component_ids"]}
    tab["layout"] = [item for item in tab["layout"] if item["i"] not in in_panel]
    placed = {item["i"] for item in tab["layout"]}
    for component in tab["components"]:
        if component["id"] not in in_panel and component["id"] not in placed:
            place_below(tab, component["id"], DEFAULT_SIZES.get(component["type"], (6, 4)))


def delete_section(document: Document, section_id: str) -> Document:
    """The document without the section; its filters go back to the grid."""
    data = copy.deepcopy(document)
    for tab in data["tabs"]:
        if any(s["id"] == section_id for s in tab["filter_sections"]):
            tab["filter_sections"] = [s for s in tab["filter_sections"] if s["id"] != section_id]
            settle_panel_and_grid(tab)
    return checked(data)
