"""The admin's route class: what the JSON API answers as problem+json is rendered as HTML instead (the login
or silent-refresh page for a missing session, an error page for any other domain error)."""

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from photochanger.admin.rendering import error_page, render
from photochanger.auth.dependencies import CSRF_COOKIE
from photochanger.auth.exceptions import InvalidToken, NotAuthenticated, PasswordChangeRequired
from photochanger.core.errors import PhotoChangerError, ValidationFailed


class AdminRoute(APIRoute):
    """Renders what the JSON API answers as problem+json as HTML instead: a missing or expired session
    goes to the login page (or the silent refresh page), any other domain error to an error page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def admin_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except (NotAuthenticated, InvalidToken):
                return signed_out(request)
            except PasswordChangeRequired:
                return RedirectResponse("/admin/account", status_code=303)
            except PhotoChangerError as exc:
                return error_page(request, exc)
            except RequestValidationError:
                return error_page(request, ValidationFailed("The request has invalid fields."))

        return admin_handler

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A GET of a form's POST-only address (the language switch or a reload after a failed post)
        goes to the page the form belongs to instead of a bare 405."""
        if scope["method"] in ("GET", "HEAD") and self.methods and scope["method"] not in self.methods:
            target = _nearest_page(scope.get("app"), scope["path"])
            await RedirectResponse(target, status_code=303)(scope, receive, send)
            return
        await super().handle(scope, receive, send)


def _nearest_page(app: Any, path: str) -> str:
    """The closest ancestor of `path` that some route answers with a GET, else the dashboard."""
    routes = getattr(getattr(app, "router", None), "routes", [])
    candidate = path.rstrip("/")
    while "/" in candidate and candidate != "/admin":
        candidate = candidate.rsplit("/", 1)[0]
        probe: Scope = {"type": "http", "method": "GET", "path": candidate, "root_path": "", "headers": []}
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            return candidate
    return "/admin"


def safe_next(value: str | None) -> str:
    """Only local admin paths are followed after login or a language switch (no open redirect)."""
    if value and value.startswith("/admin") and not value.startswith("//") and "\\" not in value:
        return value
    return "/admin"


def signed_out(request: Request) -> Response:
    """No usable access cookie: GETs with a CSRF cookie left (a session that may still refresh) get a page
    that refreshes through `/api/auth/refresh` and reloads; everything else goes to the login page."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method == "GET" and request.cookies.get(CSRF_COOKIE):
        return render(request, "refresh.html", 401, next=safe_next(target))
    return RedirectResponse(f"/admin/login?next={quote(safe_next(target))}", status_code=303)
