"""Bearer JWT auth: who is calling, for which tenant, in which roles.

The token is the only source of a caller's tenant and roles; nothing a client sends in a body or
header overrides it. ``roofline token`` mints development tokens with the configured secret.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.contracts.roles import OFFICE_ROLES, ROLES
from shared.platform.context import tenant_id_var
from shared.platform.http.problems import Forbidden, Unauthorized
from shared.platform.settings import Settings
from shared.platform.text import unstorable

# A user id or tenant id in a token (the length of ``shared.platform.text.Identifier``).
MAX_ID_LENGTH = 100


@dataclass(frozen=True)
class Caller:
    user_id: str
    tenant_id: str
    roles: frozenset[str]


def mint_token(
    settings: Settings,
    *,
    user: str,
    tenant: str,
    roles: Iterable[str],
    ttl: timedelta | None = None,
) -> str:
    roles = sorted(set(roles))
    unknown = set(roles) - ROLES
    if unknown:
        raise ValueError(
            f"unknown role(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(ROLES))}"
        )
    if not user or not tenant:
        raise ValueError("a token needs a user and a tenant")
    if max(len(user), len(tenant)) > MAX_ID_LENGTH or unstorable(user) or unstorable(tenant):
        raise ValueError(f"user and tenant are 1-{MAX_ID_LENGTH} characters without NUL")
    now = datetime.now(UTC)
    claims = {
        "sub": user,
        "tenant": tenant,
        "roles": roles,
        "iss": settings.jwt_issuer,
        "iat": now,
        "exp": now + (ttl or settings.token_ttl),
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), settings.jwt_algorithm)


def decode_token(settings: Settings, token: str) -> Caller:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[settings.jwt_algorithm],
            issuer=settings.jwt_issuer,
            options={"require": ["sub", "tenant", "exp", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(f"invalid token: {exc}") from exc
    roles = claims.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Unauthorized("invalid token: roles must be a list of strings")
    if not isinstance(claims["tenant"], str) or not claims["tenant"]:
        raise Unauthorized("invalid token: no tenant")
    user, tenant = str(claims["sub"]), claims["tenant"]
    for claim, value in (("sub", user), ("tenant", tenant)):
        # Both end up in rows and events (who did it, whose it is): bounded and storable, or
        # the token is not one this system issues.
        if not value or len(value) > MAX_ID_LENGTH or unstorable(value):
            raise Unauthorized(
                f"invalid token: {claim} must be 1-{MAX_ID_LENGTH} characters without NUL"
            )
    return Caller(user_id=user, tenant_id=tenant, roles=frozenset(roles) & ROLES)


def sees_only_own_work(caller: Caller) -> bool:
    """Fails closed: only a caller holding an office role sees everyone's work; anyone else
    (installers, technicians, a token without roles) sees only what is assigned to them."""
    return not caller.roles & OFFICE_ROLES


_bearer = HTTPBearer(auto_error=False)


async def current_caller(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> Caller:
    """FastAPI dependency: the authenticated caller, or 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer token")
    caller = decode_token(request.app.state.settings, credentials.credentials)
    tenant_id_var.set(caller.tenant_id)
    return caller


def require_roles(*roles: str) -> Callable[..., Awaitable[Caller]]:
    """FastAPI dependency factory: the caller must hold one of ``roles`` (admin always may)."""
    allowed = set(roles) | {"admin"}

    async def dependency(caller: Caller = Depends(current_caller)) -> Caller:
        if not caller.roles & allowed:
            raise Forbidden(f"requires one of the roles: {', '.join(sorted(allowed))}")
        return caller

    return dependency
