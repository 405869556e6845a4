"""One-time email tokens: verification (24 h), password reset (1 h), a new address (24 h).

A token is 256 random bits with a purpose prefix (`nf_v_`, `nf_r_`), stored only as its
SHA-256 under `P#token#<hash>` with the purpose as sort key, its expiry and a TTL. Redeeming
returns a conditional delete to put in the caller's transaction: of two requests racing with
one token, exactly one transaction commits; the other fails and writes nothing.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from functions.identity.dal.store import IdentityDb
from functions.identity.logic.common import digest
from functions.identity.models.errors import InvalidToken

Purpose = Literal["verify-email", "reset-password", "change-email"]
VERIFY_EMAIL: Purpose = "verify-email"
RESET_PASSWORD: Purpose = "reset-password"  # noqa: S105 (a purpose name, not a password)
CHANGE_EMAIL: Purpose = "change-email"
PREFIXES: dict[Purpose, str] = {VERIFY_EMAIL: "nf_v_", RESET_PASSWORD: "nf_r_", CHANGE_EMAIL: "nf_c_"}


@dataclass(frozen=True)
class IssuedToken:
    token: str
    token_id: str  # a public handle (idempotency keys, logs); never the hash
    expires_at: int
    op: dict[str, Any]


def new_token(purpose: Purpose) -> str:
    return PREFIXES[purpose] + secrets.token_urlsafe(32)


def issue(db: IdentityDb, purpose: Purpose, *, user_id: str, email: str, now: float, lifetime: int) -> IssuedToken:
    token = new_token(purpose)
    token_id = uuid.uuid4().hex
    expires_at = int(now) + lifetime
    op = db.tokens.put_op(
        digest(token),
        purpose,
        {"token_id": token_id, "user_id": user_id, "email": email, "created_at": int(now), "expires_at": expires_at},
        ttl=expires_at,
    )
    return IssuedToken(token=token, token_id=token_id, expires_at=expires_at, op=op)


def redeem(db: IdentityDb, purpose: Purpose, token: str, *, now: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """The token's record and the operation that consumes it; InvalidToken if it cannot be used."""
    if not token.startswith(PREFIXES[purpose]):
        raise InvalidToken()
    token_hash = digest(token)
    item = db.tokens.get(token_hash, purpose)
    # TTL deletion lags (up to days in DynamoDB): expiry is checked here, not left to TTL.
    if item is None or item["expires_at"] <= now:
        raise InvalidToken()
    return item, db.tokens.consume_op(token_hash, purpose, item["user_id"])
