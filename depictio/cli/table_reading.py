"""Reading a data collection's files with polars and aligning them into one Arrow table.

Errors name the file and, where the reader can tell, the line and column, and what was
expected. Wildcard captures become columns; `keep_columns` is honoured; every row gets
`depictio_run_id` (the run tag) and `depictio_file` (its path within the run).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv

from depictio.cli.failures import CliFailure
from depictio.cli.local_scan import ScannedFile
from depictio.delimited_text import first_line_with, first_ragged_line, ragged_message

RUN_ID_COLUMN = "depictio_run_id"
FILE_COLUMN = "depictio_file"
DELIMITED = {"csv": ",", "tsv": "\t"}


def read_source(
    file: ScannedFile,
    head_rows: int | None = None,
    schema: dict[str, pl.DataType] | None = None,
) -> pl.DataFrame:
    """One file as a DataFrame, read with the data collection's format and reader options:
    only its first `head_rows` rows when given; delimited text read with `schema`'s types."""
    dc = file.data_collection
    path = file.path
    if file.size == 0:
        raise CliFailure(f"{path}: the file is empty (0 bytes); expected a {dc.format} table")
    options = dict(dc.polars_kwargs)
    try:
        if dc.format in DELIMITED:
            options.setdefault("separator", DELIMITED[dc.format])
            if schema is not None:
                options["schema_overrides"] = {**schema, **options.get("schema_overrides", {})}
            if head_rows is not None:
                # Types guessed from every row read, not polars' first 100.
                options.setdefault("infer_schema_length", head_rows)
                return pl.read_csv(path, **{**options, "n_rows": head_rows})
            return checked_rows(file, options, pl.read_csv(path, **options))
        if dc.format == "parquet":
            return pl.read_parquet(path, **{**options, "n_rows": head_rows})
        if dc.format == "feather":
            return pl.read_ipc(path, **{**options, "n_rows": head_rows})
        if dc.format in ("xls", "xlsx"):
            frame = pl.read_excel(path, **options)
            return frame.head(head_rows) if head_rows is not None else frame
    except TypeError as exc:
        raise CliFailure(
            f"{path}: reader option not understood by polars for {dc.format} ({exc}); "
            f"check polars_kwargs of data collection {dc.tag!r}"
        ) from exc
    except ImportError as exc:
        raise CliFailure(
            f"{path}: cannot read {dc.format} files: a package polars needs for them is not "
            f"installed ({str(exc).strip().splitlines()[0]})"
        ) from exc
    except CliFailure:
        raise
    except (pl.exceptions.PolarsError, OSError, ValueError, Exception) as exc:  # noqa: BLE001
        raise CliFailure(read_error(file, options, exc)) from exc
    raise CliFailure(f"{path}: format {dc.format!r} is not supported")


def read_error(file: ScannedFile, options: dict[str, Any], exc: BaseException) -> str:
    """What went wrong reading a file: for delimited text, the first line with the wrong
    number of fields when there is one."""
    dc = file.data_collection
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if dc.format in DELIMITED:
        separator = str(options.get("separator", ","))
        ragged = first_ragged_line_of(file.path, separator)
        if ragged is not None:
            return ragged_message(file.path, ragged)
        unparsable = UNPARSABLE.search(str(exc))
        if unparsable is not None:
            value, dtype, column = unparsable.groups()
            line = first_line_in_file(file.path, separator, column, value)
            where = f", line {line}" if line is not None else ""
            return (
                f"{file.path}{where}, column {column!r}: {value!r} does not parse as {dtype}, "
                f"the column's type in its first rows and the other files"
            )
    return f"{file.path}: not a readable {dc.format} file ({first_line})"


# polars' message for a value of the wrong type: the value, the type and the column.
UNPARSABLE = re.compile(r"could not parse `(.*?)` as dtype `(.*?)` at column '(.*?)'")


