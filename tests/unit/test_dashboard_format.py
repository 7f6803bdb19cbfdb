"""The dashboard format: JSON Schema, YAML round trip, and both validation passes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from depictio.dashboards.models import yaml_json_schema
from depictio.dashboards.validation import (
    DashboardInvalid,
    KnownDataCollection,
    check_live,
    parse_document,
)
from depictio.dashboards.yaml_format import export_yaml, import_yaml

KNOWN = [
    KnownDataCollection("dc1", "survey", "body", ("animal_id", "weight_g"), "observed"),
    KnownDataCollection("dc2", "survey", "sightings", ("animal_id", "valley"), "declared"),
    KnownDataCollection("dc3", "survey", "empty", (), ""),
]


def document() -> dict[str, Any]:
    return {
        "title": "Marmots",
        "description": "Weights by valley",
        "tabs": [
            {
                "id": "overview",
                "title": "Overview",
                "components": [
                    {
                        "type": "interactive",
                        "id": "valley",
                        "data": {"workflow": "survey", "data_collection": "sightings"},
                        "column": "valley",
                        "interactive_type": "multiselect",
                    },
                    {
                        "type": "figure",
                        "id": "weights",
                        "data": {"data_collection": "body"},
                        "visu_type": "histogram",
                        "x": "weight_g",
                        "options": {"nbins": 30},
                    },
                    {
                        "type": "table",
                        "id": "rows",
                        "data": {"data_collection": "body"},
                        "columns": ["animal_id"],
                    },
                    {"type": "card", "id": "n", "data": {"data_collection": "body"},
                     "column": "animal_id", "aggregation": "nunique"},
                    {"type": "text", "id": "about", "content": "# Marmots"},
                ],
                "layout": [
                    {"i": "weights", "x": 0, "y": 0, "w": 8, "h": 4},
                    {"i": "n", "x": 8, "y": 0, "w": 4, "h": 2},
                ],
                "filter_sections": [
                    {"id": "filters", "title": "Filters", "component_ids": ["valley"]}
                ],
            }
        ],
    }  # fmt: skip


def violations(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(DashboardInvalid) as caught:
        check_live(parse_document(data), KNOWN)
    return caught.value.violations


def test_a_consistent_document_passes_both_passes() -> None:
    check_live(parse_document(document()), KNOWN)


def test_the_json_schema_discriminates_components_on_type() -> None:
    schema = yaml_json_schema()
    assert schema["title"] == "Depictio dashboard"
    text = str(schema)
    for kind in ("FigureComponent", "CardComponent", "InteractiveComponent", "TableComponent"):
        assert kind in schema["$defs"]
    assert "'propertyName': 'type'" in text
    assert schema["$defs"]["Tab"]["additionalProperties"] is False


def test_yaml_export_import_export_is_identical() -> None:
    first = export_yaml(parse_document(document()), "project-1")
    imported = import_yaml(first)
    assert imported.project_id == "project-1"
    assert export_yaml(imported, "project-1") == first


@pytest.mark.parametrize(
    ("edit", "path", "words"),
    [
        (
            lambda d: d["tabs"][0]["layout"].append({"i": "ghost", "x": 0, "y": 9, "w": 2, "h": 2}),
            "tabs[0].layout[2].i",
            "no component 'ghost'",
        ),
        (
            lambda d: d["tabs"][0]["components"][2].update(id="weights"),
            "tabs[0].components[2].id",
            "already used at tabs[0].components[1].id",
        ),
        (
            lambda d: d["tabs"][0]["filter_sections"][0]["component_ids"].append("weights"),
            "tabs[0].filter_sections[0].component_ids[1]",
            "no interactive component 'weights'",
        ),
        (
            lambda d: d["tabs"][0]["layout"][0].update(x=6),
            "tabs[0].layout[0].w",
            "x + w must be at most 12",
        ),
        (
            lambda d: d["tabs"][0]["components"][0].update(kind="dropdown"),
            "tabs[0].components[0].interactive.kind",
            "unknown key",
        ),
        (
            lambda d: d["tabs"][0]["components"][1].update(visu_type="line", x=None),
            "tabs[0].components[1].x",
            "a line chart needs x or y",
        ),
    ],
)
def test_offline_mistakes_are_named_by_path(edit: Any, path: str, words: str) -> None:
    data = copy.deepcopy(document())
    edit(data)
    found = violations(data)
    assert any(p == path and words in d for p, d in found), found


def test_unknown_data_collections_and_columns_are_refused_never_dropped() -> None:
    data = document()
    data["tabs"][0]["components"][1]["data"]["data_collection"] = "burrows"
    data["tabs"][0]["components"][2]["columns"] = ["animal_id", "tail_mm"]
    data["tabs"][0]["components"][0]["data"]["workflow"] = "census"
    data["tabs"][0]["components"][3]["data"]["data_collection"] = "empty"
    found = dict(violations(data))
    assert (
        "unknown data collection 'burrows'" in found["tabs[0].components[1].data.data_collection"]
    )
    assert found["tabs[0].components[2].columns[1]"] == (
        "unknown column 'tail_mm' in data collection 'body' (observed columns: animal_id, weight_g)"
    )
    assert "unknown workflow 'census'" in found["tabs[0].components[0].data.workflow"]
    assert "has no known columns yet" in found["tabs[0].components[3].column"]
