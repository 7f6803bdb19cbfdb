"""How many grid rows the Viewer loads with the page, from the window's height."""

from __future__ import annotations

from dash_apps.viewer.layout import FOLD_ROWS, fold_rows


def test_rows_shown_by_the_first_screen_count_the_last_one_partly_shown() -> None:
    # Rows are 60 px with 12 px between them, below 160 px of header, title and tabs.
    assert fold_rows(160 + 72) == 1
    assert fold_rows(160 + 72 + 1) == 2
    assert fold_rows(900) == 11  # 740 px: 10 whole rows and part of the 11th
    assert fold_rows(2400) == 32
    assert fold_rows(100) == 1  # a window smaller than the header still shows the first row


def test_an_unknown_height_is_a_usual_screen() -> None:
    assert fold_rows(None) == FOLD_ROWS == 12