def first_line_in_file(path: Path, separator: str, column: str, value: str) -> int | None:
    """The line number of the first row of the file whose `column` holds `value`."""
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            return first_line_with(handle, separator, column, value)
    except OSError:
        return None


def polars_type(arrow_type: pa.DataType) -> pl.DataType:
    """The polars type that holds `arrow_type`'s values."""
    return pl.from_arrow(pa.array([], arrow_type)).dtype  # type: ignore[union-attr]


def first_unparsable(
    files: Sequence[ScannedFile], column: str, target: pa.DataType
) -> tuple[Path, int | None, str] | None:
    """The first value of `column` in the delimited `files` that does not parse as `target`
    (its file, line and text); None when every value does, or the files are not text."""
    wanted = polars_type(target)
    for file in files:
        dc = file.data_collection
        if dc.format not in DELIMITED:
            continue
        frame = read_source(file, schema={column: pl.String()})
        if column not in frame.columns:
            continue
        text = frame.get_column(column)
        bad = (text.is_not_null() & text.cast(wanted, strict=False).is_null()).arg_true()
        if len(bad):
            value = str(text[int(bad[0])])
            separator = str(dc.polars_kwargs.get("separator", DELIMITED[dc.format]))
            return file.path, first_line_in_file(file.path, separator, column, value), value
    return None


# Reader options under which the width checks below would read the layout differently from
# polars: with one of these (or truncate_ragged_lines=True) the short-row check is left out.
OTHER_LAYOUT = ("skip_rows", "skip_lines", "comment_prefix", "quote_char", "eol_char")


def checked_rows(file: ScannedFile, options: dict[str, Any], frame: pl.DataFrame) -> pl.DataFrame:
    """The frame, unless a row had fewer fields than the header, and without the rows of blank
    lines. polars reads both as nulls without a word, so a frame with nulls is checked (a row
    with more fields is already an error in polars). pyarrow's parser checks the widths fast
    and skips blank lines, as pandas does; only when it objects are the lines read one by one,
    for the line number."""
    if options.get("truncate_ragged_lines") or any(name in options for name in OTHER_LAYOUT):
        return frame
    if frame.height == 0 or not any(count for count in frame.null_count().row(0)):
        return frame
    separator = str(options["separator"])
    rows = rows_as_wide_as_header(file.path, separator, frame.columns[0])
    if rows is None:
        ragged = first_ragged_line_of(file.path, separator)
        if ragged is not None:
            raise CliFailure(ragged_message(file.path, ragged))
        return frame
    if rows < frame.height:
        return frame.filter(~pl.all_horizontal(pl.all().is_null()))
    return frame


def rows_as_wide_as_header(path: Path, separator: str, first_column: str) -> int | None:
    """The rows pyarrow's CSV parser reads from the file (blank lines skipped), or None when it
    refuses a row whose width differs from the header's (it converts only the first column,
    as text)."""
    rows = 0
    try:
        reader = pa_csv.open_csv(
            path,
            parse_options=pa_csv.ParseOptions(delimiter=separator),
            convert_options=pa_csv.ConvertOptions(
                include_columns=[first_column], column_types={first_column: pa.string()}
            ),
        )
        for batch in reader:
            rows += batch.num_rows
    except (pa.ArrowException, OSError, ValueError):
        return None
    return rows


def first_ragged_line_of(path: Path, separator: str) -> tuple[int, int, int] | None:
    """first_ragged_line of a file (None when it cannot be read)."""
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            return first_ragged_line(handle, separator)
    except OSError:
        return None


