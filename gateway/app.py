"""The gateway's FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from depictio.config import Settings
from depictio.rpc.channels import close_channels
from gateway.backends import Backends
from gateway.body_limit import BodyLimitMiddleware
from gateway.errors import install_error_handlers
from gateway.identity import Authenticator
from gateway.request_context import RequestContextMiddleware
from gateway.routers import admin, auth, dashboards, datacollections, projects, system, tasks


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Closes the gRPC channels when the server stops."""
    yield
    await close_channels()


def create_app(settings: Settings) -> FastAPI:
    """The REST API over the services described by `settings`."""
    app = FastAPI(
        title="Depictio API",
        version="1.0.0",
        description="REST gateway of Depictio. Access tokens are verified at the edge.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    backends = Backends(settings)
    app.state.settings = settings
    app.state.backends = backends
    app.state.authenticator = Authenticator(settings, backends)
    install_error_handlers(app)
    # Inside the request context (added first): a refused body is logged with its request id.
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(system.router)
    app.include_router(auth.router)
    app.include_router(admin.router)
    app.include_router(projects.router)
    app.include_router(dashboards.router)
    app.include_router(datacollections.router)
    app.include_router(tasks.router)
    return app
