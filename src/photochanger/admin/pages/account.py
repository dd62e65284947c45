"""The signed-in user's own account (`/admin/account`): the first-password notice and the password change."""

import math
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel

from photochanger.admin.deps import AdminDep, CsrfFormDep
from photochanger.admin.rendering import render, rerender, see_other, translator
from photochanger.admin.routing import AdminRoute
from photochanger.auth.cookies import set_session_cookies
from photochanger.auth.dependencies import CodecDep, Principal
from photochanger.core.db import SessionDep
from photochanger.i18n import N_
from photochanger.users import service as users_service
from photochanger.users import sessions as users_sessions
from photochanger.users.exceptions import TooManyLoginAttempts, WeakPassword, WrongPassword

FIRST_SIGN_IN_NOTICE = N_(
    "You signed in with the generated first password. Choose your own password to continue."
)

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)


class PasswordForm(BaseModel):
    current_password: str = ""
    new_password: str = ""
    repeat_password: str = ""


async def _account_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    errors: dict[str, str] | None = None,
    banner: str | None = None,
    banner_kind: str = "ok",
    status_code: int = 200,
) -> Response:
    user = await users_service.get_user(session, principal.user_id)
    return render(
        request,
        "account.html",
        status_code,
        user=user,
        errors=errors or {},
        banner=banner,
        banner_kind=banner_kind,
    )


@router.get("/account")
async def account_page(
    request: Request, principal: AdminDep, session: SessionDep, done: str | None = None
) -> Response:
    t = translator(request)
    user = await users_service.get_user(session, principal.user_id)
    if user.must_change_password:
        return await _account_page(
            request, session, principal, banner=t.gettext(FIRST_SIGN_IN_NOTICE), banner_kind="info"
        )
    banner = (
        t.gettext("Password changed. Your other sessions were signed out.") if done == "password" else None
    )
    return await _account_page(request, session, principal, banner=banner)


@router.post("/account/password")
async def change_own_password(
    request: Request,
    principal: AdminDep,
    _csrf: CsrfFormDep,
    session: SessionDep,
    codec: CodecDep,
    form: Annotated[PasswordForm, Form()],
) -> Response:
    """Like `POST /api/auth/change-password`: every session of the user is revoked, and this browser gets
    the fresh pair as cookies so it stays signed in."""
    t = translator(request)
    errors: dict[str, str] = {}
    if form.new_password != form.repeat_password:
        errors["repeat_password"] = t.gettext("The two new passwords differ.")
    try:
        users_service.check_new_password(form.new_password, field="new_password")
    except WeakPassword:
        errors["new_password"] = t.gettext("The new password must be 12 to 1024 characters long.")
    issued = None
    retry_after: int | None = None
    if not errors:
        try:
            user = await users_service.get_user(session, principal.user_id)
            issued = await users_sessions.change_password(
                session,
                codec,
                user,
                current_password=form.current_password[:1024],
                new_password=form.new_password,
                client=request.client.host if request.client else "unknown",
            )
        except WrongPassword:
            errors["current_password"] = t.gettext("The current password is wrong.")
        except TooManyLoginAttempts as exc:
            retry_after = int(exc.extra.get("retry_after", 60))
            minutes = max(1, math.ceil(retry_after / 60))
            errors["current_password"] = t.gettext(
                "Too many failed attempts. Try again in %(minutes)s min.", minutes=minutes
            )
    if issued is None:
        status_code = 429 if retry_after else 403 if "current_password" in errors else 422
        page = await rerender(
            session, _account_page, request, session, principal, errors=errors,
            banner=t.gettext("The password was not changed."), banner_kind="error", status_code=status_code,
        )  # fmt: skip
        if retry_after:
            page.headers["Retry-After"] = str(retry_after)
        return page
    response = see_other("/admin/account?done=password")
    set_session_cookies(request, response, issued)
    return response
