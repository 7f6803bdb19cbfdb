"""Who is using the UI: the session cookies, their renewal, and the sign-in routes.

The session is two HTTP-only, SameSite=Lax cookies holding auth_svc's access and refresh
tokens; page scripts never see them. Before each request the access token is verified against
auth_svc's JWKS and, once expired, renewed with the refresh token (the new pair is written
back on the response). Single-user mode acts as the local admin without any cookie; public
mode lets visitors without a session in as anonymous.

A Dash background callback runs on a Celery worker, outside any request: there the visitor's
cookies come with the callback context, the access token is verified (never renewed: renewal
rotates the refresh token the browser holds) and the callback acts with a short-lived token
auth_svc mints for the task.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import dash
from flask import Flask, Response, current_app, g, has_request_context, redirect, request
from grpc import aio
from itsdangerous import BadData, URLSafeSerializer
from werkzeug.wrappers import Response as Redirect

from dash_apps.service_calls import ServiceCalls
from depictio.config import AuthMode, Settings
from depictio.errors import Unauthenticated
from depictio.tokens import ANONYMOUS, Identity

ACCESS_COOKIE = "depictio_access"
REFRESH_COOKIE = "depictio_refresh"
# Requests for scripts, styles and icons need no identity.
STATIC_MARKERS = ("/_dash-component-suites/", "/assets/", "_favicon.ico", "/_reload-hash")


@dataclass(frozen=True)
class IssuedTokens:
    """A token pair to write into the session cookies."""

    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int


BACKGROUND_TASK_NAME = "dash.background_callback"


def current_identity() -> Identity:
    """The identity of the request being served (anonymous when nobody is signed in); in a
    background callback, the visitor's identity acting with a token minted for the task."""
    if has_request_context():
        identity: Identity = g.get("identity", ANONYMOUS)
        return identity
    if _background.sessions is None:
        return ANONYMOUS
    return _background.sessions.background_identity(dash.callback_context.cookies or {})


class _Background:
    """The session reader of this process's background callbacks (set by `install`)."""

    sessions: SessionCookies | None = None


def rpc_message(exc: aio.AioRpcError) -> str:
    """What a refused or failed call says, for a person."""
    return exc.details() or exc.code().name