def prepared_frame(file: ScannedFile, frame: pl.DataFrame) -> pl.DataFrame:
    """A file's frame with wildcard columns, kept columns and the provenance columns (these
    as categoricals: one value per file travels as a dictionary, not once per row)."""
    dc = file.data_collection
    if dc.keep_columns:
        missing = [name for name in dc.keep_columns if name not in frame.columns]
        if missing:
            raise CliFailure(
                f"{file.path}: keep_columns of {dc.tag!r} names {missing}, which the file lacks "
                f"(it has {frame.columns})"
            )
        frame = frame.select(dc.keep_columns)
    reserved = [name for name in (RUN_ID_COLUMN, FILE_COLUMN) if name in frame.columns]
    if reserved:
        raise CliFailure(
            f"{file.path}: column {reserved[0]!r} is Depictio's own (each row's run or file); "
            "rename it in the file, or leave it out with keep_columns"
        )
    for name, value in file.captures:
        if name in frame.columns:
            raise CliFailure(
                f"{file.path}: wildcard {name!r} would replace the file's own column {name!r}"
            )
        frame = frame.with_columns(pl.lit(value, pl.String).alias(name))
    return frame.with_columns(
        pl.lit(file.run_tag, pl.Categorical).alias(RUN_ID_COLUMN),
        pl.lit(file.relative, pl.Categorical).alias(FILE_COLUMN),
    )


def _kind(dtype: pl.DataType) -> str:
    if dtype == pl.Null:
        return "null"
    if dtype.is_integer() or dtype.is_float():
        return "number"
    if isinstance(dtype, pl.String | pl.Categorical | pl.Enum):
        # A column of categories (pandas' category dtype) in one file is text in another's.
        return "text"
    return str(dtype)


def valueless_as_null(file: ScannedFile, frame: pl.DataFrame) -> pl.DataFrame:
    """A delimited file's frame with its columns that hold no value typed Null: polars reads
    them as text, which is no type of theirs (an empty column, a file of a header only)."""
    if file.data_collection.format not in DELIMITED:
        return frame
    empty = [
        name
        for name, dtype in frame.schema.items()
        if dtype == pl.String and frame.get_column(name).null_count() == frame.height
    ]
    return frame.with_columns(pl.col(name).cast(pl.Null) for name in empty) if empty else frame


def aligned_schema(frames: Sequence[tuple[ScannedFile, pl.DataFrame]]) -> dict[str, pl.DataType]:
    """The union of the frames' columns, each with one type: integers widen to Float64 when
    any file has floats, categories to text when any file has plain text; a column null
    everywhere stays Null (see settled_schema). A column
    whose type differs otherwise is a CliFailure naming the column, both types and both
    files."""
    first_seen: dict[str, tuple[str, pl.DataType, ScannedFile]] = {}
    schema: dict[str, pl.DataType] = {}
    for file, frame in frames:
        for name, dtype in frame.schema.items():
            kind = _kind(dtype)
            schema.setdefault(name, dtype)
            if kind == "null":
                continue
            seen = first_seen.get(name)
            if seen is None:
                first_seen[name] = (kind, dtype, file)
                schema[name] = dtype
            elif seen[0] != kind:
                raise CliFailure(
                    f"column {name!r} changes type across files of {file.data_collection.tag!r}: "
                    f"{seen[1]} in {seen[2].path} but {dtype} in {file.path}"
                )
            elif kind == "number" and dtype != schema[name]:
                schema[name] = (
                    pl.Float64() if (dtype.is_float() or schema[name].is_float()) else pl.Int64()
                )
            elif kind == "text" and dtype != schema[name]:
                schema[name] = pl.String()
    return schema


def settled_schema(
    schema: dict[str, pl.DataType], stored: dict[str, pl.DataType]
) -> dict[str, pl.DataType]:
    """`schema` with its Null columns typed as the table `stored` types them, else as text."""
    return {
        name: (stored.get(name, pl.String()) if dtype == pl.Null else dtype)
        for name, dtype in schema.items()
    }


def conformed_frame(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """`frame` with exactly `schema`'s columns, in its order and types (missing ones null)."""
    return frame.select(
        [
            pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype).alias(name)
            for name, dtype in schema.items()
        ]
    )
