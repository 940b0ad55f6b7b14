"""Secrets: slow hashes for what people choose, fast hashes for random tokens, JWTs."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import secrets
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from . import faults

# Low but real cost (~10 ms per verification on a small machine): passcodes are 6 digits,
# so the lock-out, not the hash cost, is what protects them online.
_HASHER = PasswordHasher(time_cost=2, memory_cost=16384, parallelism=1)


def _verify(stored: str, candidate: str) -> bool:
    try:
        return _HASHER.verify(stored, candidate)
    except (VerificationError, InvalidHashError):
        return False


async def slow_hash(secret: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(None, _HASHER.hash, secret)


async def slow_verify(stored: str | None, candidate: str) -> bool:
    if not stored:
        return False
    return await asyncio.get_running_loop().run_in_executor(None, _verify, stored, candidate)


def fast_hash(token: str) -> str:
    """For high-entropy values only (API keys, refresh tokens, consent tokens)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )


def sign_access_token(secret: str, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def read_access_token(secret: str, token: str) -> dict[str, Any] | None:
    return _read_access_token(secret, token) if len(token) <= 1024 else None


@functools.lru_cache(maxsize=8192)
def _read_access_token(secret: str, token: str) -> dict[str, Any] | None:
    """Claims of a well-formed token signed by us; expiry is checked by the caller on the
    session clock, so PyJWT's wall-clock checks are off. Cached: the answer for a given
    string never changes, and verifying costs more than the rest of a request."""
    options: Any = {
        "verify_exp": False,
        "verify_iat": False,
        "verify_nbf": False,
        "require": ["sub", "sid", "iat", "exp"],
    }
    if faults.active("token-signature-not-verified"):
        options["verify_signature"] = False
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options=options)
    except Exception:  # any malformed input is just an invalid token
        return None
    if not isinstance(claims, dict):
        return None
    for key in ("sub", "sid"):
        if not isinstance(claims.get(key), str):
            return None
    if not isinstance(claims.get("exp"), int | float) or isinstance(claims.get("exp"), bool):
        return None
    return claims
