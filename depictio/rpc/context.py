"""Per-call context (request id, caller identity) carried in context variables."""

from __future__ import annotations

from contextvars import ContextVar

from depictio.errors import Unauthenticated
from depictio.tokens import ANONYMOUS, Identity

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
identity_var: ContextVar[Identity] = ContextVar("identity", default=ANONYMOUS)


def current_identity() -> Identity:
    """The caller of the RPC being served (anonymous when no token was needed or given)."""
    return identity_var.get()


def require_identity() -> Identity:
    """The signed-in caller; raises Unauthenticated for an anonymous one."""
    identity = identity_var.get()
    if identity.anonymous:
        raise Unauthenticated("sign-in required: send 'authorization: Bearer <access token>'")
    return identity
