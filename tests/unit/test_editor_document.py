"""The Editor's document edits: tabs, components and filter sections stay consistent."""

from __future__ import annotations

from typing import Any

import pytest

from dash_apps.editor import document as edits

DATA = {"workflow": "w", "data_collection": "t"}


def blank() -> dict[str, Any]:
    return edits.checked({"title": "D", "tabs": [{"id": "main", "title": "Main"}]})


def control(cid: str) -> dict[str, Any]:
    return {
        "id": cid,
        "type": "interactive",
        "data": DATA,
        "column": "species",
        "interactive_type": "multiselect",
    }


def test_tabs_are_added_renamed_moved_and_the_last_is_kept() -> None:
    document, second = edits.add_tab(blank(), "Second")
    document = edits.rename_tab(edits.move_tab(document, second, -1), second, "Renamed")
    assert [t["title"] for t in document["tabs"]] == ["Renamed", "Main"]
    document = edits.delete_tab(document, second)
    with pytest.raises(ValueError, match="last tab"):
        edits.delete_tab(document, "main")


def test_components_are_placed_below_duplicated_and_deleted_with_their_sections() -> None:
    document = edits.put_component(blank(), "main", control("species"))
    document = edits.put_component(document, "main", {"id": "note", "type": "text"})
    assert document["tabs"][0]["layout"][1] == {"i": "note", "x": 0, "y": 2, "w": 6, "h": 2}
    document = edits.duplicate_component(document, "species")
    assert document["tabs"][0]["layout"][2]["i"] == "species_copy"
    document = edits.add_section(document, "main", "Filters")
    document = edits.edit_section(document, "filters", members=["species", "species_copy"])
    document = edits.delete_component(document, "species")
    tab = document["tabs"][0]
    assert [c["id"] for c in tab["components"]] == ["note", "species_copy"]
    # In a filter section, a control has no grid place (the Viewer shows it in the panel).
    assert [i["i"] for i in tab["layout"]] == ["note"]
    assert tab["filter_sections"][0]["component_ids"] == ["species_copy"]


def test_filters_leave_the_grid_for_a_section_and_come_back_below_the_others() -> None:
    document = edits.put_component(blank(), "main", control("species"))
    document = edits.put_component(document, "main", {"id": "note", "type": "text"})
    document = edits.put_component(document, "main", control("site"))
    document = edits.add_section(document, "main", "Filters")
    document = edits.edit_section(document, "filters", members=["species", "site"])
    assert document["tabs"][0]["layout"] == [{"i": "note", "x": 0, "y": 2, "w": 6, "h": 2}]
    # Out of the section: a place below the others, of a control's size.
    document = edits.edit_section(document, "filters", members=["site"])
    assert document["tabs"][0]["layout"][1] == {"i": "species", "x": 0, "y": 4, "w": 4, "h": 2}
    # The section deleted: its filters are back on the grid too.
    document = edits.delete_section(document, "filters")
    assert [i["i"] for i in document["tabs"][0]["layout"]] == ["note", "species", "site"]
    assert document["tabs"][0]["layout"][2]["y"] == 6


def test_a_component_belongs_to_one_section_and_only_controls_may() -> None:
    document = edits.put_component(blank(), "main", control("species"))
    document = edits.add_section(edits.add_section(document, "main", "A"), "main", "B")
    document = edits.edit_section(document, "a", members=["species"])
    document = edits.edit_section(document, "b", title="Bee", members=["species"])
    sections = document["tabs"][0]["filter_sections"]
    assert [(s["title"], s["component_ids"]) for s in sections] == [("A", []), ("Bee", ["species"])]
    folded = edits.edit_section(document, "b", collapsed=True)["tabs"][0]["filter_sections"]
    assert [(s["title"], s["component_ids"], s["collapsed"]) for s in folded] == [
        ("A", [], False),
        ("Bee", ["species"], True),
    ]
    document = edits.put_component(document, "main", {"id": "note", "type": "text"})
    with pytest.raises(ValueError, match="no interactive component 'note'"):
        edits.edit_section(document, "a", members=["note"])


def test_grid_layouts_keep_only_known_components_on_twelve_columns() -> None:
    document = edits.put_component(blank(), "main", control("species"))
    items = [
        {"i": "species", "x": 3, "y": 1, "w": 5, "h": 3, "moved": False},
        {"i": "ghost", "x": 0, "y": 0, "w": 1, "h": 1},
    ]
    document = edits.apply_layout(document, "main", items)
    assert document["tabs"][0]["layout"] == [{"i": "species", "x": 3, "y": 1, "w": 5, "h": 3}]
