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
