"""The dependency API other packages use to authenticate and authorize requests.

    from photochanger.auth.dependencies import Principal, PrincipalDep, requires
    from photochanger.auth import permissions

    @router.put("/api/slots/{slot_id}")
    async def update_slot(principal: Annotated[Principal, requires(permissions.SLOTS_WRITE)], ...): ...

A request authenticates with `Authorization: Bearer <access token>` or, from the browser UI, with the
HttpOnly access cookie; a cookie-authenticated request that changes state must also echo the CSRF cookie in
the `X-CSRF-Token` header. No credentials → 401, a missing permission → 403.
"""

import secrets
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from photochanger.auth import access
from photochanger.auth.exceptions import CsrfFailed, NotAuthenticated, PermissionDenied
from photochanger.auth.permissions import Role, permissions_for
from photochanger.auth.tokens import TokenCodec
from photochanger.config import AppConfig
from photochanger.core.db import SessionDep
from photochanger.core.time import utcnow
from photochanger.models import User

ACCESS_COOKIE = "pc_access"
REFRESH_COOKIE = "pc_refresh"
CSRF_COOKIE = "pc_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """The authenticated user of a request, with the permissions of their current role."""

    user_id: uuid.UUID
    username: str
    role: Role
    permissions: frozenset[str]
    via_cookie: bool = False

    @classmethod
    def from_user(cls, user: User, *, via_cookie: bool = False) -> "Principal":
        return cls(user.id, user.username, Role(user.role), permissions_for(user.role), via_cookie)

    def has(self, permission: str) -> bool:
        return permission in self.permissions


def get_codec(request: Request) -> TokenCodec:
    """The process's token codec, built once from `config.resolved_jwt_secret()`."""
    codec: TokenCodec | None = getattr(request.app.state, "token_codec", None)
    if codec is None:
        config: AppConfig = request.app.state.config
        codec = TokenCodec(config.resolved_jwt_secret())
        request.app.state.token_codec = codec
    return codec


CodecDep = Annotated[TokenCodec, Depends(get_codec)]


def check_csrf(request: Request) -> None:
    """Double-submit check: the `X-CSRF-Token` header must equal the CSRF cookie (a cross-site page can
    make the browser send the cookie but can neither read it nor set the header)."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not cookie or not header or not secrets.compare_digest(cookie.encode(), header.encode()):
        raise CsrfFailed()


def _bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Use `Authorization: Bearer <access token>`.")
    return token.strip()


async def get_principal(request: Request, session: SessionDep, codec: CodecDep) -> Principal:
    token = _bearer(request)
    via_cookie = False
    if token is None:
        token = request.cookies.get(ACCESS_COOKIE)
        via_cookie = token is not None
    if not token:
        raise NotAuthenticated()
    user = await access.authenticate_access(session, codec, token, now=utcnow())
    if via_cookie and request.method not in SAFE_METHODS:
        check_csrf(request)
    return Principal.from_user(user, via_cookie=via_cookie)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def requires(permission: str) -> Any:
    """`Depends(...)` resolving to the `Principal` when it holds `permission` (401 without credentials,
    403 without the permission). Use as `principal: Annotated[Principal, requires("slots:write")]`."""

    async def _check(principal: PrincipalDep) -> Principal:
        if not principal.has(permission):
            raise PermissionDenied(f"This needs the `{permission}` permission.")
        return principal

    _check.__name__ = f"requires_{permission.replace(':', '_')}"
    return Depends(_check)
