"""What an admin page depends on: the signed-in user from the session cookie, `admin_requires(permission)`,
and the CSRF-checked form."""

from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import FormData

from photochanger.admin.rendering import CSRF_FIELD, check_csrf_field
from photochanger.auth import access
from photochanger.auth.dependencies import ACCESS_COOKIE, CodecDep, Principal
from photochanger.auth.exceptions import NotAuthenticated, PasswordChangeRequired, PermissionDenied
from photochanger.core.db import SessionDep

# Until the generated first password is replaced, only these pages open.
FIRST_PASSWORD_PATHS = ("/admin/account", "/admin/logout")


async def get_admin(request: Request, session: SessionDep, codec: CodecDep) -> Principal:
    """The signed-in user from the HttpOnly access cookie (forms check CSRF through `CsrfFormDep`)."""
    token = request.cookies.get(ACCESS_COOKIE)
    if not token:
        raise NotAuthenticated()
    user = await access.authenticate_access(session, codec, token)
    principal = Principal.from_user(user, via_cookie=True)
    request.state.admin_principal = principal
    if user.must_change_password and not request.url.path.startswith(FIRST_PASSWORD_PATHS):
        raise PasswordChangeRequired()
    return principal


AdminDep = Annotated[Principal, Depends(get_admin)]


def holding(principal: Principal, permission: str) -> Principal:
    """`principal` when it holds `permission`, else `PermissionDenied` (for a permission that depends on
    the request, such as what a live stream watches; a fixed one is `admin_requires`)."""
    if not principal.has(permission):
        raise PermissionDenied(f"This needs the `{permission}` permission.")
    return principal


def admin_requires(permission: str) -> Any:
    """`Depends(...)` resolving to the signed-in admin user when it holds `permission` (the login page
    without a session, 403 without the permission). Use as
    `principal: Annotated[Principal, admin_requires(permissions.SLOTS_READ)]`."""

    async def _check(principal: AdminDep) -> Principal:
        return holding(principal, permission)

    _check.__name__ = f"admin_requires_{permission.replace(':', '_')}"
    return Depends(_check)


async def csrf_form(request: Request) -> FormData:
    """The submitted form once its double-submit CSRF field matched the cookie (`CsrfFailed` else). Put it
    after the principal in a signature: the permission is checked first."""
    form = await request.form()
    check_csrf_field(request, form.get(CSRF_FIELD))
    return form


CsrfFormDep = Annotated[FormData, Depends(csrf_form)]
