"""The frame every page shares: Mantine provider, header with navigation, colour scheme.

The colour scheme lives in a plain cookie (`depictio_scheme`, readable by the page) so that
the server renders a page in the scheme it will be shown in; the header's switch flips it on
the client, without a round trip.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, cast
from urllib.parse import quote, urlparse

import dash_mantine_components as dmc
from dash import Dash, Input, Output, dcc, html
from flask import Flask, request

from dash_apps.native_builtins import keep_native_builtins
from dash_apps.session import current_identity
from depictio.config import AuthMode
from depictio.tokens import Identity

SCHEME_COOKIE = "depictio_scheme"
Scheme = Literal["light", "dark"]

NAVIGATION = (
    ("Projects", "/projects"),
    ("Dashboards", "/dashboards"),
    ("API tokens", "/tokens"),
)
# What visitors who are not signed in may open in public mode (and project pages).
PUBLIC_PAGES = ("/", "/projects", "/dashboards")


def current_scheme() -> Scheme:
    """The colour scheme the visitor chose ('light' unless the cookie says 'dark')."""
    return "dark" if request.cookies.get(SCHEME_COOKIE) == "dark" else "light"


def sign_in_href(path: str) -> str:
    """The sign-in page, coming back to `path` afterwards."""
    if not path or path in ("/", "/login", "/register"):
        return "/login"
    return f"/login?next={quote(path, safe='/')}"


def header(identity: Identity, auth_mode: AuthMode, path: str = "") -> html.Header:
    """The top bar: the product, navigation (for visitors in public mode, to what they may
    read), the scheme switch, the user (or, for a visitor, a sign-in link coming back to
    `path`)."""
    links: list[Any] = []
    if not identity.anonymous or auth_mode is AuthMode.PUBLIC:
        links = [
            dmc.Anchor(label, href=href, id=f"nav-{href.strip('/')}", refresh=True)
            for label, href in NAVIGATION
            if not identity.anonymous or href in PUBLIC_PAGES
        ]
        if identity.is_admin:
            links.append(dmc.Anchor("Admin", href="/admin", id="nav-admin", refresh=True))
    if identity.anonymous:
        account: Any = dmc.Anchor(
            "Sign in", href=sign_in_href(path), id="nav-sign-in", refresh=True
        )
    elif auth_mode is AuthMode.SINGLE_USER:
        account = dmc.Text("local admin (single-user mode)", size="sm", c="dimmed")
    else:
        account = html.Form(
            [
                dmc.Text(identity.email, size="sm", id="current-user"),
                html.Button("Sign out", type="submit", id="sign-out", className="dpt-link-button"),
            ],
            action="/auth/logout",
            method="POST",
            style={"display": "flex", "gap": "8px", "alignItems": "center"},
        )
    return html.Header(
        dmc.Group(
            [
                dmc.Group(
                    [
                        dmc.Anchor(
                            dmc.Title("Depictio", order=3),
                            href="/",
                            underline="never",
                            refresh=True,
                        ),
                        *links,
                    ]
                ),
                dmc.Group(
                    [
                        dmc.Switch(
                            id="scheme-switch",
                            label="Dark",
                            checked=current_scheme() == "dark",
                            size="sm",
                        ),
                        account,
                    ]
                ),
            ],
            justify="space-between",
            p="sm",
        ),
        style={"borderBottom": "1px solid var(--mantine-color-default-border)"},
    )


def page_frame(
    identity: Identity,
    auth_mode: AuthMode = AuthMode.AUTH,
    content: Any = None,
    rendered_path: str = "",
    path: str = "",
) -> dmc.MantineProvider:
    """A whole page (at `path`) in the visitor's scheme: the header, then the content (`page`).

    `content` is the page of `rendered_path` when it was rendered with the frame; otherwise
    the app's route callback fills `page`."""
    return dmc.MantineProvider(
        html.Div(
            [
                dcc.Location(id="url", refresh="callback-nav"),
                dcc.Store(id="prerendered", data=rendered_path),
                dcc.Store(id="route-request"),
                header(identity, auth_mode, path),
                html.Main(html.Div(content, id="page"), style={"padding": "16px"}),
            ]
        ),
        id="scheme-provider",
        forceColorScheme=current_scheme(),
    )


