"""The AuthService RPCs: accounts, sessions with rotating refresh tokens, API tokens, admin."""

from __future__ import annotations

import logging
import re
import secrets
import unicodedata
import uuid
from datetime import timedelta
from typing import Any

from grpc import aio

from auth_svc.issuer import API_TOKEN_PREFIX, TokenIssuer, hash_secret, new_api_token_secret
from auth_svc.keys import SigningKey
from auth_svc.passwords import (
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from auth_svc.store import AuthStore, Doc, as_utc, now
from depictio.clients.metadata import MetadataClient
from depictio.config import AuthMode, Settings
from depictio.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from depictio.pagination import next_page_token, page_bounds
from depictio.rpc.context import require_identity
from depictio.rpc.relayed_errors import relayed_error
from depictio.timestamps import to_timestamp
from depictio.tokens import REFRESH, Identity, TokenVerifier
from depictio.v1 import auth_pb2 as pb
from depictio.v1 import auth_pb2_grpc, common_pb2

log = logging.getLogger("auth_svc")

SERVICE = "depictio.v1.AuthService"
PUBLIC_METHODS = frozenset(
    f"/{SERVICE}/{name}"
    for name in (
        "Register",
        "Login",
        "Refresh",
        "ExchangeApiToken",
        "GetJwks",
        "StartLocalSession",
    )
)
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_TOKEN_NAME = 100
MAX_TOKEN_DAYS = 3650


def user_to_pb(user: Doc) -> pb.User:
    return pb.User(
        id=user["_id"],
        email=user["email"],
        is_admin=bool(user.get("is_admin")),
        is_active=bool(user.get("is_active")),
        created_at=to_timestamp(user.get("created_at")),
        last_login_at=to_timestamp(user.get("last_login_at")),
    )


def api_token_to_pb(token: Doc) -> pb.ApiToken:
    return pb.ApiToken(
        id=token["_id"],
        name=token["name"],
        created_at=to_timestamp(token.get("created_at")),
        expires_at=to_timestamp(token.get("expires_at")),
        last_used_at=to_timestamp(token.get("last_used_at")),
        revoked=bool(token.get("revoked")),
    )


# Characters no address of ours holds: invisible ones (controls, zero-width and direction
# marks — "alice@ex.org" plus a zero-width space looked like alice's account), separators,
# and the specials of RFC 5322 outside quoted local parts (which are not accepted).
UNSEEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})
SPECIALS = frozenset('<>()[]\\,;:"')


