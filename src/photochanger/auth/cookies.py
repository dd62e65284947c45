"""The browser session cookies (access, refresh, CSRF): set on login/refresh, cleared on logout.

Shared by the JSON auth API and the server-rendered admin UI so both speak one session format."""

import secrets

from fastapi import Request, Response

from photochanger.auth.dependencies import ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE
from photochanger.auth.tokens import ACCESS_TTL, IssuedTokens
from photochanger.config import AppConfig
from photochanger.core.time import utcnow

REFRESH_COOKIE_PATH = "/api/auth"


def secure_cookies(request: Request) -> bool:
    """Cookies are `Secure` when the public base URL is HTTPS."""
    config: AppConfig = request.app.state.config
    return config.public_base_url.scheme == "https"


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def set_csrf_cookie(request: Request, response: Response, token: str, *, max_age: int) -> None:
    # Readable by the UI's script on purpose: it echoes the value in `X-CSRF-Token` (or a form field).
    response.set_cookie(
        CSRF_COOKIE,
        token,
        max_age=max_age,
        path="/",
        httponly=False,
        secure=secure_cookies(request),
        samesite="strict",
    )


def set_session_cookies(request: Request, response: Response, issued: IssuedTokens) -> None:
    """HttpOnly access (path `/`) and refresh (path `/api/auth`) cookies plus a fresh CSRF cookie."""
    secure = secure_cookies(request)
    refresh_max_age = max(0, int((issued.refresh_expires_at - utcnow()).total_seconds()))
    response.set_cookie(
        ACCESS_COOKIE,
        issued.access_token,
        max_age=int(ACCESS_TTL.total_seconds()),
        path="/",
        httponly=True,
        secure=secure,
        samesite="strict",
    )
    response.set_cookie(
        REFRESH_COOKIE,
        issued.refresh_token,
        max_age=refresh_max_age,
        path=REFRESH_COOKIE_PATH,
        httponly=True,
        secure=secure,
        samesite="strict",
    )
    set_csrf_cookie(request, response, new_csrf_token(), max_age=refresh_max_age)
    response.headers["Cache-Control"] = "no-store"


def clear_session_cookies(request: Request, response: Response) -> None:
    secure = secure_cookies(request)
    for name, path in ((ACCESS_COOKIE, "/"), (REFRESH_COOKIE, REFRESH_COOKIE_PATH), (CSRF_COOKIE, "/")):
        response.delete_cookie(
            name, path=path, secure=secure, httponly=name != CSRF_COOKIE, samesite="strict"
        )
