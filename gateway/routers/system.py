"""Service health and the public signing keys."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from gateway.backends import SERVING
from gateway.identity import Services
from gateway.models import ErrorPublic, HealthPublic, JsonWebKeyPublic, JwksPublic, ServiceHealth

router = APIRouter(tags=["system"])

JWKS_MAX_AGE_SECONDS = 300


@router.get(
    "/healthz",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "A service is not serving."}},
)
async def healthz(response: Response, services: Services) -> HealthPublic:
    """Each service's health; 503 unless every one is SERVING."""
    health = await services.health()
    healthy = all(state == SERVING for state, _ in health.values())
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return HealthPublic(
        status="ok" if healthy else "degraded",
        services={
            name: ServiceHealth(status=state, address=address)
            for name, (state, address) in health.items()
        },
    )


@router.get(
    "/.well-known/jwks.json",
    response_model=JwksPublic,
    responses={503: {"model": ErrorPublic, "description": "auth_svc is unreachable."}},
)
async def jwks(response: Response, services: Services) -> JwksPublic:
    """The public keys that verify access tokens (RFC 7517)."""
    keys = await services.auth().get_jwks()
    response.headers["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE_SECONDS}"
    return JwksPublic(keys=[JsonWebKeyPublic.model_validate(key) for key in keys])