def register_scheme_switch(app: Dash) -> None:
    """The switch sets the cookie and the provider's scheme on the client."""
    app.clientside_callback(
        f"""function(checked) {{
            const scheme = checked ? "dark" : "light";
            document.cookie = "{SCHEME_COOKIE}=" + scheme +
                "; path=/; max-age=31536000; SameSite=Lax";
            return scheme;
        }}""",
        Output("scheme-provider", "forceColorScheme"),
        Input("scheme-switch", "checked"),
        prevent_initial_call=True,
    )


VIEWPORT_COOKIE = "depictio_viewport_height"
PIXEL_RATIO_COOKIE = "depictio_pixel_ratio"
# The page's first script: the window's height and pixel ratio go to the server with the
# layout request (cookies), for pages to fetch what the first screen shows and to draw WebGL
# figures at the screen's resolution; and AG Grid's themes take their
# colours from `data-ag-theme-mode` on an ancestor: the page's root mirrors Mantine's scheme
# into it (set from the cookie, then by the switch).
PAGE_HEAD = f"""<script>
document.cookie = "{VIEWPORT_COOKIE}=" + Math.round(window.innerHeight) + "; path=/; SameSite=Lax";
document.cookie = "{PIXEL_RATIO_COOKIE}=" + window.devicePixelRatio + "; path=/; SameSite=Lax";
(() => {{
    const root = document.documentElement;
    const follow = () => root.setAttribute("data-ag-theme-mode",
        root.getAttribute("data-mantine-color-scheme") === "dark" ? "dark" : "light");
    new MutationObserver(follow).observe(
        root, {{attributes: true, attributeFilter: ["data-mantine-color-scheme"]}});
    follow();
}})();
</script>"""


def add_to_head(app: Dash, markup: str) -> None:
    """`markup` (a script, a stylesheet) at the end of the head of `app`'s page."""
    app.index_string = app.index_string.replace("</head>", f"{markup}\n</head>", 1)


def add_page_head(app: Dash) -> None:
    """PAGE_HEAD in the head of `app`'s page."""
    add_to_head(app, PAGE_HEAD)


def viewport_height() -> int | None:
    """The visitor's window height in CSS pixels, from the page's cookie (None without one, or
    for a value no window has)."""
    raw = request.cookies.get(VIEWPORT_COOKIE, "")
    return int(raw) if raw.isdigit() and 100 <= int(raw) <= 20_000 else None


def device_pixel_ratio() -> float | None:
    """The visitor's screen pixels per CSS pixel, from the page's cookie (None without one, or
    for a value outside 1–4, the range Plotly accepts for WebGL figures)."""
    try:
        ratio = float(request.cookies.get(PIXEL_RATIO_COOKIE, ""))
    except ValueError:
        return None
    return ratio if 1 <= ratio <= 4 else None


def dash_app(
    name: str,
    server: Flask,
    prefix: str,
    title: str,
    prerender: Callable[[str], Any] | None = None,
) -> Dash:
    """A Dash app of the dispatcher at `prefix`, with its own callback registry.

    Its layout is the page frame of the requesting visitor; each app routes `url` → `page`.
    With `prerender`, the page itself comes with the frame: the layout request's Referer is
    the page's address, so the page is rendered without waiting for the route callback (one
    round trip less when a dashboard opens)."""
    app = Dash(
        name,
        server=cast(Any, server),
        url_base_pathname=prefix,
        title=title,
        update_title="",
        suppress_callback_exceptions=True,
    )
    keep_native_builtins(app)
    add_page_head(app)
    auth_mode = server.config["DEPICTIO_SETTINGS"].auth_mode

    def layout() -> dmc.MantineProvider:
        path = urlparse(request.referrer or "").path
        if prerender is not None and path.startswith(prefix) and path != prefix:
            return page_frame(current_identity(), auth_mode, prerender(path), path, path)
        return page_frame(current_identity(), auth_mode, path=path)

    app.layout = layout
    register_scheme_switch(app)
    return app


def message_page(
    title: str, message: str, page_id: str = "message-page", sign_in_to: str | None = None
) -> dmc.Container:
    """A page that only says something: no access, not found, sign in first (with a link
    to the sign-in page coming back to `sign_in_to`)."""
    body: list[Any] = [message]
    if sign_in_to is not None:
        body += [
            " ",
            dmc.Anchor("Sign in", href=sign_in_href(sign_in_to), id="sign-in-link", refresh=True),
        ]
    return dmc.Container(dmc.Alert(body, title=title, color="red", id=page_id), size="sm", pt="xl")
