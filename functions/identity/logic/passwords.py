"""Password hashing (argon2id) and the password policy.

Hashing follows OWASP's minimum for argon2id: 19 MiB of memory, 2 iterations, 1 lane. The
parameters live in the hash string, so raising them later only needs `needs_rehash` at the
next sign-in. `argon2` is imported on first use, not at import: the authorizer shares this
package and never hashes a password.

Unknown accounts are verified against a dummy hash made with the same parameters, so a
sign-in for an address nobody owns costs the same as one with a wrong password.
"""

from __future__ import annotations

import functools
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

TIME_COST = 2
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1
HASH_LENGTH = 32
SALT_LENGTH = 16

MIN_LENGTH = 8
MAX_LENGTH = 128
COMMON_PASSWORDS = Path(__file__).resolve().parents[1] / "data" / "common-passwords.txt"


@functools.cache
def hasher() -> PasswordHasher:
    from argon2 import PasswordHasher, Type

    return PasswordHasher(
        time_cost=TIME_COST,
        memory_cost=MEMORY_COST_KIB,
        parallelism=PARALLELISM,
        hash_len=HASH_LENGTH,
        salt_len=SALT_LENGTH,
        type=Type.ID,
    )


@functools.cache
def _dummy_hash() -> str:
    return hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; with no stored hash, spends the same time and says False."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        if stored_hash is None:
            hasher().verify(_dummy_hash(), password)
            return False
        return hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with other (older) parameters than today's."""
    from argon2.exceptions import InvalidHashError

    try:
        return hasher().check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def policy_problem(password: str, *, email: str | None = None) -> str | None:
    """Why this password is refused, or None. Length is checked by the request models."""
    if password.lower() in common_passwords():
        return "This password is one of the most common passwords; choose another."
    if email and password.strip().lower() == email.strip().lower():
        return "The password must not be your email address."
    return None
