"""User management (`/admin/users`): create users, change their role, enable, disable and delete them."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel

from photochanger.admin.deps import CsrfFormDep, admin_requires
from photochanger.admin.rendering import done_banner, error_message, render, rerender, see_other
from photochanger.admin.routing import AdminRoute
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal
from photochanger.auth.permissions import Role
from photochanger.core.db import SessionDep
from photochanger.core.errors import NotFound, PhotoChangerError, ValidationFailed
from photochanger.i18n import N_
from photochanger.users import service as users_service

DONE = {"created": N_("User created."), "updated": N_("User updated."), "deleted": N_("User deleted.")}

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)
Writer = Annotated[Principal, admin_requires(permissions.USERS_WRITE)]


class UserForm(BaseModel):
    """A new user, or a role change (only `role` then); an unknown role is refused as an invalid field."""

    username: str = ""
    password: str = ""
    role: str = ""

    def parsed_role(self) -> Role:
        try:
            return Role(self.role)
        except ValueError:
            raise ValidationFailed() from None


async def _users_page(
    request: Request,
    session: SessionDep,
    *,
    banner: str | None = None,
    banner_kind: str = "ok",
    status_code: int = 200,
    username: str = "",
) -> Response:
    users = await users_service.list_users(session)
    return render(
        request,
        "users.html",
        status_code,
        users=users,
        roles=[r.value for r in Role],
        banner=banner,
        banner_kind=banner_kind,
        username=username,
    )


async def _refused(
    request: Request, session: SessionDep, exc: PhotoChangerError, username: str = ""
) -> Response:
    """The users page again, with the error as a banner and its status code."""
    return await rerender(
        session, _users_page, request, session, banner=error_message(request, exc), banner_kind="error",
        status_code=exc.status_code, username=username,
    )  # fmt: skip


@router.get("/users")
async def users_page(
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.USERS_READ)],
    session: SessionDep,
    done: str | None = None,
) -> Response:
    return await _users_page(request, session, banner=done_banner(request, DONE, done))


@router.post("/users")
async def create_user(
    request: Request,
    principal: Writer,
    _csrf: CsrfFormDep,
    session: SessionDep,
    form: Annotated[UserForm, Form()],
) -> Response:
    try:
        role = form.parsed_role()
    except ValidationFailed as exc:
        return await _refused(request, session, exc)
    try:
        await users_service.create_user(
            session, username=form.username, password=form.password, role=role, actor=principal
        )
    except PhotoChangerError as exc:
        return await _refused(request, session, exc, username=form.username)
    return see_other("/admin/users?done=created")


@router.post("/users/{user_id}/{action}")
async def change_user(
    user_id: uuid.UUID,
    action: str,
    request: Request,
    principal: Writer,
    _csrf: CsrfFormDep,
    session: SessionDep,
    form: Annotated[UserForm, Form()],
) -> Response:
    try:
        if action == "delete":
            await users_service.delete_user(session, user_id, actor=principal)
        elif action in ("enable", "disable"):
            await users_service.set_active(session, user_id, action == "enable", actor=principal)
        elif action == "role":
            await users_service.set_role(session, user_id, form.parsed_role(), actor=principal)
        else:
            raise NotFound("No such user action.")
    except PhotoChangerError as exc:
        return await _refused(request, session, exc)
    return see_other(f"/admin/users?done={'deleted' if action == 'delete' else 'updated'}")