def normalise_email(email: str) -> str:
    """The e-mail in NFC, lower-cased; raises InvalidArgument when it is not an address."""
    email = unicodedata.normalize("NFC", email.strip()).lower()
    unusable = [c for c in email if c in SPECIALS or unicodedata.category(c) in UNSEEN_CATEGORIES]
    if unusable or not EMAIL_PATTERN.match(email) or len(email) > 254:
        why = f" (it holds {unusable[0]!r})" if unusable else ""
        raise InvalidArgument(f"email: {email!r} is not a valid e-mail address{why}")
    return email


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    """Implements AuthService over the auth store."""

    def __init__(
        self,
        store: AuthStore,
        key: SigningKey,
        verifier: TokenVerifier,
        settings: Settings,
    ) -> None:
        self.store = store
        self.key = key
        self.issuer = TokenIssuer(key, settings)
        self.verifier = verifier
        self.settings = settings

    # helpers

    async def _open_session(self, user: Doc) -> pb.TokenPair:
        session_id = uuid.uuid4().hex
        await self.store.insert_session(
            {"_id": session_id, "user_id": user["_id"], "created_at": now(), "revoked": False}
        )
        return await self._token_pair(user, session_id)

    async def _token_pair(self, user: Doc, session_id: str) -> pb.TokenPair:
        refresh = self.issuer.refresh_token(user, session_id)
        await self.store.insert_refresh_token(refresh.record)
        return pb.TokenPair(
            access_token=self.issuer.access_token(user, session_id=session_id),
            refresh_token=refresh.token,
            token_type="bearer",
            expires_in=self.settings.access_token_ttl_seconds,
            refresh_expires_in=self.settings.refresh_token_ttl_seconds,
        )

    async def _active_user(self, user_id: str) -> Doc:
        user = await self.store.user_by_id(user_id)
        if user is None:
            raise Unauthenticated("the account no longer exists")
        if not user.get("is_active"):
            raise PermissionDenied("the account is deactivated")
        return user

    async def _caller(self) -> Doc:
        """The calling user, checked live: account active, session or API token not revoked."""
        identity = require_identity()
        user = await self._active_user(identity.user_id)
        if identity.session_id:
            session = await self.store.session(identity.session_id)
            if session is None or session.get("revoked"):
                raise Unauthenticated("the session has ended: sign in again")
        if identity.api_token_id:
            token = await self.store.api_token(identity.api_token_id)
            if token is None or token.get("revoked"):
                raise Unauthenticated("the API token has been revoked")
        return user

    async def _caller_not_task(self, action: str) -> Doc:
        """The calling user, refused when the call comes from a background task's token: a
        task acts for its user on its job, never on the user's credentials or accounts."""
        identity = require_identity()
        if identity.task_name:
            raise PermissionDenied(
                f"a background task's token ({identity.task_name}) cannot {action}"
            )
        return await self._caller()

    async def _admin(self) -> Doc:
        user = await self._caller_not_task("manage users")
        if not user.get("is_admin"):
            raise PermissionDenied("admin role required")
        return user

    # accounts and sessions

    async def Register(self, request: pb.RegisterRequest, context: Any) -> pb.RegisterResponse:
        if not self.settings.auth_registration:
            raise PermissionDenied("registration is disabled on this server")
        email = normalise_email(request.email)
        check_password_policy(request.password)
        user = {
            "_id": uuid.uuid4().hex,
            "email": email,
            "password_hash": hash_password(request.password),
            "is_admin": False,
            "is_active": True,
            "created_at": now(),
            "last_login_at": None,
        }
        await self.store.insert_user(user)
        log.info("registered", extra={"user_id": user["_id"]})
        return pb.RegisterResponse(user=user_to_pb(user))

    async def Login(self, request: pb.LoginRequest, context: Any) -> pb.LoginResponse:
        user = await self.store.user_by_email(request.email.strip().lower())
        stored_hash = user.get("password_hash") if user else None
        if not verify_password(stored_hash, request.password) or user is None:
            raise Unauthenticated("invalid e-mail or password")
        if not user.get("is_active"):
            raise PermissionDenied("the account is deactivated")
        fields: Doc = {"last_login_at": now()}
        if stored_hash and needs_rehash(stored_hash):
            fields["password_hash"] = hash_password(request.password)
        await self.store.set_user_fields(user["_id"], fields)
        return pb.LoginResponse(tokens=await self._open_session(user))

    async def Refresh(self, request: pb.RefreshRequest, context: Any) -> pb.RefreshResponse:
        claims = await self.verifier.verify(request.refresh_token, expected_type=REFRESH)
        session_id = str(claims.get("sid", ""))
        unspent, existing = await self.store.rotate_refresh_token(str(claims["jti"]))
        if existing is None:
            raise Unauthenticated("unknown refresh token")
        if unspent is None:
            await self.store.revoke_sessions({"_id": existing["family_id"]}, "refresh token reuse")
            log.warning(
                "refresh token reuse: session revoked",
                extra={"user_id": existing["user_id"], "session_id": existing["family_id"]},
            )
            raise Unauthenticated("refresh token was already used: the session has been revoked")
        session = await self.store.session(session_id)
        if session is None or session.get("revoked"):
            raise Unauthenticated("the session has ended: sign in again")
        user = await self._active_user(str(claims["sub"]))
        return pb.RefreshResponse(tokens=await self._token_pair(user, session_id))

    async def Logout(self, request: pb.LogoutRequest, context: Any) -> pb.LogoutResponse:
        await self._caller_not_task("sign its user out")
        identity = require_identity()
        session_id = identity.session_id
        if request.refresh_token:
            claims = await self.verifier.verify(request.refresh_token, expected_type=REFRESH)
            if claims["sub"] != identity.user_id:
                raise PermissionDenied("refresh_token: belongs to another user")
            session_id = str(claims.get("sid", ""))
        if session_id:
            await self.store.revoke_sessions(
                {"_id": session_id, "user_id": identity.user_id}, "logout"
            )
        return pb.LogoutResponse()

    async def GetMe(self, request: pb.GetMeRequest, context: Any) -> pb.GetMeResponse:
        return pb.GetMeResponse(user=user_to_pb(await self._caller()))

    async def StartLocalSession(
        self, request: pb.StartLocalSessionRequest, context: Any
    ) -> pb.StartLocalSessionResponse:
        if self.settings.auth_mode is not AuthMode.SINGLE_USER:
            raise FailedPrecondition("local sessions exist only in single-user mode")
        admin = await self.store.user_by_email(self.settings.admin_email)
        if admin is None or not admin.get("is_active"):
            raise FailedPrecondition(f"the local admin {self.settings.admin_email} is missing")
        return pb.StartLocalSessionResponse(tokens=await self._open_session(admin))

    # API tokens

    async def CreateApiToken(
        self, request: pb.CreateApiTokenRequest, context: Any
    ) -> pb.CreateApiTokenResponse:
        user = await self._caller_not_task("create API tokens")
        name = request.name.strip()
        if not name or len(name) > MAX_TOKEN_NAME:
            raise InvalidArgument(f"name: must be 1 to {MAX_TOKEN_NAME} characters")
        if not 0 <= request.expires_in_days <= MAX_TOKEN_DAYS:
            raise InvalidArgument(f"expires_in_days: must be 0 (never) to {MAX_TOKEN_DAYS}")
        token_id = secrets.token_hex(6)
        secret = new_api_token_secret(token_id)
        created = now()
        days = request.expires_in_days
        token = {
            "_id": token_id,
            "user_id": user["_id"],
            "name": name,
            "secret_hash": hash_secret(secret),
            "created_at": created,
            "expires_at": created + timedelta(days=days) if days else None,
            "last_used_at": None,
            "revoked": False,
        }
        await self.store.insert_api_token(token)
        return pb.CreateApiTokenResponse(token=api_token_to_pb(token), secret=secret)

    async def ListApiTokens(
        self, request: pb.ListApiTokensRequest, context: Any
    ) -> pb.ListApiTokensResponse:
        user = await self._caller()
        tokens = await self.store.list_api_tokens(user["_id"], request.include_revoked)
        return pb.ListApiTokensResponse(tokens=[api_token_to_pb(t) for t in tokens])

    async def RevokeApiToken(
        self, request: pb.RevokeApiTokenRequest, context: Any
    ) -> pb.RevokeApiTokenResponse:
        user = await self._caller_not_task("revoke API tokens")
        token = await self.store.api_token(request.token_id)
        if token is None or (token["user_id"] != user["_id"] and not user.get("is_admin")):
            raise NotFound(f"token_id: no API token '{request.token_id}'")
        revoked = await self.store.set_api_token_fields(token["_id"], {"revoked": True})
        assert revoked is not None
        return pb.RevokeApiTokenResponse(token=api_token_to_pb(revoked))

    async def ExchangeApiToken(
        self, request: pb.ExchangeApiTokenRequest, context: Any
    ) -> pb.ExchangeApiTokenResponse:
        if not request.secret.startswith(API_TOKEN_PREFIX):
            raise Unauthenticated("not an API token")
        token = await self.store.api_token_by_hash(hash_secret(request.secret))
        if token is None or token.get("revoked"):
            raise Unauthenticated("the API token is invalid or revoked")
        expires_at = token.get("expires_at")
        if expires_at is not None and as_utc(expires_at) <= now():
            raise Unauthenticated("the API token has expired")
        user = await self._active_user(token["user_id"])
        await self.store.set_api_token_fields(token["_id"], {"last_used_at": now()})
        return pb.ExchangeApiTokenResponse(
            access_token=self.issuer.access_token(user, api_token_id=token["_id"]),
            expires_in=self.settings.access_token_ttl_seconds,
            token_id=token["_id"],
        )

    async def MintTaskToken(
        self, request: pb.MintTaskTokenRequest, context: Any
    ) -> pb.MintTaskTokenResponse:
        user = await self._caller_not_task("mint task tokens")
        task_name = request.task_name.strip()
        if not task_name or len(task_name) > MAX_TOKEN_NAME:
            raise InvalidArgument(f"task_name: must be 1 to {MAX_TOKEN_NAME} characters")
        identity = require_identity()
        token = self.issuer.task_token(user, task_name, identity.session_id, identity.api_token_id)
        log.info("task token minted", extra={"user_id": user["_id"], "task": task_name})
        return pb.MintTaskTokenResponse(
            access_token=token,
            expires_in=self.settings.task_token_ttl_seconds,
            user_id=user["_id"],
            email=user["email"],
        )

    async def GetJwks(self, request: pb.GetJwksRequest, context: Any) -> pb.GetJwksResponse:
        return pb.GetJwksResponse(keys=[pb.JsonWebKey(**self.key.jwk())])

    async def LookupUser(
        self, request: pb.LookupUserRequest, context: Any
    ) -> pb.LookupUserResponse:
        await self._caller()
        identity = require_identity()
        if not identity.is_admin:
            await self._require_project_owner(identity, request.project_id)
        email = request.email.strip().lower()
        user = await self.store.user_by_email(email)
        if user is None:
            raise NotFound(f"email: no user with the e-mail '{email}'")
        return pb.LookupUserResponse(user_id=user["_id"], email=user["email"])

    async def _require_project_owner(self, identity: Identity, project_id: str) -> None:
        """PERMISSION_DENIED unless the caller owns the project (metadata_svc decides)."""
        if not project_id:
            raise PermissionDenied(
                "project_id: users are looked up by e-mail for the owners of a project; name it"
            )
        client = MetadataClient(
            self.settings.metadata_addr,
            token=identity.token,
            timeout=self.settings.rpc_timeout_seconds,
        )
        try:
            decision = await client.check_access("manage", project_id=project_id)
        except aio.AioRpcError as exc:
            raise relayed_error(exc, "CheckAccess") from exc
        if not decision.allowed:
            raise PermissionDenied(decision.reason or "only the project's owners look users up")

    # admin

    async def ListUsers(self, request: pb.ListUsersRequest, context: Any) -> pb.ListUsersResponse:
        await self._admin()
        offset, limit = page_bounds(request.page.page_size, request.page.page_token)
        users, total = await self.store.list_users(offset, limit)
        return pb.ListUsersResponse(
            users=[user_to_pb(u) for u in users],
            page=common_pb2.PageResponse(
                next_page_token=next_page_token(offset, limit, total), total_size=total
            ),
        )

    async def GetUser(self, request: pb.GetUserRequest, context: Any) -> pb.GetUserResponse:
        await self._admin()
        user = await self.store.user_by_id(request.user_id)
        if user is None:
            raise NotFound(f"user_id: no user '{request.user_id}'")
        return pb.GetUserResponse(user=user_to_pb(user))

    async def UpdateUser(
        self, request: pb.UpdateUserRequest, context: Any
    ) -> pb.UpdateUserResponse:
        admin = await self._admin()
        target = await self.store.user_by_id(request.user_id)
        if target is None:
            raise NotFound(f"user_id: no user '{request.user_id}'")
        fields: Doc = {}
        if request.HasField("is_admin"):
            fields["is_admin"] = request.is_admin
        if request.HasField("is_active"):
            fields["is_active"] = request.is_active
        loses_admin = (
            target.get("is_admin")
            and target.get("is_active")
            and (fields.get("is_admin") is False or fields.get("is_active") is False)
        )
        if loses_admin and await self.store.count_active_admins() <= 1:
            raise FailedPrecondition(
                f"{target['email']} is the last admin: promote another user first"
            )
        updated = await self.store.set_user_fields(target["_id"], fields) if fields else target
        assert updated is not None
        if fields.get("is_active") is False:
            await self.store.revoke_sessions({"user_id": target["_id"]}, "deactivated")
            await self.store.revoke_user_api_tokens(target["_id"])
        log.info(
            "user updated",
            extra={"by": admin["_id"], "user_id": target["_id"], "fields": sorted(fields)},
        )
        return pb.UpdateUserResponse(user=user_to_pb(updated))
