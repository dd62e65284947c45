"""HTTP request metrics by route template (never the raw path, whose ids would explode the label set)."""

import time

from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from photochanger.core.errors import ERROR_CODE_SCOPE_KEY
from photochanger.metrics.registry import Metrics
from photochanger.users.exceptions import InvalidCredentials, TooManyLoginAttempts

UNMATCHED = "unmatched"


def route_template(scope: Scope) -> str:
    route: BaseRoute | None = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    if isinstance(route, Mount):
        return path.rstrip("/") + "/{path}"
    return path or "/"


class HttpMetricsMiddleware:
    """Pure ASGI: counts every HTTP request once its response has started (or the app has crashed: 500)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_recording)
        finally:
            code = scope.get(ERROR_CODE_SCOPE_KEY)
            self.metrics.observe_http(
                scope["method"], route_template(scope), status, time.perf_counter() - started, code
            )
            if code == InvalidCredentials.code:
                self.metrics.login_failures.inc()
            elif code == TooManyLoginAttempts.code:
                self.metrics.login_throttled.inc()
