"""Finding a row in delimited text (CSV, TSV), to name its line in an error."""

from __future__ import annotations

import csv
from collections.abc import Iterable


def first_line_with(lines: Iterable[str], separator: str, column: str, value: str) -> int | None:
    """The line number of the first row whose `column` (named in the header line) holds
    `value`; None when there is none."""
    try:
        reader = csv.reader(lines, delimiter=separator)
        header = next(reader, None)
        if header is None or column not in header:
            return None
        index = header.index(column)
        for row in reader:
            if len(row) > index and row[index] == value:
                return reader.line_num
    except csv.Error:
        return None
    return None


def first_ragged_line(lines: Iterable[str], separator: str) -> tuple[int, int, int] | None:
    """(line number, fields, the header's fields) of the first row whose width differs from
    the header's (blank lines skipped, as pyarrow does); None when there is none."""
    try:
        reader = csv.reader(lines, delimiter=separator)
        header = next(reader, None)
        if header is None:
            return None
        for row in reader:
            if row and len(row) != len(header):
                return reader.line_num, len(row), len(header)
    except csv.Error:
        return None
    return None


def ragged_message(where: object, ragged: tuple[int, int, int]) -> str:
    """What is said of the row first_ragged_line found in `where` (a file, a body)."""
    line, fields, expected = ragged
    return f"{where}, line {line}: {fields} fields, expected {expected} (as in the header)"
