"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP), with the standard library only.

What authenticator apps expect: HMAC-SHA-1, 6 digits, 30-second steps, a 160-bit secret shared as
unpadded base32 in an `otpauth://totp/...` URI. A code is accepted for the current step and one
step either side (clock drift); the caller stores the step it accepted and refuses any step at
or below it, so a code works once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from urllib.parse import quote, urlencode

ISSUER = "Ninefold"
DIGITS = 6
PERIOD = 30
SECRET_BYTES = 20  # 160 bits, RFC 4226's recommendation
DRIFT_STEPS = 1

_ALGORITHMS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


def new_secret() -> str:
    """A fresh random secret, as authenticator apps take it: base32, no padding."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def secret_bytes(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def time_step(now: float, period: int = PERIOD) -> int:
    return int(now // period)


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, algorithm: str = "SHA1") -> str:
    """RFC 4226: dynamic truncation of HMAC(key, counter) to `digits` decimal digits."""
    mac = hmac.new(key, struct.pack(">Q", counter), _ALGORITHMS[algorithm]).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def code_at(secret: str, now: float, *, digits: int = DIGITS, period: int = PERIOD, algorithm: str = "SHA1") -> str:
    """The code an authenticator app shows at `now` (epoch seconds) for a base32 secret."""
    return hotp(secret_bytes(secret), time_step(now, period), digits=digits, algorithm=algorithm)


def matching_step(secret: str, code: str, *, now: float, after_step: int | None = None) -> int | None:
    """The time step `code` belongs to (now ± one step), or None; steps <= `after_step` never match."""
    if len(code) != DIGITS or not code.isdigit():
        return None
    key = secret_bytes(secret)
    current = time_step(now)
    found = None
    # Check every candidate (no early exit) so the time taken does not say which step matched.
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(hotp(key, step), code) and (after_step is None or step > after_step):
            found = step if found is None else found
    return found


def otpauth_uri(secret: str, account: str, *, issuer: str = ISSUER) -> str:
    """`otpauth://totp/Ninefold:<email>?secret=…&issuer=Ninefold&…`, for a QR code or a paste."""
    label = quote(f"{issuer}:{account}", safe=":@")
    query = urlencode(
        {"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS, "period": PERIOD}, quote_via=quote
    )
    return f"otpauth://totp/{label}?{query}"
