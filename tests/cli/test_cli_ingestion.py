"""`depictio run` end to end on the demo projects, against running services: what lands on
the server equals what pandas computes from the source files; a second run ingests nothing;
a changed file replaces exactly its run's rows; a deleted file's rows go."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from cli_support import Cli, Server, copy_demo

pytestmark = pytest.mark.timeout(600)

PENGUIN_RUNS = ["run_1_adelie", "run_2_chinstrap", "run_3_gentoo"]


def source_frame(folder: Path, file_name: str) -> pd.DataFrame:
    """Every run's `file_name` under `folder` concatenated, with the run as a column."""
    frames = []
    for run in sorted(p for p in folder.iterdir() if p.is_dir()):
        path = run / file_name
        if path.exists():
            frames.append(pd.read_csv(path).assign(run=run.name))
    return pd.concat(frames, ignore_index=True)


def mean_query(column: str, where: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "queries": [
            {"id": "m", "aggregate": {"columns": [column], "aggregations": ["AGGREGATION_MEAN"]}}
        ]
    }
    if where is not None:
        body["filters"] = where
    return body


def test_iris_ingests_150_rows_with_pandas_means(cli: Cli, server: Server, tmp_path: Path) -> None:
    config = copy_demo("iris", tmp_path, "Iris e2e")
    source = pd.read_csv(config.parent / "iris.csv")
    outcome = cli.ok_json("run", str(config))
    assert [c["rows"] for c in outcome["commits"]] == [len(source)] == [150]
    project = server.project("Iris e2e")
    dc = server.dc_id(project, "iris_table")
    rows = server.rows(dc).to_pandas()
    assert len(rows) == len(source)
    assert set(rows["depictio_run_id"]) == {"default"}
    (overall,) = server.query(dc, mean_query("sepal.length"))
    expected = round(float(source["sepal.length"].mean()), 4)
    assert round(overall["rows"][0]["mean(sepal.length)"], 4) == expected == 5.8433
    virginica = {
        dc: {
            "column": {
                "column": "variety",
                "in_values": {"values": [{"string_value": "Virginica"}]},
            }
        }
    }
    (filtered,) = server.query(dc, mean_query("sepal.length", virginica))
    expected_virginica = source.loc[source["variety"] == "Virginica", "sepal.length"].mean()
    assert filtered["rows"][0]["mean(sepal.length)"] == pytest.approx(expected_virginica)
    assert round(expected_virginica, 3) == 6.588

    # --overwrite rebuilds the table from the files: a new version, the same 150 rows.
    before = server.version(dc)
    rebuilt = cli.ok_json("data", "process", str(config), "--overwrite")
    assert [c["rows"] for c in rebuilt["commits"]] == [150]
    assert server.version(dc) == (before or 0) + 1
    assert server.rows(dc).num_rows == len(source)


def test_dry_run_prints_the_plan_and_changes_nothing(
    cli: Cli, server: Server, tmp_path: Path
) -> None:
    config = copy_demo("penguins", tmp_path, "Penguins dry run")
    plan = cli.ok_json("run", str(config), "--dry-run")
    assert plan["dry_run"] is True
    assert plan["project_exists"] is False
    commits = {c["data_collection"]: c for c in plan["commits"]}
    assert set(commits) == {
        "penguins_pipeline.physical_features",
        "penguins_pipeline.demographic_data",
    }
    assert commits["penguins_pipeline.physical_features"]["runs"] == PENGUIN_RUNS
    assert plan["joins"] == ["penguins_complete"]
    names = [p["name"] for p in server.get("/api/v1/projects", page_size=500)["items"]]
    assert "Penguins dry run" not in names


def per_run_counts(table: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in table.to_pandas()["depictio_run_id"].value_counts().items()}


