"""Depictio project configs: the published shapes validate; mistakes are named by field path.

The fixtures under tests/fixtures/projects are our own projects written in the shapes Depictio
publishes: basic_single_csv.yaml mirrors the basic single-file project (init/iris and the
"Basic Project (CLI)" example), advanced_sequencing_runs.yaml the reference penguins project
(sequencing-runs, runs_regex, two data collections, an inner join), linked_tables.yaml a
project with stable ids and `links`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml
from metadata_support import FIXTURE_ENV, fixture_text

from depictio.projects.config_models import ProjectConfig
from depictio.projects.parsing import ConfigInvalid, parse_project_config

Edit = Callable[[dict[str, Any]], Any]


def parse(text: str, environ: dict[str, str] | None = None) -> ProjectConfig:
    return parse_project_config(text, environ=FIXTURE_ENV if environ is None else environ)


def edited(name: str, edit: Edit) -> str:
    data = yaml.safe_load(fixture_text(name))
    edit(data)
    return yaml.safe_dump(data)


def problems(text: str, environ: dict[str, str] | None = None) -> list[tuple[str, str]]:
    with pytest.raises(ConfigInvalid) as caught:
        parse(text, environ)
    return caught.value.violations


def test_the_basic_single_csv_project_validates_with_values_normalised() -> None:
    config = parse(fixture_text("basic_single_csv.yaml"))
    (dc,) = config.data_collections
    assert (config.project_type, dc.config.type, dc.config.metatype) == (
        "basic",
        "table",
        "metadata",
    )
    assert dc.config.dc_specific_properties.format == "csv"
    assert dc.config.scan and dc.config.scan.mode == "single"
    assert "height.cm" in (dc.config.dc_specific_properties.columns_description or {})


def test_the_advanced_sequencing_runs_project_validates_and_expands_locations() -> None:
    config = parse(fixture_text("advanced_sequencing_runs.yaml"))
    (workflow,) = config.workflows
    assert workflow.data_location.structure == "sequencing-runs"
    assert workflow.data_location.runs_regex == "season_*"
    assert workflow.data_location.locations == ["/srv/marmots/survey"]
    assert [dc.data_collection_tag for dc in workflow.data_collections] == [
        "body_measurements",
        "sightings",
    ]
    (join,) = config.joins
    assert (join.how, join.on_columns, join.persist) == ("inner", ["animal_id"], True)


def test_the_linked_project_validates_with_its_ids() -> None:
    config = parse(fixture_text("linked_tables.yaml"))
    assert config.id == "5f1e2d3c4b5a69788796a5b4"
    assert [link.link_config.resolver for link in config.links] == ["direct", "pattern"]
    assert config.workflows[0].catalog and config.workflows[0].catalog.name == "nf-core"


def test_an_invalid_regex_is_refused_naming_the_field() -> None:
    text = fixture_text("advanced_sequencing_runs.yaml").replace(
        'pattern: "sightings.csv"', 'pattern: "*.stats.tsv"'
    )
    with pytest.raises(ConfigInvalid) as caught:
        parse(text)
    assert caught.value.message == (
        "workflows[0].data_collections[1].config.scan.scan_parameters.regex_config.pattern: "
        "not a valid regular expression: nothing to repeat at position 0"
    )


def test_unknown_keys_are_refused_with_the_keys_expected() -> None:
    text = edited(
        "basic_single_csv.yaml",
        lambda d: d["data_collections"][0]["config"]["dc_specific_properties"].update(sep=";"),
    )
    ((path, description),) = problems(text)
    assert path == "data_collections[0].config.dc_specific_properties.sep"
    assert description.startswith("unknown key (expected one of: columns_description, format")


def test_a_missing_environment_variable_is_named() -> None:
    found = problems(fixture_text("advanced_sequencing_runs.yaml"), environ={})
    assert found == [
        (
            "workflows[0].data_location.locations[0]",
            "environment variable 'MARMOT_DATA_ROOT' is not set (placeholders are expanded "
            "by the depictio CLI from its environment, never by the server)",
        )
    ]


@pytest.mark.parametrize(
    ("edit", "path", "words"),
    [
        (
            lambda d: d["joins"][0].update(right_dc="burrows"),
            "joins[0].right_dc",
            "no data collection 'burrows'",
        ),
        (
            lambda d: d["workflows"][0]["data_location"].pop("runs_regex"),
            "workflows[0].data_location.runs_regex",
            "required for sequencing-runs",
        ),
        (
            lambda d: d["workflows"][0]["data_collections"][0]["config"]["scan"].update(
                mode="single"
            ),
            "workflows[0].data_collections[0].config.scan.scan_parameters.filename",
            "required in mode single",
        ),
        (
            lambda d: d["workflows"][0]["data_collections"][1].update(
                data_collection_tag="body_measurements"
            ),
            "workflows[0].data_collections[1]",
            "used more than once",
        ),
        (
            lambda d: d["workflows"][0]["data_collections"][0]["config"][
                "dc_specific_properties"
            ].update(format="docx"),
            "workflows[0].data_collections[0].config.dc_specific_properties.format",
            "got 'docx'",
        ),
    ],
)
def test_cross_field_mistakes_are_named(edit: Edit, path: str, words: str) -> None:
    found = problems(edited("advanced_sequencing_runs.yaml", edit))
    assert any(p == path and words in d for p, d in found), found


def test_links_must_name_existing_data_collections() -> None:
    def break_link(data: dict[str, Any]) -> None:
        data["links"][0]["source_dc_tag"] = "soil_cores"
        data["links"][1].pop("source_dc_id")

    found = problems(edited("linked_tables.yaml", break_link))
    assert ("links[1].source_dc_id", "give source_dc_id or source_dc_tag") in found
    assert any(p == "links[0].source_dc_tag" and "soil_cores" in d for p, d in found)
