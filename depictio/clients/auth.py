"""Typed client of auth_svc."""

from __future__ import annotations

from depictio.clients.base import ServiceClient
from depictio.v1 import auth_pb2 as pb
from depictio.v1 import auth_pb2_grpc, common_pb2


class AuthClient(ServiceClient):
    """AuthService RPCs as typed methods."""

    @property
    def stub(self) -> auth_pb2_grpc.AuthServiceStub:
        return auth_pb2_grpc.AuthServiceStub(self.channel)

    async def register(self, email: str, password: str) -> pb.User:
        response = await self.call(
            self.stub.Register, pb.RegisterRequest(email=email, password=password)
        )
        return response.user

    async def login(self, email: str, password: str) -> pb.TokenPair:
        response = await self.call(self.stub.Login, pb.LoginRequest(email=email, password=password))
        return response.tokens

    async def refresh(self, refresh_token: str) -> pb.TokenPair:
        response = await self.call(
            self.stub.Refresh, pb.RefreshRequest(refresh_token=refresh_token)
        )
        return response.tokens

    async def logout(self, refresh_token: str = "") -> None:
        await self.call(self.stub.Logout, pb.LogoutRequest(refresh_token=refresh_token))

    async def get_me(self) -> pb.User:
        return (await self.call(self.stub.GetMe, pb.GetMeRequest())).user

    async def create_api_token(
        self, name: str, expires_in_days: int = 0
    ) -> pb.CreateApiTokenResponse:
        return await self.call(
            self.stub.CreateApiToken,
            pb.CreateApiTokenRequest(name=name, expires_in_days=expires_in_days),
        )

    async def list_api_tokens(self, include_revoked: bool = False) -> list[pb.ApiToken]:
        response = await self.call(
            self.stub.ListApiTokens, pb.ListApiTokensRequest(include_revoked=include_revoked)
        )
        return list(response.tokens)

    async def revoke_api_token(self, token_id: str) -> pb.ApiToken:
        response = await self.call(
            self.stub.RevokeApiToken, pb.RevokeApiTokenRequest(token_id=token_id)
        )
        return response.token

    async def exchange_api_token(self, secret: str) -> pb.ExchangeApiTokenResponse:
        return await self.call(
            self.stub.ExchangeApiToken, pb.ExchangeApiTokenRequest(secret=secret)
        )

    async def mint_task_token(self, task_name: str) -> pb.MintTaskTokenResponse:
        """A short-lived access token for a background task acting for the caller."""
        return await self.call(
            self.stub.MintTaskToken, pb.MintTaskTokenRequest(task_name=task_name)
        )

    async def get_jwks(self) -> list[dict[str, str]]:
        response = await self.call(self.stub.GetJwks, pb.GetJwksRequest())
        return [
            {"kty": k.kty, "crv": k.crv, "x": k.x, "kid": k.kid, "alg": k.alg, "use": k.use}
            for k in response.keys
        ]

    async def start_local_session(self) -> pb.TokenPair:
        response = await self.call(self.stub.StartLocalSession, pb.StartLocalSessionRequest())
        return response.tokens

    async def list_users(self, page_size: int = 0, page_token: str = "") -> pb.ListUsersResponse:
        page = common_pb2.PageRequest(page_size=page_size, page_token=page_token)
        return await self.call(self.stub.ListUsers, pb.ListUsersRequest(page=page))

    async def get_user(self, user_id: str) -> pb.User:
        return (await self.call(self.stub.GetUser, pb.GetUserRequest(user_id=user_id))).user

    async def update_user(
        self, user_id: str, is_admin: bool | None = None, is_active: bool | None = None
    ) -> pb.User:
        request = pb.UpdateUserRequest(user_id=user_id)
        if is_admin is not None:
            request.is_admin = is_admin
        if is_active is not None:
            request.is_active = is_active
        return (await self.call(self.stub.UpdateUser, request)).user

    async def lookup_user(self, email: str, project_id: str = "") -> pb.LookupUserResponse:
        """The id of the user with this e-mail, for an owner of `project_id` (or an admin);
        NOT_FOUND when there is none."""
        request = pb.LookupUserRequest(email=email, project_id=project_id)
        return await self.call(self.stub.LookupUser, request)