def test_penguins_runs_tables_join_idempotence_change_and_delete(
    cli: Cli, server: Server, tmp_path: Path
) -> None:
    config = copy_demo("penguins", tmp_path, "Penguins e2e")
    runs_dir = config.parent / "runs"
    physical = source_frame(runs_dir, "physical_features.csv")
    demographic = source_frame(runs_dir, "demographic_data.csv")

    outcome = cli.ok_json("run", str(config))
    assert outcome["runs"] == PENGUIN_RUNS
    project = server.project("Penguins e2e")
    assert sorted(r["run_tag"] for r in server.runs(project["id"])) == PENGUIN_RUNS
    ids = {
        tag: server.dc_id(project, tag)
        for tag in ("physical_features", "demographic_data", "penguins_complete")
    }

    for tag, frame in (("physical_features", physical), ("demographic_data", demographic)):
        table = server.rows(ids[tag])
        assert table.num_rows == len(frame)
        assert per_run_counts(table) == frame["run"].value_counts().to_dict()
    joined_expected = physical.merge(
        demographic.drop(columns="run"), on="individual_id", how="inner"
    )
    joined = server.rows(ids["penguins_complete"]).to_pandas()
    assert len(joined) == len(joined_expected) == 342
    species = joined["species"].value_counts().to_dict()
    assert species == joined_expected["species"].value_counts().to_dict()
    assert species == {"Adelie": 151, "Gentoo": 123, "Chinstrap": 68}
    versions = {tag: server.version(dc) for tag, dc in ids.items()}

    # A second run ingests nothing and says so.
    again = cli("run", str(config))
    assert again.returncode == 0, again.stderr
    assert "nothing to ingest" in again.stderr
    assert {tag: server.version(dc) for tag, dc in ids.items()} == versions
    assert cli.ok_json("run", str(config))["commits"] == []

    # Changing one file replaces exactly that run's rows.
    changed_file = runs_dir / "run_2_chinstrap" / "physical_features.csv"
    chinstrap = pd.read_csv(changed_file)
    chinstrap.head(60).to_csv(changed_file, index=False)
    outcome = cli.ok_json("run", str(config))
    assert [(c["data_collection"], c["runs"]) for c in outcome["commits"]] == [
        ("penguins_pipeline.physical_features", ["run_2_chinstrap"])
    ]
    statuses = {(f["run"], f["path"]): f["status"] for f in outcome["files"]}
    assert statuses[("run_2_chinstrap", "physical_features.csv")] == "changed"
    expected_counts = (
        source_frame(runs_dir, "physical_features.csv")["run"].value_counts().to_dict()
    )
    assert expected_counts["run_2_chinstrap"] == 60
    assert per_run_counts(server.rows(ids["physical_features"])) == expected_counts
    assert server.version(ids["demographic_data"]) == versions["demographic_data"]
    assert len(server.rows(ids["penguins_complete"])) == 342 - 8

    # Deleting a file and rescanning removes its rows (and its registration).
    (runs_dir / "run_3_gentoo" / "demographic_data.csv").unlink()
    scan = cli.ok_json("data", "scan", str(config))
    assert scan["summary"]["removed"] == 1
    cli.ok_json("run", str(config))
    remaining = per_run_counts(server.rows(ids["demographic_data"]))
    assert remaining == {"run_1_adelie": 151, "run_2_chinstrap": 68}
    registered = {
        (f["run_id"], f["data_collection_id"], f["path"]) for f in server.files(project["id"])
    }
    assert len(registered) == 5
    assert len(server.rows(ids["penguins_complete"])) == 151 + 60


def test_flat_runs_wildcard_captures_and_keep_columns(
    cli: Cli, server: Server, tmp_path: Path
) -> None:
    """Each location of a flat workflow is a run; `{sample}` captures become a column;
    keep_columns drops the rest."""
    expected = []
    for run in ("batch_a", "batch_b"):
        for sample, reads in (("S1", 10), ("S22", 7)):
            folder = tmp_path / run / "qc"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{sample}_metrics.tsv").write_text(
                f"reads\tnoise\n{reads}\t0.5\n{reads * 2}\t0.25\n"
            )
            expected += [(run, sample, reads), (run, sample, reads * 2)]
    (tmp_path / "batch_a" / "qc" / "notes.tsv").write_text("reads\tnoise\n1\t1\n")
    config = tmp_path / "project.yaml"
    config.write_text(
        """\
name: "Flat wildcards"
project_type: "advanced"
workflows:
  - name: "qc"
    engine: {name: "snakemake"}
    data_location:
      structure: "flat"
      locations: ["batch_a", "batch_b"]
    data_collections:
      - data_collection_tag: "metrics"
        config:
          type: "Table"
          scan:
            mode: "recursive"
            scan_parameters:
              regex_config:
                pattern: "qc/{sample}_metrics\\\\.tsv"
                wildcards: [{name: "sample", wildcard_regex: "S[0-9]+"}]
          dc_specific_properties:
            format: "TSV"
            keep_columns: ["reads"]
"""
    )
    outcome = cli.ok_json("run", str(config))
    assert outcome["runs"] == ["batch_a", "batch_b"]
    assert outcome["summary"]["added"] == 4
    project = server.project("Flat wildcards")
    table = server.rows(server.dc_id(project, "metrics")).to_pandas()
    assert set(table.columns) == {"reads", "sample", "depictio_run_id", "depictio_file"}
    got = sorted(zip(table["depictio_run_id"], table["sample"], table["reads"], strict=True))
    assert got == sorted(expected)
    assert set(table["depictio_file"]) == {"qc/S1_metrics.tsv", "qc/S22_metrics.tsv"}
