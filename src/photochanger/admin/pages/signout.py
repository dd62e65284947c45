"""`GET /admin/logout` (mounted under `/admin` by `admin.router`): a typed or bookmarked sign-out address
shows a sign-out button (signing out stays a CSRF-checked POST), or the login page when signed out."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from photochanger.admin.deps import get_admin
from photochanger.admin.rendering import render
from photochanger.admin.routing import AdminRoute
from photochanger.auth.dependencies import CodecDep
from photochanger.auth.exceptions import InvalidToken, NotAuthenticated
from photochanger.core.db import SessionDep

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)


@router.get("/logout")
async def logout_page(request: Request, session: SessionDep, codec: CodecDep) -> Response:
    try:
        await get_admin(request, session, codec)
    except (NotAuthenticated, InvalidToken):
        return RedirectResponse("/admin/login", status_code=303)
    return render(request, "logout.html")
