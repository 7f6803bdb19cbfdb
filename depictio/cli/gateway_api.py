"""The gateway's REST API as the CLI uses it: one synchronous HTTP client, errors as CliFailure.

The CLI never talks to a service or to storage directly; everything goes through here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import pyarrow as pa

from depictio.cli.credentials import Credentials
from depictio.cli.failures import CliFailure, GatewayRefused, UsageFailure

ARROW_STREAM = "application/vnd.apache.arrow.stream"
# Unary calls get this long; uploads and downloads of whole tables get UPLOAD_TIMEOUT.
TIMEOUT_SECONDS = 60.0
UPLOAD_TIMEOUT_SECONDS = 1800.0
PAGE_SIZE = 500
# Largest piece of an upload body handed to the HTTP client at once. Its socket writes copy
# what is left of a piece after each partial send, so a piece of tens of MB is copied over and
# over (measured: 2.7 s of CPU per GB sent in 33 MB pieces, 0.5 s in 1 MiB pieces).
UPLOAD_PIECE_BYTES = 1024 * 1024


class GatewayApi:
    """Calls the gateway at `credentials.url` with `credentials.token`."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.http = httpx.Client(base_url=credentials.url, timeout=TIMEOUT_SECONDS)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> GatewayApi:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def headers(self, token: str | None = None) -> dict[str, str]:
        bearer = self.credentials.token if token is None else token
        return {"authorization": f"Bearer {bearer}"} if bearer else {}

    def request(
        self,
        method: str,
        path: str,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One call; a transport error or an error status becomes a CliFailure saying which."""
        headers = {**self.headers(token), **(headers or {})}
        try:
            response = self.http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise CliFailure(
                f"cannot reach the gateway at {self.credentials.url} ({method} {path}): "
                f"{exc.__class__.__name__}: {exc}"
            ) from exc
        raise_for_status(response, method, path)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()

    # identity

    def login(self, email: str, password: str) -> str:
        """An access token for the account."""
        body = {"email": email, "password": password}
        return str(self.json("POST", "/api/v1/auth/login", json=body)["access_token"])

    def create_api_token(self, access_token: str, name: str) -> tuple[str, str]:
        """A new API token of the signed-in user: (id, secret)."""
        created = self.request(
            "POST", "/api/v1/auth/tokens", token=access_token, json={"name": name}
        ).json()
        return str(created["id"]), str(created["secret"])

    def revoke_api_token(self, token_id: str) -> None:
        self.request("DELETE", f"/api/v1/auth/tokens/{token_id}")

    def me(self) -> dict[str, Any]:
        return dict(self.json("GET", "/api/v1/auth/me"))

    # projects, runs and files

    def sync_project(self, config: dict[str, Any]) -> dict[str, Any]:
        """Creates or syncs the project the config describes."""
        return dict(self.json("POST", "/api/v1/projects", json=config))

    def get_project(self, project_id: str) -> dict[str, Any]:
        return dict(self.json("GET", f"/api/v1/projects/{project_id}"))

    def delete_project(self, project_id: str) -> None:
        self.request("DELETE", f"/api/v1/projects/{project_id}")

    def pages(self, path: str, **params: str) -> Iterator[dict[str, Any]]:
        """Every item of a paged list."""
        token = ""
        while True:
            query = {**params, "page_size": str(PAGE_SIZE), "page_token": token}
            page = self.json("GET", path, params=query)
            yield from page["items"]
            token = page.get("next_page_token") or ""
            if not token:
                return

    def find_project(self, project_id: str | None, name: str) -> dict[str, Any]:
        """The project by id (when the config gives one), else by name; UsageFailure if absent."""
        if project_id:
            try:
                return self.get_project(project_id)
            except GatewayRefused as exc:
                if exc.status != 404:
                    raise
        for project in self.pages("/api/v1/projects"):
            if project["name"] == name:
                return self.get_project(project["id"])
        raise UsageFailure(
            f"project {name!r} is not on the server (or you cannot read it): "
            "run `depictio project sync FILE` first"
        )

    def files(self, project_id: str) -> list[dict[str, Any]]:
        return list(self.pages(f"/api/v1/projects/{project_id}/files"))

    def runs(self, project_id: str) -> list[dict[str, Any]]:
        return list(self.pages(f"/api/v1/projects/{project_id}/runs"))

    def register_run(self, project_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.json("POST", f"/api/v1/projects/{project_id}/runs", json=body))

    # tables

    def schema(self, data_collection_id: str) -> dict[str, Any] | None:
        """The table's columns with their specs; None while it has no table."""
        try:
            return dict(self.json("GET", f"/api/v1/datacollections/{data_collection_id}/schema"))
        except GatewayRefused as exc:
            if exc.status == 404 and "has no table yet" in exc.message:
                return None
            raise

    def upload(
        self, data_collection_id: str, body: Iterable[bytes | memoryview], params: dict[str, Any]
    ) -> dict[str, Any]:
        """Streams an Arrow IPC body into one commit: {version, rows, bytes}."""
        path = f"/api/v1/datacollections/{data_collection_id}/upload"
        return dict(
            self.json(
                "POST",
                path,
                params=params,
                content=bounded_pieces(body, UPLOAD_PIECE_BYTES),
                headers={"content-type": ARROW_STREAM},
                timeout=UPLOAD_TIMEOUT_SECONDS,
            )
        )

    def rows(self, data_collection_id: str) -> pa.Table:
        """The whole table, read as an Arrow stream."""
        path = f"/api/v1/datacollections/{data_collection_id}/rows"
        response = self.request(
            "GET", path, params={"format": "arrow"}, timeout=UPLOAD_TIMEOUT_SECONDS
        )
        return pa.ipc.open_stream(pa.BufferReader(response.content)).read_all()

    # dashboards

    def import_dashboard(self, yaml_text: str, project_id: str) -> dict[str, Any]:
        return dict(
            self.json(
                "POST",
                "/api/v1/dashboards/import",
                params={"project_id": project_id} if project_id else {},
                content=yaml_text.encode(),
                headers={"content-type": "application/yaml"},
            )
        )

    def export_dashboard(self, dashboard_id: str) -> str:
        return self.request("GET", f"/api/v1/dashboards/{dashboard_id}/yaml").text


def bounded_pieces(chunks: Iterable[bytes | memoryview], size: int) -> Iterator[memoryview]:
    """`chunks` cut into views of at most `size` bytes (no copies)."""
    for chunk in chunks:
        view = memoryview(chunk).cast("B")
        for start in range(0, len(view), size):
            yield view[start : start + size]


def raise_for_status(response: httpx.Response, method: str, path: str) -> None:
    """GatewayRefused naming the call, the status and the gateway's detail."""
    if response.is_success:
        return
    try:
        detail = response.json().get("detail", response.text)
    except (json.JSONDecodeError, AttributeError):
        detail = response.text
    if not isinstance(detail, str):
        detail = json.dumps(detail)
    status = response.status_code
    if status == 401:
        raise GatewayRefused(
            f"the gateway refused the credentials ({method} {path}: 401 {detail}); "
            "run `depictio login` again or check DEPICTIO_TOKEN",
            status,
        )
    raise GatewayRefused(f"{method} {path}: {status} {detail}", status)
