"""The plain elements a dashboard component is framed with, and their stylesheet.

A component's panel, title, notes, error line and footers are plain `html.Div`s styled by
the classes below (with Mantine's theme variables, so they follow the colour scheme) rather
than Mantine components: a 16-component dashboard holds about 60 of them, and Mantine resolves
each one's style props in JavaScript as the page renders (an interleaved A/B of 15 opens of
the 16-component benchmark dashboard: ~40 ms less to paint with plain elements).
"""

from __future__ import annotations

from typing import Any, Literal

from dash import Dash, html

from dash_apps.shell import add_to_head

FRAME_CSS = """<style>
.dpt-panel {
    border: 1px solid var(--mantine-color-default-border);
    border-radius: var(--mantine-radius-default);
    background: var(--mantine-color-body);
    padding: var(--mantine-spacing-xs);
    display: flex; flex-direction: column; gap: 4px; overflow: hidden;
}
.dpt-title {
    font-size: var(--mantine-font-size-sm); line-height: var(--mantine-line-height-sm);
    font-weight: 600;
}
.dpt-note { font-size: var(--mantine-font-size-xs); line-height: var(--mantine-line-height-xs); }
.dpt-tone-orange { color: var(--mantine-color-orange-text); }
.dpt-tone-red { color: var(--mantine-color-red-text); }
.dpt-footer {
    display: flex; flex-wrap: wrap; align-items: center; gap: var(--mantine-spacing-xs);
}
.dpt-footer-spread { justify-content: space-between; gap: var(--mantine-spacing-md); }
/* A card is a size container: its value's font shrinks to fit (values.value_font_size), and
   what still cannot fit ends in an ellipsis rather than being cut without a sign. */
.dpt-card { container-type: inline-size; }
.dpt-card-value { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
/* A text longer than its cell scrolls (the cell never grows with its content). */
.dpt-text { flex: 1; min-height: 0; overflow: auto; }
/* A multi-select says "All" only while nothing is chosen (Mantine keeps its placeholder beside
   the chosen values). */
.mantine-MultiSelect-pillsList:has(.mantine-MultiSelect-pill)
    .mantine-MultiSelect-inputField::placeholder { color: transparent; }
</style>"""

Tone = Literal["orange", "red"]


def add_frame_styles(app: Dash) -> None:
    """FRAME_CSS in the head of `app`'s page."""
    add_to_head(app, FRAME_CSS)


def panel(
    children: list[Any], style: dict[str, Any] | None = None, classes: str = "", **attributes: Any
) -> html.Div:
    """A component's bordered panel (with `classes` besides its own)."""
    return html.Div(
        children, className=f"{classes} dpt-panel".strip(), style=style or {}, **attributes
    )


def title(text: str) -> html.Div:
    return html.Div(text, className="dpt-title")


def small_text(text: str, tone: Tone | None = None, **attributes: Any) -> html.Div:
    """A line of small text (coloured by `tone`)."""
    classes = "dpt-note" + (f" dpt-tone-{tone}" if tone else "")
    return html.Div(text, className=classes, **attributes)


def footer(children: list[Any], spread: bool = False) -> html.Div:
    """A row of small parts below a figure or table (`spread`: pushed to both ends)."""
    return html.Div(children, className="dpt-footer" + (" dpt-footer-spread" if spread else ""))