def safe_next(target: str | None) -> str:
    """A same-site path to go to after signing in ('/' for anything else).

    Browsers drop tabs and line breaks from a URL and read a backslash as a slash, so
    `/<tab>/evil.example` or `/\\evil.example` would lead off the site: a path with any of
    them is refused with the scheme-relative and absolute ones.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F or c.isspace() for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


_background = _Background()
# The sign-in and registration pages show an error only when this server wrote it: a link
# carrying a text of its choosing ("your account is locked, call …") shows nothing.
ERROR_SALT = "depictio-sign-in-error"


def _error_signer() -> URLSafeSerializer:
    secret = current_app.secret_key
    assert secret is not None, "the UI server sets its secret_key at start"
    return URLSafeSerializer(secret, salt=ERROR_SALT)


def signed_error(text: str) -> str:
    """`text` signed with the server's secret, for the page's `error=` parameter."""
    return str(_error_signer().dumps(text))


def error_from(token: str) -> str:
    """The text of an `error=` parameter this server signed ('' for anything else)."""
    if not token or not has_request_context():
        return ""
    try:
        text = _error_signer().loads(token)
    except BadData:
        return ""
    return text if isinstance(text, str) else ""


def same_site_only(view: Callable[[], Redirect]) -> Callable[[], Redirect | Response]:
    """`view`, refused (403) to a form another site posts: it could sign the visitor in to an
    account of its choosing (login CSRF) or out. Browsers name the posting page's origin; a
    request without one (not from a browser) is let through."""

    @functools.wraps(view)
    def checked() -> Redirect | Response:
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != request.host:
            return Response("refused: a form of another site", status=403, mimetype="text/plain")
        return view()

    return checked


class SessionCookies:
    """Reads, renews and writes the session of each request."""

    def __init__(self, calls: ServiceCalls, settings: Settings) -> None:
        self.calls = calls
        self.settings = settings
        self._task_lock = threading.Lock()
        self._task_identities: dict[str, tuple[Identity, float]] = {}

    def install(self, server: Flask) -> None:
        _background.sessions = self
        server.before_request(self.load_identity)
        server.after_request(self.write_cookies)
        for name, view in (("login", self.login), ("register", self.register)):
            server.add_url_rule(f"/auth/{name}", name, same_site_only(view), methods=["POST"])
        server.add_url_rule("/auth/logout", "logout", same_site_only(self.logout), methods=["POST"])

    def load_identity(self) -> None:
        if any(marker in request.path for marker in STATIC_MARKERS):
            return
        g.identity = self._identify()

    def _identify(self) -> Identity:
        if self.settings.auth_mode is AuthMode.SINGLE_USER:
            token = self.calls.run(self.calls.local_session.access_token())
            return self._verified(token) or ANONYMOUS
        token = request.cookies.get(ACCESS_COOKIE, "")
        identity = self._verified(token) if token else None
        if identity is not None:
            return identity
        refresh_token = request.cookies.get(REFRESH_COOKIE, "")
        if not refresh_token:
            return ANONYMOUS
        try:
            pair = self.calls.run(self.calls.auth("").refresh(refresh_token))
        except aio.AioRpcError:
            g.clear_session = True
            return ANONYMOUS
        g.issued_tokens = IssuedTokens(
            pair.access_token, pair.refresh_token, pair.expires_in, pair.refresh_expires_in
        )
        return self._verified(pair.access_token) or ANONYMOUS

    def background_identity(self, cookies: Mapping[str, str]) -> Identity:
        """A background callback's identity: the visitor's, acting with a task token (minted
        once per visitor token and reused while it has over a minute to live)."""
        if self.settings.auth_mode is AuthMode.SINGLE_USER:
            token = self.calls.run(self.calls.local_session.access_token())
        else:
            token = cookies.get(ACCESS_COOKIE, "")
        if not token or self._verified(token) is None:
            return ANONYMOUS
        with self._task_lock:
            cached = self._task_identities.get(token)
            if cached is not None and cached[1] - time.monotonic() > 60:
                return cached[0]
        minted = self.calls.run(self.calls.auth(token).mint_task_token(BACKGROUND_TASK_NAME))
        identity = self._verified(minted.access_token) or ANONYMOUS
        with self._task_lock:
            expiry = time.monotonic() + minted.expires_in
            self._task_identities = {
                key: value
                for key, value in self._task_identities.items()
                if value[1] > time.monotonic()
            }
            self._task_identities[token] = (identity, expiry)
        return identity

    def _verified(self, token: str) -> Identity | None:
        try:
            claims = self.calls.run(self.calls.verifier.verify(token))
        except Unauthenticated:
            return None
        return Identity.from_claims(claims, token)

    def write_cookies(self, response: Response) -> Response:
        issued: IssuedTokens | None = g.get("issued_tokens")
        if issued is not None:
            self._set(response, ACCESS_COOKIE, issued.access_token, issued.refresh_expires_in)
            self._set(response, REFRESH_COOKIE, issued.refresh_token, issued.refresh_expires_in)
        elif g.get("clear_session"):
            for name in (ACCESS_COOKIE, REFRESH_COOKIE):
                response.delete_cookie(name, path="/", samesite="Lax", httponly=True)
        return response

    def _set(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=self.settings.ui_secure_cookies,
        )

    def login(self) -> Redirect:
        email = request.form.get("email", "").strip()
        password = request.form.get("password", "")
        target = safe_next(request.form.get("next"))
        try:
            pair = self.calls.run(self.calls.auth("").login(email, password))
        except aio.AioRpcError as exc:
            return self._back_to("/login", rpc_message(exc), target)
        g.issued_tokens = IssuedTokens(
            pair.access_token, pair.refresh_token, pair.expires_in, pair.refresh_expires_in
        )
        return redirect(target, code=303)

    def register(self) -> Redirect:
        email = request.form.get("email", "").strip()
        password = request.form.get("password", "")
        if password != request.form.get("password_again", password):
            return self._back_to("/register", "the two passwords differ", "/")
        try:
            self.calls.run(self.calls.auth("").register(email, password))
        except aio.AioRpcError as exc:
            return self._back_to("/register", rpc_message(exc), "/")
        return self.login()

    def logout(self) -> Redirect:
        refresh_token = request.cookies.get(REFRESH_COOKIE, "")
        identity = current_identity()
        if not identity.anonymous and self.settings.auth_mode is not AuthMode.SINGLE_USER:
            try:
                self.calls.run(self.calls.auth(identity.token).logout(refresh_token))
            except aio.AioRpcError:
                pass  # The cookies go anyway: signing out must always work locally.
        g.clear_session = True
        return redirect("/login", code=303)

    @staticmethod
    def _back_to(page: str, error: str, target: str) -> Redirect:
        return redirect(f"{page}?error={signed_error(error)}&next={quote(target)}", code=303)
