"""The CLI's joins (inner, left, right, outer) against pandas merges of the same tables."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from depictio.cli.failures import CliFailure
from depictio.cli.joins import joined_table
from depictio.cli.project_files import DataCollectionPlan, JoinPlan


def plan(tag: str, metatype: str = "aggregate") -> DataCollectionPlan:
    return DataCollectionPlan(
        id=tag, tag=tag, workflow_name="wf", source="native", scan_mode="", filename="",
        regex_pattern="", wildcards=(), max_depth=None, ignore=[], format="csv",
        polars_kwargs={}, keep_columns=(), optional=False, metatype=metatype,
    )  # fmt: skip


LEFT = pd.DataFrame(
    {
        "id": ["a", "b", "c", "d"],
        "mass": [1.0, 2.0, 3.0, 4.0],
        "depictio_run_id": ["r1", "r1", "r2", "r2"],
        "depictio_file": ["l.csv"] * 4,
    }
)
RIGHT = pd.DataFrame(
    {
        "id": ["b", "c", "e"],
        "island": ["x", "y", "z"],
        "depictio_run_id": ["r9"] * 3,
        "depictio_file": ["r.csv"] * 3,
    }
)


@pytest.mark.parametrize("how", ["inner", "left", "right", "outer"])
def test_joins_with_a_metadata_table_equal_pandas_merges(how: str) -> None:
    # The right table is project-wide metadata: rows pair whatever their runs.
    join = JoinPlan("j", plan("left"), plan("right", "metadata"), ("id",), how, None)
    result = joined_table(join, pa.Table.from_pandas(LEFT), pa.Table.from_pandas(RIGHT)).to_pandas()
    # Provenance: the left row's; a row only the right table has keeps the right row's (it
    # was null, and the upload refused the join's rows).
    provenance = {"depictio_run_id": "right_run", "depictio_file": "right_file"}
    expected = LEFT.merge(RIGHT.rename(columns=provenance), on="id", how=how)
    for column, right_name in provenance.items():
        expected[column] = expected[column].fillna(expected[right_name])
    expected = expected.drop(columns=list(provenance.values()))
    assert result["depictio_run_id"].notna().all()
    key = ["id"]
    got = result[expected.columns].sort_values(key).reset_index(drop=True)
    want = expected.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_a_join_column_missing_on_one_side_is_named() -> None:
    join = JoinPlan("j", plan("left"), plan("right"), ("sample",), "inner", None)
    with pytest.raises(CliFailure, match=r"join 'j': the left table 'wf.left' has no column"):
        joined_table(join, pa.Table.from_pandas(LEFT), pa.Table.from_pandas(RIGHT))


# The same samples measured in two runs, and their per-run QC: a sample's metrics pair with
# its own run's QC only.
METRICS = pd.DataFrame(
    {
        "sample": ["s1", "s2", "s1", "s2", "s3"],
        "reads": [10, 20, 30, 40, 50],
        "depictio_run_id": ["run1", "run1", "run2", "run2", "run2"],
        "depictio_file": ["m1.csv", "m1.csv", "m2.csv", "m2.csv", "m2.csv"],
    }
)
QC = pd.DataFrame(
    {
        "sample": ["s1", "s2", "s1", "s4"],
        "passed": [True, False, False, True],
        "depictio_run_id": ["run1", "run1", "run2", "run2"],
        "depictio_file": ["q1.csv", "q1.csv", "q2.csv", "q2.csv"],
    }
)


@pytest.mark.parametrize("how", ["inner", "left", "right", "outer"])
def test_per_run_tables_join_within_each_run(how: str) -> None:
    join = JoinPlan("j", plan("metrics"), plan("qc"), ("sample",), how, None)
    result = joined_table(join, pa.Table.from_pandas(METRICS), pa.Table.from_pandas(QC))
    expected = METRICS.merge(
        QC.rename(columns={"depictio_file": "qc_file"}),
        on=["sample", "depictio_run_id"],
        how=how,
    )
    expected["depictio_file"] = expected["depictio_file"].fillna(expected["qc_file"])
    expected = expected.drop(columns=["qc_file"])
    key = ["depictio_run_id", "sample"]
    got = result.to_pandas()[expected.columns].sort_values(key).reset_index(drop=True)
    want = expected.sort_values(key).reset_index(drop=True)
    # A missing value is None in one frame and NaN in the other: compared as None.
    pd.testing.assert_frame_equal(
        got.astype(object).where(got.notna(), None),
        want.astype(object).where(want.notna(), None),
        check_dtype=False,
    )
    if how == "inner":
        # Hand-checked: s1 and s2 of run1, s1 of run2 — not s1 of run1 with run2's QC.
        rows = zip(got["depictio_run_id"], got["sample"], got["passed"], strict=True)
        assert sorted(rows) == [
            ("run1", "s1", True), ("run1", "s2", False), ("run2", "s1", False),
        ]  # fmt: skip
