"""Ed25519 signing keys: loaded from a PEM file or generated and kept in the keys collection."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pymongo.database import Database

from depictio.mongo import MongoDatabase
from depictio.tokens import ALGORITHM


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    """A private key with its key id and public JWK."""

    kid: str
    private_key: Ed25519PrivateKey

    @classmethod
    def from_private_key(cls, private_key: Ed25519PrivateKey) -> SigningKey:
        """The key with its RFC 7638 thumbprint as kid."""
        x = _b64url(
            private_key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        )
        canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
        return cls(
            kid=_b64url(hashlib.sha256(canonical.encode()).digest()), private_key=private_key
        )

    @classmethod
    def from_pem(cls, pem: bytes, source: str) -> SigningKey:
        """The key in a PEM document; raises ValueError naming `source` if it is not Ed25519."""
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{source}: expected an Ed25519 private key, got {type(key).__name__}")
        return cls.from_private_key(key)

    def private_pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def jwk(self) -> dict[str, str]:
        """The public JWK."""
        x = _b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        )
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": x,
            "kid": self.kid,
            "alg": ALGORITHM,
            "use": "sig",
        }

    def sign(self, claims: dict[str, Any]) -> str:
        """A compact JWS of the claims, with this key's kid in the header."""
        return jwt.encode(claims, self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid})


def load_signing_key(db: MongoDatabase, key_file: Path | None) -> SigningKey:
    """The key to sign with: the PEM file if configured, else the stored active key (made once)."""
    if key_file is not None:
        return SigningKey.from_pem(key_file.read_bytes(), str(key_file))

    def get_or_create(database: Database) -> str:
        keys = database["keys"]
        stored = keys.find_one({"active": True}, sort=[("created_at", -1)])
        if stored is not None:
            return str(stored["private_pem"])
        key = SigningKey.from_private_key(Ed25519PrivateKey.generate())
        keys.insert_one(
            {
                "_id": key.kid,
                "private_pem": key.private_pem(),
                "active": True,
                "created_at": datetime.now(UTC),
            }
        )
        return key.private_pem()

    pem = db.run_sync(get_or_create)
    return SigningKey.from_pem(pem.encode(), "keys collection")
