"""argon2 hashing and the password policy."""

from __future__ import annotations

import pytest

from auth_svc.passwords import check_password_policy, hash_password, verify_password
from depictio.errors import InvalidArgument


def test_hash_verifies_only_the_same_password() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "correct horsE")


def test_missing_hash_never_verifies() -> None:
    assert not verify_password(None, "depictio-timing-equaliser")


@pytest.mark.parametrize("password", ["short", "x" * 1025])
def test_policy_refuses(password: str) -> None:
    with pytest.raises(InvalidArgument, match="password"):
        check_password_policy(password)
