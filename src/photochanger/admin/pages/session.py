"""Signing in and out of the admin (`/admin/login`, `POST /admin/logout`), the language switch and the
admin's static files."""

import math
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel

from photochanger.admin.deps import CsrfFormDep
from photochanger.admin.rendering import check_csrf_field, render, see_other, translator
from photochanger.admin.routing import AdminRoute, safe_next
from photochanger.auth import access
from photochanger.auth.cookies import clear_session_cookies, set_session_cookies
from photochanger.auth.dependencies import ACCESS_COOKIE, CodecDep
from photochanger.auth.exceptions import CsrfFailed, InvalidToken, NotAuthenticated
from photochanger.auth.tokens import TokenCodec
from photochanger.core.db import SessionDep
from photochanger.core.errors import NotFound
from photochanger.i18n import LANG_COOKIE, LANGUAGES
from photochanger.users import sessions as users_sessions
from photochanger.users.exceptions import InvalidCredentials, TooManyLoginAttempts

STATIC_DIR = Path(__file__).parent.parent / "static"
STATIC_FILES = {
    "admin.css": "text/css; charset=utf-8",
    "admin.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)


class LoginForm(BaseModel):
    """The login form as typed; over-long values are cut, not refused, so a paste error reads as a wrong
    password."""

    username: str = ""
    password: str = ""
    next: str = ""
    csrf: str = ""


@router.get("/static/{name}")
async def get_static(name: str) -> Response:
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise NotFound("No such file.")
    return FileResponse(
        STATIC_DIR / name,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/lang/{code}")
async def switch_language(code: str, next: str | None = None) -> Response:
    response = see_other(safe_next(next))
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=LANG_COOKIE_MAX_AGE, path="/", samesite="lax")
    return response


@router.get("/login")
async def login_page(
    request: Request, session: SessionDep, codec: CodecDep, next: str | None = None, bye: bool = False
) -> Response:
    if await _signed_in(request, session, codec):
        return see_other(safe_next(next))
    t = translator(request)
    return render(
        request,
        "login.html",
        next=safe_next(next),
        notice=t.gettext("You have been signed out.") if bye else None,
        error=None,
        username="",
    )


async def _signed_in(request: Request, session: SessionDep, codec: TokenCodec) -> bool:
    token = request.cookies.get(ACCESS_COOKIE)
    if not token:
        return False
    try:
        await access.authenticate_access(session, codec, token)
    except (InvalidToken, NotAuthenticated):
        return False
    return True


@router.post("/login")
async def login(
    request: Request, session: SessionDep, codec: CodecDep, form: Annotated[LoginForm, Form()]
) -> Response:
    """An expired form comes back as the login page (not an error page): the user just tries again."""
    t = translator(request)
    target = safe_next(form.next)

    def again(status_code: int, error: str) -> Response:
        return render(request, "login.html", status_code, next=target, error=error, username=form.username)

    try:
        check_csrf_field(request, form.csrf)
    except CsrfFailed:
        return again(403, t.gettext("The form expired. Please try again."))
    try:
        issued = await users_sessions.login(
            session,
            codec,
            username=form.username[:64],
            password=form.password[:1024],
            client=request.client.host if request.client else "unknown",
        )
    except InvalidCredentials:
        return again(401, t.gettext("Wrong username or password."))
    except TooManyLoginAttempts as exc:
        seconds = int(exc.extra.get("retry_after", 60))
        minutes = max(1, math.ceil(seconds / 60))
        page = again(
            429, t.gettext("Too many failed attempts. Try again in %(minutes)s min.", minutes=minutes)
        )
        page.headers["Retry-After"] = str(seconds)
        return page
    response = see_other(target)
    set_session_cookies(request, response, issued)
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep, codec: CodecDep, _form: CsrfFormDep) -> Response:
    token = request.cookies.get(ACCESS_COOKIE)
    if token:
        await users_sessions.logout_access(session, codec, token)
    response = see_other("/admin/login?bye=1")
    clear_session_cookies(request, response)
    return response
