"""auth_svc's collections (users, sessions, refresh_tokens, api_tokens, keys) and queries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pymongo
from pymongo.database import Database

from depictio.errors import AlreadyExists
from depictio.mongo import MongoDatabase

Doc = dict[str, Any]


def now() -> datetime:
    """The current time, UTC, at millisecond precision (what MongoDB keeps)."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def as_utc(moment: datetime) -> datetime:
    """A stored datetime as an aware UTC datetime (drivers may return naive UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def create_indexes(database: Database) -> None:
    """The indexes auth_svc's queries rely on, unique where identity demands it."""
    database["users"].create_index("email", unique=True)
    database["users"].create_index("created_at")
    database["sessions"].create_index("user_id")
    database["refresh_tokens"].create_index("family_id")
    database["api_tokens"].create_index("secret_hash", unique=True)
    database["api_tokens"].create_index("user_id")


class AuthStore:
    """Async access to auth_svc's collections."""

    def __init__(self, db: MongoDatabase) -> None:
        self.db = db

    # users

    async def insert_user(self, user: Doc) -> None:
        def insert(database: Database) -> None:
            try:
                database["users"].insert_one(user)
            except pymongo.errors.DuplicateKeyError as exc:
                raise AlreadyExists(f"email: {user['email']} is already registered") from exc

        await self.db.run(insert)

    async def user_by_email(self, email: str) -> Doc | None:
        return await self.db.run(lambda d: d["users"].find_one({"email": email}))

    async def user_by_id(self, user_id: str) -> Doc | None:
        return await self.db.run(lambda d: d["users"].find_one({"_id": user_id}))

    async def set_user_fields(self, user_id: str, fields: Doc) -> Doc | None:
        return await self.db.run(
            lambda d: d["users"].find_one_and_update(
                {"_id": user_id},
                {"$set": fields},
                return_document=pymongo.ReturnDocument.AFTER,
            )
        )

    async def count_active_admins(self) -> int:
        return await self.db.run(
            lambda d: d["users"].count_documents({"is_admin": True, "is_active": True})
        )

    async def list_users(self, offset: int, limit: int) -> tuple[list[Doc], int]:
        def page(database: Database) -> tuple[list[Doc], int]:
            users = database["users"]
            items = list(
                users.find({}).sort([("created_at", 1), ("_id", 1)]).skip(offset).limit(limit)
            )
            return items, users.count_documents({})

        return await self.db.run(page)

    # sessions and refresh tokens

    async def insert_session(self, session: Doc) -> None:
        await self.db.run(lambda d: d["sessions"].insert_one(session))

    async def session(self, session_id: str) -> Doc | None:
        return await self.db.run(lambda d: d["sessions"].find_one({"_id": session_id}))

    async def revoke_sessions(self, query: Doc, reason: str) -> None:
        await self.db.run(
            lambda d: d["sessions"].update_many(
                {**query, "revoked": False},
                {"$set": {"revoked": True, "revoked_reason": reason, "revoked_at": now()}},
            )
        )

    async def insert_refresh_token(self, token: Doc) -> None:
        await self.db.run(lambda d: d["refresh_tokens"].insert_one(token))

    async def rotate_refresh_token(self, jti: str) -> tuple[Doc | None, Doc | None]:
        """Marks the token spent; returns (token if it was unspent, token if it existed)."""

        def rotate(database: Database) -> tuple[Doc | None, Doc | None]:
            tokens = database["refresh_tokens"]
            spent = tokens.find_one_and_update(
                {"_id": jti, "rotated_at": None}, {"$set": {"rotated_at": now()}}
            )
            return spent, spent or tokens.find_one({"_id": jti})

        return await self.db.run(rotate)

    # API tokens

    async def insert_api_token(self, token: Doc) -> None:
        await self.db.run(lambda d: d["api_tokens"].insert_one(token))

    async def api_token_by_hash(self, secret_hash: str) -> Doc | None:
        return await self.db.run(lambda d: d["api_tokens"].find_one({"secret_hash": secret_hash}))

    async def api_token(self, token_id: str) -> Doc | None:
        return await self.db.run(lambda d: d["api_tokens"].find_one({"_id": token_id}))

    async def list_api_tokens(self, user_id: str, include_revoked: bool) -> list[Doc]:
        query: Doc = {"user_id": user_id}
        if not include_revoked:
            query["revoked"] = False
        return await self.db.run(
            lambda d: list(d["api_tokens"].find(query).sort([("created_at", -1), ("_id", 1)]))
        )

    async def set_api_token_fields(self, token_id: str, fields: Doc) -> Doc | None:
        return await self.db.run(
            lambda d: d["api_tokens"].find_one_and_update(
                {"_id": token_id}, {"$set": fields}, return_document=pymongo.ReturnDocument.AFTER
            )
        )

    async def revoke_user_api_tokens(self, user_id: str) -> None:
        await self.db.run(
            lambda d: d["api_tokens"].update_many(
                {"user_id": user_id, "revoked": False}, {"$set": {"revoked": True}}
            )
        )
